// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.max_pool2d` on NHWC: symmetric `-inf` padding, floor output size
 * `floor((h + 2p - k) / s) + 1` (ceil_mode False, dilation 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { pair, padSpatial, type Pair } from './conv.js';

export function maxPool2d(x: tf.Tensor4D, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): tf.Tensor4D {
  const k = pair(kernel);
  const s = pair(stride);
  const p = pair(padding);
  return tf.tidy(() => tf.maxPool(padSpatial(x, p[0], p[1], -Infinity), k, s, 'valid'));
}
