// SPDX-License-Identifier: Apache-2.0
/**
 * Small default hooks (registry scope `hooks`): mmengine's `RuntimeInfoHook`, `IterTimerHook`,
 * `DistSamplerSeedHook`, `ParamSchedulerHook`, and mmdetection's `DetVisualizationHook`.
 */
import { defineOptions, resolveOptions, type OptionsInput } from '@solo-ts/core';
import { lrAt } from '../../optim/schedulers.js';
import type { Hook, HookPriority } from '../../runner/hooks.js';
import type { Runner } from '../../runner/runner.js';
import { PriorityOnlyHook, priorityOption, requireValue, resolvePriority } from './options.js';

/** The options of {@link RuntimeInfoHook}, declared once. */
export const runtimeInfoHookOptions = defineOptions({ priority: priorityOption('VERY_HIGH') });
/** The options of {@link IterTimerHook}, declared once. */
export const iterTimerHookOptions = defineOptions({ priority: priorityOption('NORMAL') });
/** The options of {@link DistSamplerSeedHook}, declared once. */
export const distSamplerSeedHookOptions = defineOptions({ priority: priorityOption('NORMAL') });
/** The options of {@link ParamSchedulerHook}, declared once. */
export const paramSchedulerHookOptions = defineOptions({ priority: priorityOption('LOW') });

/** Publishes the run's position and learning rate in the message hub (`epoch`, `iter`, `lr`) before each iteration. */
export class RuntimeInfoHook extends PriorityOnlyHook implements Hook {
  static readonly type = 'RuntimeInfoHook';
  static readonly description = 'publishes epoch, iteration and learning rate to the other hooks (message hub)';
  static readonly options = runtimeInfoHookOptions;
  beforeTrainIter(runner: Runner): void {
    runner.messageHub.set('epoch', runner.epoch);
    runner.messageHub.set('iter', runner.iter);
  }
  afterTrainIter(runner: Runner): void {
    runner.messageHub.set('lr', runner.optimizer.lr);
  }
}

/**
 * Times each iteration (mmengine's `IterTimerHook`): `data_time` is the wait for the batch (from the end of the
 * previous iteration's hooks up to here, or from the start of the epoch), `time` the data time plus the step.
 * Published in the message hub for the logger.
 */
export class IterTimerHook extends PriorityOnlyHook implements Hook {
  static readonly type = 'IterTimerHook';
  static readonly description = 'times each iteration and its data loading (time, data_time in the log)';
  static readonly options = iterTimerHookOptions;
  private tData = 0;
  private tStep = 0;
  private dataTime = 0;
  beforeTrainEpoch(): void {
    this.tData = performance.now();
  }
  beforeTrainIter(runner: Runner): void {
    this.tStep = performance.now();
    this.dataTime = (this.tStep - this.tData) / 1000;
    runner.messageHub.set('data_time', this.dataTime);
  }
  afterTrainIter(runner: Runner): void {
    runner.messageHub.set('time', (performance.now() - this.tStep) / 1000 + this.dataTime);
    this.tData = performance.now();
  }
}

/** The loader derives its order from (seed, epoch) itself: the hook only states it (mmengine's `DistSamplerSeedHook`). */
export class DistSamplerSeedHook extends PriorityOnlyHook implements Hook {
  static readonly type = 'DistSamplerSeedHook';
  static readonly description = 'sets the sampler epoch (the loader derives its order from (seed, epoch) itself, so there is nothing to set)';
  static readonly options = distSamplerSeedHookOptions;
}

/**
 * Sets the learning rate of each iteration from the parameter schedulers (mmengine's `ParamSchedulerHook`; the
 * schedulers are evaluated in closed form of the position, so a resumed run continues the schedule exactly).
 */
export class ParamSchedulerHook extends PriorityOnlyHook implements Hook {
  static readonly type = 'ParamSchedulerHook';
  static readonly description = 'sets the learning rate of each iteration from param_scheduler (closed form of the position)';
  static readonly options = paramSchedulerHookOptions;
  beforeTrainIter(runner: Runner): void {
    const opt = runner.optimizer;
    opt.setLr(lrAt(runner.schedulers, opt.baseLr, { epoch: runner.epoch, iter: runner.iter, itersPerEpoch: runner.itersPerEpoch }));
  }
}

/** The options of {@link DetVisualizationHook} (mmdet `DetVisualizationHook.__init__`), declared once. */
export const detVisualizationHookOptions = defineOptions({
  draw: { type: 'boolean', default: false, doc: 'must be false: drawing during training is not implemented (solo test --show-dir draws)' },
  interval: { type: 'integer', default: 50, doc: 'draw every this many images (only with draw: true)' },
  score_thr: { type: 'number', default: 0.3, doc: 'draw predictions above this score (only with draw: true)' },
  show: { type: 'boolean', default: false, doc: 'must be false (no windows)' },
  wait_time: { type: 'number', default: 0, doc: 'seconds a shown window waits (only with show: true)' },
  test_out_dir: { type: 'string', nullable: true, doc: 'directory for test pictures (only with draw: true)' },
  backend_args: { type: 'any', nullable: true, doc: 'must be null (local files only)' },
  priority: priorityOption('NORMAL'),
});

/**
 * mmdetection's `DetVisualizationHook`. Drawing during training is not implemented (`solo test --show-dir` draws
 * the predictions of a checkpoint), so `draw: true` and `show: true` are refused; the other keys only matter then.
 */
export class DetVisualizationHook implements Hook {
  static readonly type = 'DetVisualizationHook';
  static readonly description = 'draws predictions during validation/testing: not during training (use solo test --show-dir); draw/show must stay false';
  static readonly options = detVisualizationHookOptions;
  readonly priority: HookPriority;
  constructor(options: OptionsInput<typeof detVisualizationHookOptions> = {}) {
    const t = DetVisualizationHook.type;
    const o = resolveOptions(detVisualizationHookOptions, options, t);
    requireValue(t, 'draw', o.draw, false, 'drawing during training is not implemented; `solo test --show-dir DIR` draws the predictions of a checkpoint');
    requireValue(t, 'show', o.show, false, 'there are no windows; `solo infer --show FILE` writes a picture');
    requireValue(t, 'backend_args', o.backendArgs, null, 'local files only');
    this.priority = resolvePriority(DetVisualizationHook, o.priority);
  }
}
