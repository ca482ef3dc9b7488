// SPDX-License-Identifier: Apache-2.0
/**
 * mmengine / mmdetection hook configs (registry scope `hooks`) as validated settings.
 *
 * The runner implements the behaviour of the default hooks itself (timing, logging, scheduler stepping,
 * checkpoints, non-finite-loss guard, prediction pictures); building a hook config through the registry checks
 * its keys (unknown keys are errors with the file and line) and yields a `HookSettings` record the runner reads.
 * `custom_hooks` entries must build to objects implementing `RunnerHook` (see `runner/hooks.ts`).
 */
import { SoloError, type OptionSpecs } from '@solo-ts/core';

/** A validated hook config: its type and its options (camelCase, defaults applied). */
export interface HookSettings {
  readonly hookType: string;
  readonly [k: string]: unknown;
}

function settingsClass(type: string, description: string, options: OptionSpecs, check?: (o: Record<string, unknown>) => void) {
  return class implements HookSettings {
    static readonly type = type;
    static readonly description = description;
    static readonly options = options;
    readonly hookType = type;
    [k: string]: unknown;
    constructor(o: Record<string, unknown>) {
      check?.(o);
      Object.assign(this, o);
    }
  };
}

const PRIORITY: OptionSpecs = {
  priority: { type: 'any', nullable: true, doc: 'mmengine hook priority (accepted; the default hooks run in a fixed order)' },
};

export const IterTimerHook = settingsClass('IterTimerHook', 'times each iteration and its data loading (time, data_time in the log)', { ...PRIORITY });

export const LoggerHook = settingsClass(
  'LoggerHook',
  'log line every `interval` iterations: epoch, iteration, lr, eta, time, data_time, memory, each loss',
  {
    interval: { type: 'integer', default: 10, doc: 'log every this many iterations' },
    ignore_last: { type: 'boolean', default: true, doc: 'accepted for compatibility (the last iteration of an epoch is always logged)' },
    interval_exp_name: { type: 'integer', default: 1000, doc: 'accepted for compatibility' },
    out_dir: { type: 'string', nullable: true, doc: 'accepted for compatibility (logs go to the work dir)' },
    out_suffix: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    keep_local: { type: 'boolean', default: true, doc: 'accepted for compatibility' },
    file_client_args: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    log_metric_by_epoch: { type: 'boolean', default: true, doc: 'accepted for compatibility' },
    backend_args: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    ...PRIORITY,
  },
  (o) => {
    if (!((o.interval as number) >= 1)) throw new SoloError(`LoggerHook: interval must be >= 1, got ${String(o.interval)}`, { code: 'CONFIG' });
  },
);

export const ParamSchedulerHook = settingsClass('ParamSchedulerHook', 'steps the parameter schedulers (the runner evaluates them in closed form)', { ...PRIORITY });

export const CheckpointHook = settingsClass(
  'CheckpointHook',
  'saves checkpoints every `interval` epochs (or iterations with by_epoch: false), keeps max_keep_ckpts, and the best by save_best',
  {
    interval: { type: 'integer', default: -1, doc: 'save every this many epochs (by_epoch) or iterations; -1 = only at the end' },
    by_epoch: { type: 'boolean', default: true, doc: 'interval counts epochs (true) or iterations (false)' },
    save_optimizer: { type: 'boolean', default: true, doc: 'store the momentum buffers (needed for an exact resume)' },
    save_param_scheduler: { type: 'boolean', default: true, doc: 'accepted (the scheduler position is the runner position)' },
    out_dir: { type: 'string', nullable: true, doc: 'directory for checkpoints (default the work dir)' },
    max_keep_ckpts: { type: 'integer', default: -1, doc: 'keep only the newest N interval checkpoints (-1 = all)' },
    save_last: { type: 'boolean', default: true, doc: 'always save at the end of training' },
    save_best: { type: 'any', nullable: true, doc: "metric key to keep the best checkpoint for (e.g. coco/segm_mAP), or 'auto'" },
    rule: { type: 'string', nullable: true, enum: ['greater', 'less', null], doc: "'greater' or 'less' is better (default: inferred, greater for mAP)" },
    greater_keys: { type: 'array', nullable: true, doc: 'accepted for compatibility' },
    less_keys: { type: 'array', nullable: true, doc: 'accepted for compatibility' },
    file_client_args: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    filename_tmpl: { type: 'string', nullable: true, doc: 'accepted for compatibility (files are epoch_N / iter_N .safetensors)' },
    backend_args: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    published_keys: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    save_begin: { type: 'integer', default: 0, doc: 'first epoch/iteration at which interval checkpoints are saved' },
    ...PRIORITY,
  },
  (o) => {
    const sb = o.saveBest;
    if (sb !== null && sb !== undefined && typeof sb !== 'string' && !(Array.isArray(sb) && sb.every((s) => typeof s === 'string'))) {
      throw new SoloError(`CheckpointHook: save_best must be a metric name, 'auto' or a list of names, got ${JSON.stringify(sb)}`, { code: 'CONFIG' });
    }
  },
);

export const DistSamplerSeedHook = settingsClass('DistSamplerSeedHook', 'sets the sampler epoch (the loader derives its order from (seed, epoch) itself)', { ...PRIORITY });

export const RuntimeInfoHook = settingsClass('RuntimeInfoHook', 'runtime information (accepted for compatibility)', { ...PRIORITY });

export const DetVisualizationHook = settingsClass(
  'DetVisualizationHook',
  'draws predictions during validation/testing (solo test --show-dir writes them)',
  {
    draw: { type: 'boolean', default: false, doc: 'draw predictions of the val/test loop' },
    interval: { type: 'integer', default: 50, doc: 'draw every this many images' },
    score_thr: { type: 'number', default: 0.3, doc: 'draw predictions above this score' },
    show: { type: 'boolean', default: false, doc: 'accepted for compatibility (no windows)' },
    wait_time: { type: 'number', default: 0, doc: 'accepted for compatibility' },
    test_out_dir: { type: 'string', nullable: true, doc: 'directory for the pictures (relative to the work dir)' },
    backend_args: { type: 'any', nullable: true, doc: 'accepted for compatibility' },
    ...PRIORITY,
  },
);

/** What to do when a loss is NaN or infinite. */
export type NanAction = 'stop' | 'rollback';

export const NanGuardHook = settingsClass(
  'NanGuardHook',
  'refuses updates from a non-finite loss: stop with a report naming the iteration and the loss term, or roll back to the last checkpoint and skip the batch',
  {
    action: { type: 'string', default: 'stop', enum: ['stop', 'rollback'], doc: "'stop' (report and exit) or 'rollback' (reload the last checkpoint, skip the batch)" },
    max_rollbacks: { type: 'integer', default: 3, doc: 'rollback: give up (stop) after this many rollbacks in a row' },
    ...PRIORITY,
  },
);

/** mmdetection's `CheckInvalidLossHook`: the same guard (stop on a non-finite loss). */
export const CheckInvalidLossHook = settingsClass('CheckInvalidLossHook', "mmdetection's non-finite loss check (solo-ts checks every iteration and stops)", {
  interval: { type: 'integer', default: 50, doc: 'accepted for compatibility (every iteration is checked)' },
  ...PRIORITY,
});

export const DEFAULT_HOOK_SETTINGS = [
  IterTimerHook,
  LoggerHook,
  ParamSchedulerHook,
  CheckpointHook,
  DistSamplerSeedHook,
  RuntimeInfoHook,
  DetVisualizationHook,
  NanGuardHook,
  CheckInvalidLossHook,
];
