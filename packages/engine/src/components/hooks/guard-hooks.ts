// SPDX-License-Identifier: Apache-2.0
/**
 * The non-finite-loss guard. The step itself refuses to update the weights from a NaN/Inf loss (the total loss
 * is read back before the optimizer runs) and hands the error to `afterTrainIter` as `outputs.nonFinite`; the
 * guard hook decides: stop (rethrow, with the iteration and the offending terms) or roll back to the last
 * checkpoint and skip the batch. Without a guard hook the loop stops with the error as well.
 * `CheckInvalidLossHook` is mmdetection's name for the stopping guard.
 */
import type { OptionSpecs } from '@solo-ts/core';
import type { Hook, HookPriority, TrainIterOutputs } from '../../runner/hooks.js';
import type { Runner } from '../../runner/runner.js';
import { PRIORITY_OPTION, resolvePriority } from './options.js';

/** What to do when a loss is NaN or infinite. */
export type NanAction = 'stop' | 'rollback';

export class NanGuardHook implements Hook {
  static readonly type: string = 'NanGuardHook';
  static readonly description: string = 'refuses updates from a non-finite loss: stop with a report naming the iteration and the loss term, or roll back to the last checkpoint and skip the batch';
  static readonly options: OptionSpecs = {
    action: { type: 'string', default: 'stop', enum: ['stop', 'rollback'], doc: "'stop' (report and exit) or 'rollback' (reload the last checkpoint, skip the batch)" },
    max_rollbacks: { type: 'integer', default: 3, doc: 'rollback: give up (stop) after this many rollbacks in a row' },
    ...PRIORITY_OPTION,
  };
  readonly priority: HookPriority;
  readonly action: NanAction;
  readonly maxRollbacks: number;
  private rollbacks = 0;

  constructor(o: { action?: NanAction; maxRollbacks?: number; priority?: unknown } = {}) {
    this.action = o.action ?? 'stop';
    this.maxRollbacks = o.maxRollbacks ?? 3;
    this.priority = resolvePriority(NanGuardHook.type, o.priority, 'VERY_HIGH');
  }

  async afterTrainIter(runner: Runner, _batchIdx: number, _batch: unknown, outputs: TrainIterOutputs): Promise<void> {
    const e = outputs.nonFinite;
    if (!e) {
      this.rollbacks = 0;
      return;
    }
    if (outputs.recovered) return;
    const last = runner.lastCheckpoint;
    if (this.action !== 'rollback' || !last || this.rollbacks >= this.maxRollbacks) {
      if (this.action === 'rollback') runner.log(last ? `giving up after ${this.rollbacks} rollbacks in a row` : 'no checkpoint to roll back to');
      throw e;
    }
    this.rollbacks++;
    runner.log(`${e.message}; rolling back to ${last} and skipping this batch`);
    await runner.rollback(last);
    outputs.recovered = true;
  }
}

/** mmdetection's `CheckInvalidLossHook`: the stopping guard (every iteration is checked, before the update). */
export class CheckInvalidLossHook extends NanGuardHook {
  static override readonly type: string = 'CheckInvalidLossHook';
  static override readonly description: string = "mmdetection's non-finite loss check: solo-ts checks every iteration before the update and stops";
  static override readonly options: OptionSpecs = {
    interval: { type: 'integer', default: 50, doc: 'mmdetection checks every `interval` iterations; solo-ts checks every iteration (before the update), which covers any interval' },
    ...PRIORITY_OPTION,
  };
  constructor(o: { priority?: unknown } = {}) {
    super({ action: 'stop', priority: resolvePriority(CheckInvalidLossHook.type, o.priority, 'VERY_HIGH') });
  }
}
