// SPDX-License-Identifier: Apache-2.0
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { DiceLoss, FocalLoss } from './index.js';

// The README's hand-computed sanity values on the wasm backend (the mmdet goldens run on wasm too, in test/parity/ops.test.ts).

describe('losses (wasm)', () => {
  beforeAll(async () => {
    await setupTestBackend('wasm');
  });

  it('dice and focal sanity values, gradients, no leaks', () => {
    expect(tf.getBackend()).toBe('wasm');
    const before = tf.memory().numTensors;
    const pred = tf.zeros([1, 2, 2]);
    const target = tf.ones([1, 2, 2]);
    const d = new DiceLoss({ lossWeight: 3 }).forward(pred, target, { reductionOverride: 'none' });
    expect(d.dataSync()[0]).toBeCloseTo(0.60096, 5);
    const logits = tf.zeros([2, 3]);
    const labels = tf.tensor1d([1, 3], 'int32');
    const f = new FocalLoss().forward(logits, labels, { reductionOverride: 'none' });
    expect(f.dataSync()[0]).toBeCloseTo(0.75 * 0.25 * Math.LN2, 6);
    expect(f.dataSync()[1]).toBeCloseTo(0.25 * 0.25 * Math.LN2, 6);
    const g = tf.grad((x: tf.Tensor) => new FocalLoss().forward(x, labels, { avgFactor: 2 }))(logits);
    // d/dx at x = 0: BCE' = 0.5 - t, focal weight' ...: finite and symmetric for the negatives
    const gv = g.dataSync();
    expect(gv[0]).toBeCloseTo(gv[2], 7);
    expect(Number.isFinite(gv[1])).toBe(true);
    tf.dispose([pred, target, d, logits, labels, f, g]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
