// SPDX-License-Identifier: Apache-2.0
// End-to-end gradients of the ops SOLO training uses: wasm (with solo-ts kernels) versus the cpu reference.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerZeroGradients } from './gradients.js';
import { registerResizeGradKernels, registerWasmTrainingKernels } from './register.js';

function rand(shape: number[], seed: number, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return tf.tensor(out, shape);
}

/** Runs `build` on a backend and returns the gradients of its scalar loss w.r.t. every input. */
async function gradsOn(backend: string, shapes: number[][], loss: (...xs: tf.Tensor[]) => tf.Scalar): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const xs = shapes.map((s, i) => rand(s, 11 + i));
    const g = tf.grads(loss)(xs);
    return g.map((t) => t.dataSync() as Float32Array);
  });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

async function expectSameGrads(shapes: number[][], loss: (...xs: tf.Tensor[]) => tf.Scalar, rtol = 1e-4): Promise<void> {
  const ref = await gradsOn('cpu', shapes, loss);
  const got = await gradsOn('wasm', shapes, loss);
  for (let k = 0; k < ref.length; k++) {
    let maxAbs = 0;
    let maxErr = 0;
    for (let i = 0; i < ref[k].length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(ref[k][i]));
      maxErr = Math.max(maxErr, Math.abs(got[k][i] - ref[k][i]));
    }
    expect(maxAbs).toBeGreaterThan(0);
    expect(maxErr, `input ${k}`).toBeLessThanOrEqual(rtol * Math.max(1, maxAbs));
  }
}

describe('gradients on wasm match cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmTrainingKernels();
    registerResizeGradKernels('cpu');
    registerZeroGradients();
  });

  it('conv stem: conv 7x7/2 + relu + max-pool 3x3/2 (-inf padding) + conv 3x3 + avg-pool', () =>
    expectSameGrads([[2, 23, 21, 3], [7, 7, 3, 8], [3, 3, 8, 4]], (x, w1, w2) => {
      const y = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, [[0, 0], [3, 3], [3, 3], [0, 0]]));
      const p = tf.maxPool(tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]], -1e30), 3, 2, 'valid');
      const z = tf.conv2d(p, w2 as tf.Tensor4D, 1, 'same');
      return tf.sum(tf.mul(tf.avgPool(z, 2, 2, 'valid'), tf.scalar(0.5)));
    }));

  it('fused conv2d with bias and relu, strided 1x1 (downsample shortcut)', () =>
    expectSameGrads([[2, 9, 10, 4], [1, 1, 4, 6], [6]], (x, w, b) =>
      tf.sum(tf.square(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 2, pad: 'valid', activation: 'relu' })))));

  it('GroupNorm (moments over groups), BatchNorm (frozen stats), sigmoid, log, pow', () =>
    expectSameGrads([[2, 6, 5, 8], [8], [8]], (x, gamma, beta) => {
      const [n, h, w, c] = x.shape;
      const g = tf.reshape(x, [n, h, w, 2, c / 2]);
      const { mean, variance } = tf.moments(g, [1, 2, 4], true);
      const gn = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [n, h, w, c]);
      const y = tf.add(tf.mul(gn, gamma), beta);
      const bn = tf.batchNorm(y, tf.zeros([c]), tf.ones([c]), tf.zeros([c]), tf.ones([c]), 1e-5);
      const s = tf.sigmoid(bn);
      return tf.sum(tf.add(tf.mul(tf.pow(s, tf.scalar(2)), tf.log(tf.add(s, 1e-3))), tf.abs(y)));
    }));

  it('SOLOv2 dynamic conv (per-image 1x1 kernels from a tensor) and matMul', () =>
    expectSameGrads([[1, 12, 11, 16], [5, 16], [16, 3]], (feat, kernels, m) => {
      const filt = tf.reshape(tf.transpose(kernels), [1, 1, 16, 5]);
      const masks = tf.sigmoid(tf.conv2d(feat as tf.Tensor4D, filt as tf.Tensor4D, 1, 'valid'));
      const emb = tf.matMul(tf.reshape(feat, [-1, 16]), m);
      return tf.add(tf.sum(tf.mul(masks, masks)), tf.mean(tf.relu(emb)));
    }));

  it('gather/where/concat/slice/resize (target assignment and upsampling paths)', () =>
    expectSameGrads([[2, 5, 6, 3], [8, 4]], (x, t) => {
      const up = tf.image.resizeBilinear(x as tf.Tensor4D, [10, 12], false, true);
      const nn = tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [10, 12]);
      const cat = tf.concat([up, nn], 3);
      const sl = tf.slice(cat, [0, 1, 2, 0], [2, 8, 9, 6]);
      const g = tf.gather(t, tf.tensor1d([1, 1, 7, 3, 0], 'int32'));
      const wh = tf.where(tf.greater(g, 0), g, tf.mul(g, 0.1)); // needs the zero gradient of Greater
      return tf.add(tf.sum(tf.square(sl)), tf.sum(wh));
    }));

  // Sizes above the wrapper's 2^18 multiply-add threshold, so the XNNPACK route is the one tested.
  it('matMul with transposes and batches (all matMul gradients)', () =>
    expectSameGrads([[3, 64, 70], [3, 90, 70], [70, 50], [3, 64, 60], [3, 60, 60]], (a, b, c, d, e) => {
      const ab = tf.matMul(a, b, false, true); // [3, 64, 90]
      const ad = tf.matMul(a, d, true, false); // [3, 70, 60]
      const ade = tf.matMul(ad, e); // [3, 70, 60] (tfjs's matMul gradient does not reduce broadcast batches)
      const ac = tf.matMul(tf.reshape(a, [192, 70]), c); // [192, 50]
      return tf.add(tf.add(tf.sum(tf.square(ab)), tf.sum(tf.sin(ade))), tf.sum(tf.relu(ac)));
    }));

  it('batched matMul forward with a broadcast batch dimension', async () => {
    const f = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => tf.matMul(rand([4, 2, 50, 70], 5), rand([1, 70, 80], 6), false, false).dataSync() as Float32Array);
    };
    const ref = await f('cpu');
    const got = await f('wasm');
    const scale = Math.max(...ref.map(Math.abs));
    got.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-4 * scale));
  });

  it('registerZeroGradients is idempotent and leaves existing gradients alone', () => {
    expect(registerZeroGradients()).toEqual([]);
    expect(tf.getGradient('GreaterEqual')).toBeDefined();
  });

  it('depthwise conv (groups) and dilated depthwise forward', () =>
    expectSameGrads([[2, 10, 9, 4], [3, 3, 4, 2]], (x, w) =>
      tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')))));
});
