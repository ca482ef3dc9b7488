// SPDX-License-Identifier: Apache-2.0
/**
 * The non-finite-loss guard. The step itself refuses to update the weights from a NaN/Inf loss (the total loss
 * is read back before the optimizer runs) and hands the error to `afterTrainIter` as `outputs.nonFinite`; the
 * guard hook decides: stop (rethrow, with the iteration and the offending terms) or roll back to the last
 * checkpoint and skip the batch. Without a guard hook the loop stops with the error as well.
 * `CheckInvalidLossHook` is mmdetection's name for the stopping guard.
 */
import { defineOptions, resolveOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import type { Hook, HookPriority, TrainIterOutputs } from '../../runner/hooks.js';
import type { Runner } from '../../runner/runner.js';
import { priorityOption, resolvePriority } from './options.js';

/** What to do when a loss is NaN or infinite. */
export type NanAction = 'stop' | 'rollback';

/**
 * The guard itself (not registered): both registered guard hooks are instances of it, and a custom one replaces
 * the default `nan_guard` (see `buildHooks`).
 */
export class NonFiniteLossGuard implements Hook {
  private rollbacks = 0;
  constructor(
    readonly action: NanAction,
    readonly maxRollbacks: number,
    readonly priority: HookPriority,
  ) {}

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

/** The options of {@link NanGuardHook}, declared once. */
export const nanGuardHookOptions = defineOptions({
  action: { type: 'string', default: 'stop', enum: ['stop', 'rollback'], doc: "'stop' (report and exit) or 'rollback' (reload the last checkpoint, skip the batch)" },
  max_rollbacks: { type: 'integer', default: 3, doc: 'rollback: give up (stop) after this many rollbacks in a row' },
  priority: priorityOption('VERY_HIGH'),
});
export type NanGuardHookOptions = ResolvedOptions<typeof nanGuardHookOptions>;

/** solo-ts's guard (the default `nan_guard`): stop, or roll back to the last checkpoint and skip the batch. */
export class NanGuardHook extends NonFiniteLossGuard {
  static readonly type = 'NanGuardHook';
  static readonly description = 'refuses updates from a non-finite loss: stop with a report naming the iteration and the loss term, or roll back to the last checkpoint and skip the batch';
  static readonly options = nanGuardHookOptions;
  constructor(options: OptionsInput<typeof nanGuardHookOptions> = {}) {
    const o = resolveOptions(nanGuardHookOptions, options, NanGuardHook.type);
    super(o.action, o.maxRollbacks, resolvePriority(NanGuardHook, o.priority));
  }
}

/** The options of {@link CheckInvalidLossHook} (mmdet `CheckInvalidLossHook.__init__`), declared once. */
export const checkInvalidLossHookOptions = defineOptions({
  interval: { type: 'integer', default: 50, doc: 'mmdetection checks every `interval` iterations; solo-ts checks every iteration (before the update), which covers any interval' },
  priority: priorityOption('VERY_HIGH'),
});

/** mmdetection's `CheckInvalidLossHook`: the stopping guard (every iteration is checked, before the update). */
export class CheckInvalidLossHook extends NonFiniteLossGuard {
  static readonly type = 'CheckInvalidLossHook';
  static readonly description = "mmdetection's non-finite loss check: solo-ts checks every iteration before the update and stops";
  static readonly options = checkInvalidLossHookOptions;
  constructor(options: OptionsInput<typeof checkInvalidLossHookOptions> = {}) {
    const o = resolveOptions(checkInvalidLossHookOptions, options, CheckInvalidLossHook.type);
    super('stop', 0, resolvePriority(CheckInvalidLossHook, o.priority)); // stops: no rollbacks
  }
}
