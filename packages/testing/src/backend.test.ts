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

describe('setupTestBackend kernels', () => {
  it('installs the wasm training kernels (conv filter gradient works on wasm)', async () => {
    await setupTestBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.ones([1, 4, 4, 2]);
    const w0 = tf.ones([3, 3, 2, 1]);
    const dw = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')))(w0);
    // Each tap sees 2x2 output positions of an all-ones input.
    expect(Array.from(dw.dataSync())).toEqual(new Array(18).fill(4));
    tf.dispose([x, w0, dw]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects unknown names', async () => {
    await expect(setupTestBackend('gpu' as 'cpu')).rejects.toThrow(/unknown backend/);
  });
});
