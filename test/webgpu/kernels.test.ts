// SPDX-License-Identifier: Apache-2.0
/**
 * solo-ts's webgpu kernels (`registerWebgpuKernels`) against the cpu backend: `PadV2` above rank 4 and `AddN` of more
 * inputs than a shader can bind, plus the stock kernels solo-ts relies on there for training that wasm and cpu get
 * from solo-ts (conv and depthwise gradients, `UnsortedSegmentSum`, transposed `BatchMatMul`), and the composed
 * fallbacks webgpu runs where wasm and cpu have solo-ts kernels: group norm, the half-pixel bilinear resize gradient
 * and DCNv2 (the cpu side uses solo-ts's fused / exact / loop kernels). Skips where no WebGPU adapter exists (CI
 * runs it on SwiftShader).
 */
import * as tf from '@tensorflow/tfjs-core';
import { groupNorm, modulatedDeformConv2d, resizeBilinear } from '@solo-ts/ops';
import { setupTestBackend, webgpuTestSkipReason } from '@solo-ts/testing';
import { describe, expect, it } from 'vitest';

const skipReason = await webgpuTestSkipReason();
if (skipReason) console.warn(skipReason);

interface Case {
  name: string;
  inputs: Array<{ shape: number[]; int?: number }>;
  run: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  /** |webgpu - cpu| <= tol * max(1, max|cpu|) (no sin/cos/exp in the cases: SwiftShader's are approximations) */
  tol: number;
}

const CASES: Case[] = [
  {
    name: 'PadV2 of a rank-6 tensor (and its slice gradient)',
    inputs: [{ shape: [2, 3, 1, 2, 2, 3] }],
    run: (x) => [tf.pad(x, [[0, 1], [1, 0], [0, 0], [2, 1], [0, 0], [1, 1]], 0.5),
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.slice(t, [0, 1, 0, 0, 1, 0], [2, 2, 1, 2, 1, 2]))))(x)],
    tol: 0,
  },
  { name: 'PadV2 of a rank-5 tensor', inputs: [{ shape: [3, 2, 4, 1, 5] }], run: (x) => tf.pad(x, [[1, 1], [0, 0], [0, 2], [1, 0], [0, 0]]), tol: 0 },
  {
    name: 'AddN of 20 tensors',
    inputs: Array.from({ length: 20 }, () => ({ shape: [3, 5] })),
    run: (...xs) => tf.addN(xs),
    tol: 1e-6,
  },
  {
    name: 'conv2d input and filter gradients (stride 2, same)',
    inputs: [{ shape: [2, 9, 8, 3] }, { shape: [3, 3, 3, 4] }],
    run: (x, w) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]),
    tol: 1e-5,
  },
  {
    name: 'depthwise conv gradients',
    inputs: [{ shape: [1, 7, 6, 4] }, { shape: [3, 3, 4, 1] }],
    run: (x, w) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, w]),
    tol: 1e-5,
  },
  {
    name: 'gather gradient (UnsortedSegmentSum)',
    inputs: [{ shape: [6, 4] }, { shape: [9], int: 6 }],
    run: (x, i) => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.gather(a, i))))(x),
    tol: 1e-6,
  },
  {
    name: 'batched transposed matMul and its gradients',
    inputs: [{ shape: [2, 5, 7] }, { shape: [2, 6, 7] }],
    run: (a, b) => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D, false, true))))([a, b]),
    tol: 1e-5,
  },
  {
    name: 'group norm and its gradients (fused kernels on cpu, composed on webgpu)',
    inputs: [{ shape: [2, 5, 6, 8] }, { shape: [8] }, { shape: [8] }, { shape: [2, 5, 6, 8] }],
    run: (x, w, b, r) => {
      const f = (a: tf.Tensor, p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(groupNorm(a as tf.Tensor4D, p as tf.Tensor1D, q as tf.Tensor1D, 4), r));
      return [groupNorm(x as tf.Tensor4D, w as tf.Tensor1D, b as tf.Tensor1D, 4), ...tf.grads(f)([x, w, b])];
    },
    tol: 2e-5,
  },
  {
    name: 'half-pixel bilinear resize, up and down, and its gradient (exact kernel on cpu, gathers on webgpu)',
    inputs: [{ shape: [2, 5, 7, 3] }, { shape: [2, 11, 13, 3] }],
    run: (x, r) => [resizeBilinear(x as tf.Tensor4D, [11, 13]), resizeBilinear(x as tf.Tensor4D, [3, 4]),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(resizeBilinear(a as tf.Tensor4D, [11, 13]), r)))(x)],
    tol: 1e-5,
  },
  {
    name: 'DCNv2 forward and its input, offset, mask, weight and bias gradients (loops on cpu, gathers on webgpu)',
    inputs: [{ shape: [1, 6, 7, 4] }, { shape: [1, 6, 7, 18] }, { shape: [1, 6, 7, 9] }, { shape: [3, 3, 4, 5] }, { shape: [5] }],
    run: (x, off, m, w, b) => {
      const f = (a: tf.Tensor, o: tf.Tensor, k: tf.Tensor, p: tf.Tensor, q: tf.Tensor) => modulatedDeformConv2d(a as tf.Tensor4D,
        tf.mul(o, 2.5) as tf.Tensor4D, tf.sigmoid(k) as tf.Tensor4D, p as tf.Tensor4D, q as tf.Tensor1D, { padding: 1 });
      const loss = (a: tf.Tensor, o: tf.Tensor, k: tf.Tensor, p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(f(a, o, k, p, q)));
      return [f(x, off, m, w, b), ...tf.grads(loss)([x, off, m, w, b])];
    },
    tol: 2e-5,
  },
];

function inputData(c: Case): Array<{ data: number[]; shape: number[]; int: boolean }> {
  return c.inputs.map((s, k) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, (_, i) => (s.int ? (i * 5 + k) % s.int : Math.sin(i * 0.7 + k * 1.3)));
    return { data, shape: s.shape, int: s.int !== undefined };
  });
}

async function runOn(backend: 'cpu' | 'webgpu', c: Case): Promise<number[][]> {
  await setupTestBackend(backend);
  const before = tf.memory().numTensors;
  const xs = inputData(c).map((d) => tf.tensor(d.data, d.shape, d.int ? 'int32' : 'float32'));
  const out = tf.tidy(() => c.run(...xs));
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => Array.from(await t.data())));
  tf.dispose([...xs, ...list]);
  expect(tf.memory().numTensors, `${backend}: no leaked tensors`).toBe(before);
  return values;
}

describe.skipIf(skipReason !== undefined)('webgpu kernels against cpu', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ref = await runOn('cpu', c);
    const got = await runOn('webgpu', c);
    expect(got.length).toBe(ref.length);
    ref.forEach((r, k) => {
      expect(got[k].length).toBe(r.length);
      const scale = Math.max(1, ...r.map(Math.abs));
      let worst = 0;
      r.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[k][i] - v))));
      expect(worst, `output ${k}`).toBeLessThanOrEqual(c.tol * scale);
    });
  });
});
