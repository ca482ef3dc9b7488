// SPDX-License-Identifier: Apache-2.0
/**
 * The contracts components implement. Heads receive "a Loss" and "an Assigner" built from config; they never
 * import a concrete sibling class. Shapes are NHWC.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from './module.js';
import type { ArrayTensor, BitmapMasks, DetDataSample, DetMeta, FeatureSpec, InstanceData } from './structures.js';

export interface Backbone extends Module {
  /** Feature maps of the selected stages (`out_indices`), finest first. Caller owns them. */
  forward(x: tf.Tensor4D): tf.Tensor4D[];
  readonly outFeatures: FeatureSpec[];
}

export interface Neck extends Module {
  forward(feats: tf.Tensor4D[]): tf.Tensor4D[];
  readonly outFeatures: FeatureSpec[];
}

/** Losses follow mmdetection's contract: element-wise weight, reduction none|mean|sum, avg_factor. */
export interface LossCallOptions {
  weight?: tf.Tensor;
  avgFactor?: number | tf.Scalar;
  reductionOverride?: 'none' | 'mean' | 'sum';
}
export interface Loss {
  readonly lossWeight: number;
  forward(pred: tf.Tensor, target: tf.Tensor, options?: LossCallOptions): tf.Tensor;
}

/**
 * Raw outputs of a mask head's forward in test mode as plain arrays (mmdet `forward` outputs, NCHW), by name:
 * per-level lists (`mlvlClsPreds`, ...) or single maps (`maskFeats`). Each head documents its names and shapes.
 */
export type MaskHeadRawOutputs = Readonly<Record<string, ArrayTensor | readonly ArrayTensor[]>>;

/** Mask heads (SOLO family and plugins): mmdetection's `BaseMaskHead` interface. */
export interface MaskHead extends Module {
  /** Raw outputs (training or eval form depending on `training`). Caller owns the tensors. */
  forward(feats: tf.Tensor4D[]): unknown;
  /** Loss terms by name (`loss_mask`, `loss_cls`, ...). */
  loss(feats: tf.Tensor4D[], samples: DetDataSample[]): Record<string, tf.Scalar>;
  /** Predictions at the original image size, one InstanceData per image (forward + post-processing). */
  predict(feats: tf.Tensor4D[], samples: DetDataSample[]): Promise<InstanceData[]>;
  /**
   * mmdet `predict_by_feat`: the post-processing alone, on eval-mode forward outputs given as plain NCHW arrays
   * (whoever computed them: this head read back, or another runtime), one InstanceData per image of `batchImgMetas`.
   * `cfg` overrides entries of the head's test config.
   */
  predictByFeat(outputs: MaskHeadRawOutputs, batchImgMetas: DetMeta[], cfg?: Partial<SoloTestCfg>): Promise<InstanceData[]>;
}

/** A metric in mmengine's shape: process batches, then compute. */
export interface Metric {
  process(samples: DetDataSample[]): void | Promise<void>;
  computeMetrics(): Record<string, number> | Promise<Record<string, number>>;
  reset?(): void;
}

/** A data transform (one sample in, one sample out; `null` drops it). */
export interface Transform<I = Record<string, unknown>, O = I> {
  transform(results: I, rng?: RandomSource): O | null | Promise<O | null>;
}

/** Seeded randomness handed to transforms and samplers. */
export interface RandomSource {
  /** uniform [0, 1) */
  random(): number;
  /** integer in [0, n) */
  randint(n: number): number;
}

// ---------------------------------------------------------------------------------------------------------
// SOLO-family collaborators (implemented in @solo-ts/assigners and @solo-ts/postprocess, used by heads).

/** Ground truth of one image, in padded-input pixel space (mmdet's `BaseMaskHead.loss` pads masks to it). */
export interface GridAssignInput {
  /** (n*4) xyxy annotation boxes (scaled, clipped). */
  gtBboxes: Float32Array;
  /** (n) 0-based labels. */
  gtLabels: Int32Array;
  /** n masks at the padded input size (batch_input_shape). */
  gtMasks: BitmapMasks;
  /**
   * Spatial size of the mask predictions the targets are for: one [h, w] per level (SOLO / decoupled: the
   * training-mode mask output of each level), or a single [h, w] shared by all levels (SOLOv2: mask_feats).
   */
  featmapSizes: Array<[number, number]>;
}

/** Targets of one level for one image. */
export interface GridLevelTargets {
  /** (G*G) class index per cell, row-major; background = numClasses. */
  labels: Int32Array;
  /** (G*G) 1 where the cell is positive. */
  posMask: Uint8Array;
  /**
   * Mask targets of the positives, in mmdetection's order: SOLO / decoupled = ascending cell index (one per
   * positive cell, last gt wins); SOLOv2 = per (gt, cell) pair in gt order then row-major (duplicates kept).
   * Size = the level's featmap size.
   */
  maskTargets: BitmapMasks;
  /** (P) flattened cell index of each mask target, same order as `maskTargets`. */
  posIndex: Int32Array;
}

export interface GridAssigner {
  readonly numGrids: number[];
  assign(input: GridAssignInput): GridLevelTargets[];
}

/** Test-time settings (mmdetection `test_cfg`). */
export interface SoloTestCfg {
  nmsPre: number;
  scoreThr: number;
  maskThr: number;
  filterThr: number;
  kernel: 'gaussian' | 'linear';
  sigma: number;
  maxPerImg: number;
}

/** Candidates of one image after the score threshold (head's part of mmdet `_predict_by_feat_single`). */
export interface MaskCandidates {
  /** (n, h4, w4) mask probabilities at the H/4 padded resolution. Consumed (disposed) by the post-processor. */
  maskProbs: import('@tensorflow/tfjs-core').Tensor3D;
  /** (n) class scores of the candidates. */
  clsScores: Float32Array;
  /** (n) labels. */
  labels: Int32Array;
  /** (n) stride of the level each candidate came from. */
  strides: Float32Array;
}

/**
 * SOLO post-processing (the rest of mmdet's `_predict_by_feat_single`): binarise, area > stride filter, maskness,
 * Matrix NMS, resize probabilities to the padded size, crop to img_shape, resize to ori_shape, threshold; plus
 * boxes from masks.
 */
export interface MaskPostProcessor {
  process(candidates: MaskCandidates, meta: DetMeta, cfg: SoloTestCfg): Promise<InstanceData>;
}
