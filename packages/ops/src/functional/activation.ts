// SPDX-License-Identifier: Apache-2.0
/** Activations (thin wrappers so components do not depend on tfjs op names). */
import * as tf from '@tensorflow/tfjs-core';

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}

export function sigmoid<T extends tf.Tensor>(x: T): T {
  return tf.sigmoid(x);
}
