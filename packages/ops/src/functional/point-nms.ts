// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO point NMS (mmdet `points_nms`) on NHWC scores `[n, G, G, c]`: `hmax = max_pool2d(heat, k, stride 1,
 * padding 1)` with `-inf` padding, cropped to the top-left G x G; keep a score where it equals the local max
 * (exact float equality), else 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { maxPool2d } from './pool.js';

export function pointNms(heat: tf.Tensor4D, kernel = 2): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = heat.shape;
    const hmax = tf.slice(maxPool2d(heat, kernel, 1, 1), [0, 0, 0, 0], [n, h, w, c]);
    return tf.mul(heat, tf.cast(tf.equal(hmax, heat), 'float32'));
  });
}
