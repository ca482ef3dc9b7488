// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BatchNorm2d } from './norm.js';

describe('BatchNorm2d training forward without device reads', () => {
  beforeAll(() => setupTestBackend('cpu'));

  it('counts num_batches_tracked without reading it back after the first step, and after a load', () => {
    const bn = new BatchNorm2d({ numFeatures: 3, momentum: null });
    const x = tf.randomNormal([2, 4, 4, 3]) as tf.Tensor4D;
    tf.dispose(bn.forward(x));
    const spy = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    for (let i = 0; i < 3; i++) tf.dispose(bn.forward(x));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(bn.numBatchesTracked).toBe(4);
    // the stored tensor is the truth: a loaded value replaces the cached one
    bn.loadStateDict(new Map([['num_batches_tracked', tf.scalar(10, 'int32')]]), { strict: false, torchLayout: false });
    expect(bn.numBatchesTracked).toBe(10);
    tf.dispose(bn.forward(x));
    expect(bn.numBatchesTracked).toBe(11);
    x.dispose();
    bn.dispose();
  });
});
