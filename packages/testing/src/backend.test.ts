// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupTestBackend } from './backend.js';

describe('setupTestBackend', () => {
  it('selects cpu with gradients registered', async () => {
    await setupTestBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(tf.tensor1d([1, 2, 3]));
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
  });

  it('selects wasm', async () => {
    await setupTestBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    expect(Array.from(y.dataSync())).toEqual([4, 6]);
  });
});
