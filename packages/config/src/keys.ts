// SPDX-License-Identifier: Apache-2.0
/**
 * The top-level keys a config may have.
 *
 * These are the names mmdetection 3.x configs use at the top level (runtime, data, model, schedule, plus the
 * variables its configs commonly define and reuse). Keys starting with `_` are private helpers (YAML anchors
 * to reuse, `_base_`) and always allowed. Options *inside* components (`model.backbone.depth`) are checked by
 * the registry when it builds the component, not here.
 */
import { ConfigError, closestNames, locationOf } from '@solo-ts/core';
import type { ConfigMap } from './merge.js';

export const KNOWN_TOP_LEVEL_KEYS: readonly string[] = [
  // model
  'model',
  'data_preprocessor',
  'tta_model',
  'model_wrapper_cfg',
  'norm_cfg',
  'pretrained',
  'checkpoint',
  'num_classes',
  // data
  'dataset_type',
  'data_root',
  'backend_args',
  'metainfo',
  'classes',
  'img_scale',
  'img_scales',
  'image_size',
  'batch_augments',
  'train_pipeline',
  'val_pipeline',
  'test_pipeline',
  'tta_pipeline',
  'train_dataset',
  'val_dataset',
  'test_dataset',
  'train_dataloader',
  'val_dataloader',
  'test_dataloader',
  'val_evaluator',
  'test_evaluator',
  // schedule
  'train_cfg',
  'val_cfg',
  'test_cfg',
  'optim_wrapper',
  'param_scheduler',
  'auto_scale_lr',
  'max_epochs',
  'max_iters',
  'base_lr',
  'interval',
  // runtime
  'default_scope',
  'default_hooks',
  'custom_hooks',
  'env_cfg',
  'log_processor',
  'log_level',
  'load_from',
  'resume',
  'work_dir',
  'visualizer',
  'vis_backends',
  'randomness',
  'launcher',
  'experiment_name',
  'custom_imports',
  'plugins',
];

/** mmdetection 2.x top-level keys and where their settings live in a 3.x config. */
export const LEGACY_KEYS: Readonly<Record<string, string>> = {
  data: '`train_dataloader`, `val_dataloader` and `test_dataloader`',
  optimizer: '`optim_wrapper.optimizer`',
  optimizer_config: '`optim_wrapper` (e.g. `optim_wrapper.clip_grad`)',
  lr_config: '`param_scheduler`',
  runner: '`train_cfg` (e.g. `{type: EpochBasedTrainLoop, max_epochs: 12}`)',
  checkpoint_config: '`default_hooks.checkpoint`',
  log_config: '`default_hooks.logger` and `log_processor`',
  evaluation: '`val_evaluator` and `train_cfg.val_interval`',
  workflow: '`train_cfg` (validation runs every `train_cfg.val_interval` epochs)',
  dist_params: '`env_cfg.dist_cfg`',
  opencv_num_threads: '`env_cfg`',
  mp_start_method: '`env_cfg.mp_cfg`',
  fp16: '`optim_wrapper: {type: AmpOptimWrapper}`',
};

/**
 * Throw a `ConfigError` for the first top-level key that is neither known nor private, with the file and
 * line that set it and the closest known key (or the 3.x replacement of a 2.x key).
 */
export function validateTopLevelKeys(data: ConfigMap, extraKeys: Iterable<string> = []): void {
  const known = new Set([...KNOWN_TOP_LEVEL_KEYS, ...extraKeys]);
  for (const key of Object.keys(data)) {
    if (key.startsWith('_') || known.has(key)) continue;
    const location = locationOf(data, key);
    const legacy = LEGACY_KEYS[key];
    if (legacy) {
      throw new ConfigError(`\`${key}\` is an mmdetection 2.x key; solo-ts uses mmdetection 3.x configs`, {
        location,
        hint: `use ${legacy} instead`,
      });
    }
    const near = closestNames(key, known);
    throw new ConfigError(`unknown top-level key \`${key}\``, {
      location,
      hint: near.length
        ? `did you mean ${near.map((n) => `\`${n}\``).join(' or ')}? (prefix private helper keys with \`_\`)`
        : 'prefix private helper keys (YAML anchors) with `_`',
    });
  }
}
