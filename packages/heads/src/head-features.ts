// SPDX-License-Identifier: Apache-2.0
/**
 * What a SOLO-family head hands to the loops of {@link BaseMaskHead} (base-mask-head.ts): its training-mode features
 * (`LossFeatures`) and where the prediction steps read candidates from (`CandidateSource`), with the candidate
 * selection after `score_thr` and the one-hot gather the heads use.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GridLevelTargets } from '@solo-ts/core';

/** What the loss loop needs from a head's training-mode forward of one batch (tensors live in the loss's tidy). */
export interface LossFeatures {
  /** Per level `[B, G, G, C]` class logits. */
  clsPreds: tf.Tensor4D[];
  /** Spatial sizes the assigner builds mask targets for (one per level, or one shared: SOLOv2). */
  featmapSizes: Array<[number, number]>;
  /** Mask outputs a zero mask loss stays connected to when there is no positive (mmdet's `sum() * 0`). */
  maskOutputs: tf.Tensor[];
  /** Mask predictions `[P, h, w]` of image `b` at level `l` for the positives of `targets`, in their order. */
  positivePreds(l: number, b: number, targets: GridLevelTargets): tf.Tensor3D;
}

/** Where the per-image prediction steps take their inputs from: tfjs tensors or plain arrays. */
export interface CandidateSource {
  /** Eval class scores (sigmoid, point NMS) of every image as a flat `[cells, C]` array, levels concatenated. */
  scores(): Promise<Float32Array[]>;
  /** Mask probabilities `[n, H/4, W/4]` of image `b` for flat cell indices `cells` (run inside a tidy). */
  maskProbs(b: number, cells: Int32Array): tf.Tensor3D;
  /** Release what the source holds. */
  dispose(): void;
}

/** Candidates of one image after `score_thr`: (cell, class) pairs in row-major order of the (cells x C) matrix. */
export interface ScoreCandidates {
  cells: Int32Array;
  labels: Int32Array;
  scores: Float32Array;
}

/** mmdet `score_mask = cls_scores > score_thr; inds = score_mask.nonzero()` on a flat (cells x C) array. */
export function selectCandidates(scores: Float32Array, numClasses: number, scoreThr: number): ScoreCandidates {
  const cells: number[] = [];
  const labels: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > scoreThr) {
      cells.push(Math.floor(i / numClasses));
      labels.push(i % numClasses);
      vals.push(scores[i]);
    }
  }
  return { cells: Int32Array.from(cells), labels: Int32Array.from(labels), scores: Float32Array.from(vals) };
}

/** One-hot selection matrix (rows x cols) with a 1 at (idx[k], k) (`transpose` -> (k, idx[k])): a differentiable gather. */
export function oneHotColumns(idx: ArrayLike<number>, rows: number, transpose = false): tf.Tensor2D {
  const k = idx.length;
  const data = new Float32Array(rows * k);
  for (let j = 0; j < k; j++) data[transpose ? j * rows + idx[j] : idx[j] * k + j] = 1;
  return tf.tensor2d(data, transpose ? [k, rows] : [rows, k]);
}
