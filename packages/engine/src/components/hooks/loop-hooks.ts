// SPDX-License-Identifier: Apache-2.0
/**
 * Hooks the run builds itself (not config components): validation at the epochs `train_cfg` asks for (mmengine's
 * loop does this after `after_train_epoch`; here it is a hook of priority LOW, so that it runs after the custom
 * hooks and before the checkpoint hook, which saves the best checkpoint and then the epoch's), and the progress
 * bar of each epoch on a terminal.
 */
import { createProgress } from '@solo-ts/core';
import type { Hook, HookPriority, TrainIterOutputs } from '../../runner/hooks.js';
import { fmtNum } from '../../runner/format.js';
import type { Runner } from '../../runner/runner.js';

export interface ValidationSchedule {
  /** validation runs after epochs >= valBegin */
  valBegin: number;
  /** every this many epochs */
  valInterval: number;
}

/**
 * Validates after epoch N when N >= val_begin and N is a multiple of val_interval, after the last epoch, and when
 * training stops early by `max_iters` / `max_seconds` (not on a signal).
 */
export class ValidationHook implements Hook {
  readonly priority: HookPriority = 'LOW';
  constructor(readonly schedule: ValidationSchedule) {}

  async afterTrainEpoch(runner: Runner): Promise<void> {
    const e = runner.epoch;
    const { valBegin, valInterval } = this.schedule;
    if (runner.canValidate && ((e >= valBegin && e % valInterval === 0) || e >= runner.maxEpochs)) await runner.val();
  }

  async afterTrain(runner: Runner): Promise<void> {
    const s = runner.stoppedBy;
    if (runner.canValidate && (s === 'max_iters' || s === 'max_seconds')) await runner.val();
  }
}

/** A progress bar per epoch on stderr when it is a terminal (mmengine shows one for validation only). */
export class ProgressBarHook implements Hook {
  readonly priority: HookPriority = 'ABOVE_NORMAL';
  constructor(private readonly enabled = true) {}

  beforeTrainEpoch(runner: Runner): void {
    if (!this.enabled || !process.stderr.isTTY) return;
    runner.bar = createProgress({ write: (t) => process.stderr.write(t), isTTY: true, total: runner.itersPerEpoch, label: `epoch ${runner.epoch + 1}/${runner.maxEpochs}`, columns: process.stderr.columns ?? 80 });
    runner.bar.update(runner.innerIter);
  }

  afterTrainIter(runner: Runner, _batchIdx: number, _batch: unknown, outputs: TrainIterOutputs): void {
    if (!outputs.nonFinite) runner.bar?.update(runner.innerIter, `loss ${fmtNum(outputs.losses.loss)}`);
  }

  afterTrainEpoch(runner: Runner): void {
    this.finish(runner);
  }

  afterTrain(runner: Runner): void {
    this.finish(runner);
  }

  afterRun(runner: Runner): void {
    this.finish(runner);
  }

  private finish(runner: Runner): void {
    runner.bar?.finish();
    runner.bar = null;
  }
}
