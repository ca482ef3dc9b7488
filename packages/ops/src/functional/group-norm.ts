// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.group_norm` for NHWC tensors: one fused kernel forward and one backward where the active backend has
 * solo-ts's `SoloGroupNorm` kernels (wasm and cpu after backend selection), else composed from tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GROUP_NORM, GROUP_NORM_GRAD } from '../kernels/group_norm.js';

/** Whether the active backend has the fused group-norm kernels. */
export function hasFusedGroupNorm(backendName = tf.getBackend()): boolean {
  return tf.getKernel(GROUP_NORM, backendName) !== undefined && tf.getKernel(GROUP_NORM_GRAD, backendName) !== undefined;
}

/** Group norm composed from tfjs ops (any backend). `weight`/`bias` may be null (no affine). */
export function groupNormComposed(x: tf.Tensor4D, weight: tf.Tensor1D | null, bias: tf.Tensor1D | null, groups: number, eps: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    const xg = tf.reshape(x, [n, h * w, groups, c / groups]);
    const mean = tf.mean(xg, [1, 3], true);
    const centered = tf.sub(xg, mean);
    const variance = tf.mean(tf.square(centered), [1, 3], true);
    let out: tf.Tensor4D = tf.reshape(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), [n, h, w, c]);
    if (weight) out = tf.mul(out, weight);
    if (bias) out = tf.add(out, bias);
    return out;
  });
}

/**
 * Group norm over NHWC `x` (mean and biased variance per sample over each group's channels and all positions, as
 * PyTorch), then `· weight + bias` per channel. Uses the fused kernels when available (gradients for x, weight
 * and bias from one backward kernel), else {@link groupNormComposed}.
 */
export function groupNorm(x: tf.Tensor4D, weight: tf.Tensor1D | null, bias: tf.Tensor1D | null, groups: number, eps = 1e-5): tf.Tensor4D {
  if (x.dtype !== 'float32' || !hasFusedGroupNorm()) return groupNormComposed(x, weight, bias, groups, eps);
  const c = x.shape[3];
  return tf.tidy(() => {
    const w = weight ?? tf.ones([c]);
    const b = bias ?? tf.zeros([c]);
    const op = tf.customGrad(((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
      const [y, stats] = tf.engine().runKernel(GROUP_NORM, { x: xi, weight: wi, bias: bi }, { groups, eps }) as tf.Tensor[];
      save([xi, wi, stats]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw, st] = saved;
          return tf.engine().runKernel(GROUP_NORM_GRAD, { dy, x: sx, weight: sw, stats: st }, { groups }) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.Tensor;
    return op(x, w, b) as tf.Tensor4D;
  });
}
