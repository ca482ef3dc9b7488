// SPDX-License-Identifier: Apache-2.0
/**
 * conv -> norm -> activation. With BatchNorm folding enabled ({@link setBatchNormFolding}), an eval-mode
 * BatchNorm is folded into the convolution (`w' = w * a`, `b' = b * a + (beta - mean * a)`,
 * `a = gamma / sqrt(var + eps)`) and the whole runs as one fused conv + bias + ReLU (faster; differentiable, so it
 * also serves `norm_eval` training). Folding changes the float32 rounding: on the parity ResNet-50 the outputs
 * move about 1e-5 of their scale instead of 2e-6 unfolded (PyTorch's own run-to-run difference), so it is off by
 * default and inference code opts in.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2d } from '../functional/conv.js';
import { Conv2d } from './conv2d.js';
import { BatchNorm2d } from './norm.js';
import type { Layer } from './sequential.js';

let foldBatchNorm = false;

/** Fold eval-mode BatchNorms into the preceding conv in {@link convNormAct} (default false). */
export function setBatchNormFolding(enabled: boolean): void {
  foldBatchNorm = enabled;
}

/** Whether BatchNorm folding is on. */
export function batchNormFolding(): boolean {
  return foldBatchNorm;
}

export function convNormAct(x: tf.Tensor4D, conv: Layer, norm: Layer | null, relu: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    if (conv instanceof Conv2d && (norm === null || (foldBatchNorm && norm instanceof BatchNorm2d && !norm.training))) {
      let w = conv.weight.variable as tf.Tensor4D;
      let b: tf.Tensor1D | null = conv.bias ? (conv.bias.variable as tf.Tensor1D) : null;
      if (norm) {
        const { scale, shift } = norm.evalScaleShift();
        w = tf.mul(w, scale);
        b = b ? (tf.add(tf.mul(b, scale), shift) as tf.Tensor1D) : shift;
      }
      return conv2d(x, w, b, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups, activation: relu ? 'relu' : 'linear' });
    }
    let y = conv.forward(x);
    if (norm) y = norm.forward(y);
    return relu ? tf.relu(y) : y;
  });
}
