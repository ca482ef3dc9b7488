// SPDX-License-Identifier: Apache-2.0
/**
 * The contracts components implement. Heads receive "a Loss" and "an Assigner" built from config; they never
 * import a concrete sibling class. Shapes are NHWC.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from './module.js';
import type { DetDataSample, FeatureSpec, InstanceData } from './structures.js';

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

/** Mask heads (SOLO family and plugins). */
export interface MaskHead extends Module {
  /** Raw outputs (training or eval form depending on `training`). Caller owns the tensors. */
  forward(feats: tf.Tensor4D[]): unknown;
  /** Loss terms by name (`loss_mask`, `loss_cls`, ...). */
  loss(feats: tf.Tensor4D[], samples: DetDataSample[]): Record<string, tf.Scalar>;
  /** Predictions at the original image size, one InstanceData per image. */
  predict(feats: tf.Tensor4D[], samples: DetDataSample[]): Promise<InstanceData[]>;
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
