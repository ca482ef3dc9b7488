// SPDX-License-Identifier: Apache-2.0
/** Gradient helpers missing from tfjs-core. */
import * as tf from '@tensorflow/tfjs-core';

/** Identity whose gradient is zero (PyTorch `detach()` inside a differentiated function). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const a = args[0] as tf.Tensor;
    return { value: tf.clone(a), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return op(x) as T;
}
