// SPDX-License-Identifier: Apache-2.0
/**
 * Loop configs (registry scope `loops`): `train_cfg`, `val_cfg`, `test_cfg` of an mmengine config.
 * `EpochBasedTrainLoop` settings drive the runner's loop (`max_epochs`, runner/train-loop.ts) and its validation
 * hook (`val_begin`, `val_interval`, components/hooks/loop-hooks.ts); `ValLoop` / `TestLoop` validate their keys.
 * `IterBasedTrainLoop` is recognised and refused with a clear message (the SOLO zoo is epoch based).
 */
import { ConfigError, defineOptions, resolveOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';

/** The options of {@link EpochBasedTrainLoop} (`train_cfg`, mmengine `EpochBasedTrainLoop.__init__`), declared once. */
export const epochBasedTrainLoopOptions = defineOptions({
  max_epochs: { type: 'integer', required: true, doc: 'number of epochs' },
  val_begin: { type: 'integer', default: 1, doc: 'first epoch after which validation runs' },
  val_interval: { type: 'integer', default: 1, doc: 'validate every this many epochs' },
  dynamic_intervals: { type: 'array', nullable: true, doc: 'not supported (must be null)' },
  by_epoch: { type: 'boolean', default: true, doc: 'legacy mmengine key; must be true' },
});

/** What the runner takes from `train_cfg`. */
export type TrainLoopSettings = Pick<ResolvedOptions<typeof epochBasedTrainLoopOptions>, 'maxEpochs' | 'valBegin' | 'valInterval'>;

export class EpochBasedTrainLoop implements TrainLoopSettings {
  static readonly type = 'EpochBasedTrainLoop';
  static readonly description = 'epoch-based training: max_epochs, validation every val_interval epochs from val_begin';
  static readonly options = epochBasedTrainLoopOptions;
  readonly maxEpochs: number;
  readonly valBegin: number;
  readonly valInterval: number;
  constructor(options: OptionsInput<typeof epochBasedTrainLoopOptions>) {
    const o = resolveOptions(epochBasedTrainLoopOptions, options, 'train_cfg');
    if (!(o.maxEpochs >= 1)) throw new ConfigError(`train_cfg.max_epochs must be >= 1, got ${o.maxEpochs}`);
    if (!(o.valInterval >= 1)) throw new ConfigError(`train_cfg.val_interval must be >= 1, got ${o.valInterval}`);
    if (o.dynamicIntervals && o.dynamicIntervals.length) throw new ConfigError('train_cfg.dynamic_intervals is not supported');
    if (o.byEpoch === false) throw new ConfigError('train_cfg.by_epoch: false (iteration-based training) is not supported; use max_epochs (and --max-iters to stop early)');
    this.maxEpochs = o.maxEpochs;
    this.valBegin = o.valBegin;
    this.valInterval = o.valInterval;
  }
}

/** The options of {@link IterBasedTrainLoop} (mmengine `IterBasedTrainLoop.__init__`): recognised, then refused. */
export const iterBasedTrainLoopOptions = defineOptions({
  max_iters: { type: 'integer', doc: 'number of iterations' },
  val_begin: { type: 'integer', doc: 'first validation iteration' },
  val_interval: { type: 'integer', doc: 'validation interval' },
  dynamic_intervals: { type: 'array', nullable: true, doc: 'dynamic intervals' },
});

export class IterBasedTrainLoop {
  static readonly type = 'IterBasedTrainLoop';
  static readonly description = 'iteration-based training (not supported by solo-ts: use EpochBasedTrainLoop)';
  static readonly options = iterBasedTrainLoopOptions;
  constructor(options: OptionsInput<typeof iterBasedTrainLoopOptions> = {}) {
    const o = resolveOptions(iterBasedTrainLoopOptions, options, IterBasedTrainLoop.type);
    throw new ConfigError(`IterBasedTrainLoop is not supported: solo-ts trains by epochs (EpochBasedTrainLoop with max_epochs); \`solo train --max-iters ${o.maxIters ?? 'N'}\` stops after ${o.maxIters ?? 'N'} iterations`);
  }
}

/** The options of {@link ValLoop} and {@link TestLoop} (`val_cfg`, `test_cfg`), declared once. */
export const evalLoopOptions = defineOptions({
  fp16: { type: 'boolean', default: false, doc: 'half precision (not supported: must be false)' },
});

export class ValLoop {
  static readonly type = 'ValLoop';
  static readonly description = 'validation loop over val_dataloader with val_evaluator';
  static readonly options = evalLoopOptions;
  constructor(options: OptionsInput<typeof evalLoopOptions> = {}) {
    if (resolveOptions(evalLoopOptions, options, 'val_cfg').fp16) throw new ConfigError('val_cfg.fp16 is not supported (float32 only)');
  }
}

export class TestLoop {
  static readonly type = 'TestLoop';
  static readonly description = 'test loop over test_dataloader with test_evaluator';
  static readonly options = evalLoopOptions;
  constructor(options: OptionsInput<typeof evalLoopOptions> = {}) {
    if (resolveOptions(evalLoopOptions, options, 'test_cfg').fp16) throw new ConfigError('test_cfg.fp16 is not supported (float32 only)');
  }
}
