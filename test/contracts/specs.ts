// SPDX-License-Identifier: Apache-2.0
/**
 * Contract specs of solo-ts's own components (`scope:key` -> spec), used by the registry sweep in
 * `registry.test.ts`. A spec gives a small buildable config and, where the built instance is not enough to tell,
 * the kind. Plugins declare the same thing as a static `contract` field on the class (see docs/plugins.md).
 *
 * Sizes are tiny on purpose (the whole sweep runs in well under a minute on one CPU core): 8 channels,
 * GN with 4 groups, small grids, and scale ranges that overlap so one ground-truth instance is positive on every
 * level (then every level's parameters receive a gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DefaultSampler } from '@solo-ts/datasets';
import type { ContractSpec } from '@solo-ts/testing';

const GN = { type: 'GN', num_groups: 4, requires_grad: true };
const WIDE_RANGES = [
  [1, 256],
  [1, 256],
  [1, 256],
  [1, 256],
  [1, 256],
];

/** Options shared by the tiny SOLO-family heads. */
export const TINY_HEAD = {
  num_classes: 3,
  in_channels: 8,
  feat_channels: 8,
  stacked_convs: 2,
  num_grids: [8, 6, 5, 4, 3],
  strides: [8, 8, 16, 32, 32],
  scale_ranges: WIDE_RANGES,
  norm_cfg: GN,
};

export const TINY_SOLOV2_HEAD = {
  ...TINY_HEAD,
  mask_feature_head: { feat_channels: 8, start_level: 0, end_level: 3, out_channels: 8, mask_stride: 4, norm_cfg: GN },
};

/**
 * A tiny ResNet-18 (8 base channels). `zero_init_residual: false`: with the default (true) the last norm of each
 * block starts at 0, so nothing inside a residual branch gets a gradient on the first step (as in PyTorch).
 */
export const TINY_BACKBONE = { depth: 18, base_channels: 8, out_indices: [0, 1, 2, 3], frozen_stages: -1, norm_eval: false, zero_init_residual: false };

export const TINY_NECK = { in_channels: [8, 16, 32, 64], out_channels: 8, start_level: 0, num_outs: 5 };

/** A whole tiny detector (backbone -> FPN -> head); the head's in_channels come from the neck. */
function tinyDetector(head: Record<string, unknown>, headType: string): Record<string, unknown> {
  const { in_channels: _unused, ...rest } = head;
  return {
    data_preprocessor: { type: 'DetDataPreprocessor', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_mask: true, pad_size_divisor: 32 },
    backbone: { type: 'ResNet', ...TINY_BACKBONE },
    neck: { type: 'FPN', in_channels: [8, 16, 32, 64], out_channels: 8, start_level: 0, num_outs: 5 },
    mask_head: { type: headType, ...rest },
  };
}

/** SOLO's mask convs start with a 0.01 prior (no pixel passes mask_thr): a wider init gives predictions to check. */
const WIDE_INIT = { predictOverrides: { some: { init_cfg: [{ type: 'Normal', layer: 'Conv2d', std: 0.5 }] } } };

/** Inputs of FocalLoss: logits [n, C] and labels in [0, C] (C = background). */
function focalInputs(n: number): { pred: tf.Tensor; target: tf.Tensor } {
  const pred = tf.randomNormal([n, 4], 0, 1.5, 'float32', 5);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 3) % 5);
  return { pred, target: tf.tensor1d(labels, 'int32') };
}

/** Inputs of DiceLoss: mask logits [n, h, w] and 0/1 targets. */
function diceInputs(n: number): { pred: tf.Tensor; target: tf.Tensor } {
  const pred = tf.randomNormal([n, 6, 5], 0, 2, 'float32', 6);
  const target = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([n, 6, 5], 0, 1, 'float32', 7), 0.5), 'float32'));
  return { pred, target };
}

/** What a sampler needs of a dataset: its length and image sizes. */
const TINY_DATASET = { length: 4, getDataInfo: (i: number) => ({ width: 32 + 8 * i, height: 32 }) };

export const PROJECT_SPECS: Record<string, ContractSpec> = {
  // models
  'models:ResNet': { kind: 'backbone', config: TINY_BACKBONE },
  'models:ResNeXt': { kind: 'backbone', config: { ...TINY_BACKBONE, depth: 50, groups: 2, base_width: 4 } },
  'models:FPN': { kind: 'neck', config: TINY_NECK },
  'models:SOLOHead': { kind: 'mask_head', config: TINY_HEAD, maskHead: WIDE_INIT },
  'models:DecoupledSOLOHead': { kind: 'mask_head', config: TINY_HEAD, maskHead: WIDE_INIT },
  'models:DecoupledSOLOLightHead': { kind: 'mask_head', config: TINY_HEAD, maskHead: WIDE_INIT },
  'models:SOLOV2Head': { kind: 'mask_head', config: TINY_SOLOV2_HEAD },
  'models:DiceLoss': { kind: 'loss', config: {}, loss: { inputs: diceInputs } },
  'models:FocalLoss': { kind: 'loss', config: {}, loss: { inputs: focalInputs } },
  'models:SOLO': { kind: 'detector', config: tinyDetector(TINY_HEAD, 'SOLOHead') },
  'models:SOLOv2': { kind: 'detector', config: tinyDetector(TINY_SOLOV2_HEAD, 'SOLOV2Head') },
  'models:SingleStageInstanceSegmentor': { kind: 'detector', config: tinyDetector(TINY_SOLOV2_HEAD, 'SOLOV2Head') },
  'models:DetDataPreprocessor': { kind: 'config', config: {} },
  // other scopes: option checks with a buildable example
  'task_utils:SOLOGridAssigner': { config: { num_classes: 3 } },
  'datasets:CocoDataset': { config: { ann_file: 'annotations/instances.json', lazy_init: true } },
  'data_samplers:DefaultSampler': { config: {}, extra: { dataset: TINY_DATASET } },
  'data_samplers:AspectRatioBatchSampler': { config: { batch_size: 2 }, extra: { sampler: new DefaultSampler({ dataset: TINY_DATASET }) } },
  'transforms:Resize': { config: { scale: [64, 48], keep_ratio: true } },
  'transforms:RandomChoiceResize': { config: { scales: [[64, 48], [48, 32]] } },
  'transforms:RandomFlip': { config: { prob: 0.5 } },
  'optimizers:SGD': { config: { lr: 0.01 } },
  'optim_wrappers:OptimWrapper': { config: { optimizer: { type: 'SGD', lr: 0.01 } } },
  'schedulers:MultiStepLR': { config: { milestones: [8, 11] } },
  'schedulers:StepLR': { config: { step_size: 2 } },
  'loops:EpochBasedTrainLoop': { config: { max_epochs: 1 } },
  'loops:IterBasedTrainLoop': { skipBuild: 'rejected on purpose: solo-ts trains by epochs (solo train --max-iters stops early)' },
};
