// SPDX-License-Identifier: Apache-2.0
// Validates solo-ts's wasm training kernels against the `cpu` backend's reference kernels.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerResizeGradKernels, registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './register.js';

type Arr = Float32Array | Int32Array | Uint8Array;

/** Deterministic pseudo-random values in [-1, 1). */
function rand(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function onBackend(name: string, f: () => tf.Tensor): Promise<{ shape: number[]; values: Arr }> {
  await tf.setBackend(name);
  const before = tf.memory().numTensors;
  const t = tf.tidy(f);
  const values = t.dataSync() as Arr;
  const shape = t.shape.slice();
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { shape, values };
}

function expectClose(actual: { shape: number[]; values: Arr }, expected: { shape: number[]; values: Arr }, rtol = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  let maxAbs = 0;
  let maxErr = 0;
  for (let i = 0; i < expected.values.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(expected.values[i]));
    maxErr = Math.max(maxErr, Math.abs(actual.values[i] - expected.values[i]));
  }
  // Relative to the largest magnitude (sums of many products cancel, so per-element relative error is meaningless).
  expect(maxErr).toBeLessThanOrEqual(rtol * Math.max(1, maxAbs));
}

/** Zero-inserts a HWIO filter by `d` (dilated conv == conv with the dilated filter). */
function dilateFilter(w: Float32Array, shape: number[], dh: number, dw: number): { values: Float32Array; shape: number[] } {
  const [kh, kw, ci, co] = shape;
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * ci * co);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
    const src = (a * kw + b) * ci * co;
    const dst = (a * dh * ew + b * dw) * ci * co;
    out.set(w.subarray(src, src + ci * co), dst);
  }
  return { values: out, shape: [eh, ew, ci, co] };
}

function undilateFilterGrad(g: Arr, shape: number[], kh: number, kw: number, dh: number, dw: number): Float32Array {
  const [, ew, ci, co] = shape;
  const out = new Float32Array(kh * kw * ci * co);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
    const src = (a * dh * ew + b * dw) * ci * co;
    out.set(g.subarray(src, src + ci * co) as Float32Array, (a * kw + b) * ci * co);
  }
  return out;
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase { n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; s: [number, number]; d: [number, number]; pad: Pad }

const convCases: ConvCase[] = [
  { n: 1, h: 9, w: 7, ci: 3, co: 4, kh: 3, kw: 3, s: [1, 1], d: [1, 1], pad: 'same' },
  { n: 2, h: 11, w: 10, ci: 5, co: 6, kh: 3, kw: 3, s: [2, 2], d: [1, 1], pad: 'same' },
  { n: 2, h: 10, w: 13, ci: 4, co: 3, kh: 3, kw: 3, s: [2, 2], d: [1, 1], pad: 1 },
  { n: 1, h: 12, w: 9, ci: 3, co: 5, kh: 3, kw: 3, s: [2, 1], d: [1, 1], pad: 'valid' },
  { n: 1, h: 17, w: 15, ci: 3, co: 8, kh: 7, kw: 7, s: [2, 2], d: [1, 1], pad: 3 },
  { n: 2, h: 8, w: 8, ci: 6, co: 7, kh: 1, kw: 1, s: [1, 1], d: [1, 1], pad: 'valid' },
  { n: 1, h: 9, w: 11, ci: 6, co: 4, kh: 1, kw: 1, s: [2, 2], d: [1, 1], pad: 0 },
  { n: 2, h: 13, w: 12, ci: 3, co: 4, kh: 3, kw: 3, s: [1, 1], d: [2, 2], pad: 2 },
  { n: 1, h: 15, w: 14, ci: 2, co: 3, kh: 3, kw: 3, s: [2, 2], d: [2, 2], pad: 'same' },
  { n: 1, h: 10, w: 9, ci: 3, co: 2, kh: 3, kw: 3, s: [1, 1], d: [2, 1], pad: 'valid' },
  { n: 2, h: 9, w: 10, ci: 3, co: 4, kh: 3, kw: 3, s: [2, 2], d: [1, 1], pad: [[0, 0], [0, 2], [1, 0], [0, 0]] },
  { n: 1, h: 8, w: 7, ci: 2, co: 3, kh: 3, kw: 3, s: [3, 2], d: [1, 1], pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  { n: 1, h: 7, w: 7, ci: 2, co: 2, kh: 3, kw: 3, s: [1, 1], d: [1, 1], pad: [[0, 0], [3, 0], [0, 4], [0, 0]] },
  { n: 1, h: 6, w: 5, ci: 1, co: 1, kh: 7, kw: 7, s: [1, 1], d: [1, 1], pad: 3 },
];

function caseName(c: ConvCase): string {
  return `${c.n}x${c.h}x${c.w}x${c.ci} k${c.kh}x${c.kw}x${c.co} s${c.s} d${c.d} pad ${JSON.stringify(c.pad)}`;
}

function outShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.ci], [c.kh, c.kw, c.ci, c.co], c.s, c.d, c.pad);
  return info.outShape;
}

describe('wasm training kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmTrainingKernels();
    registerResizeGradKernels('cpu');
  });

  it('registers every kernel and is idempotent', () => {
    expect(registerWasmTrainingKernels()).toEqual([]);
    for (const k of WASM_TRAINING_KERNELS) expect(tf.getKernel(k, 'wasm')).toBeDefined();
  });

  for (const c of convCases) {
    it(`Conv2DBackpropInput/Filter match cpu: ${caseName(c)}`, async () => {
      const xs = [c.n, c.h, c.w, c.ci];
      const ws = [c.kh, c.kw, c.ci, c.co];
      const ys = outShape(c);
      const x = rand(xs, 1);
      const w = rand(ws, 2);
      const dy = rand(ys, 3);
      const dil = dilateFilter(w, ws, c.d[0], c.d[1]);
      // Reference: cpu kernels with the zero-inserted (dilated) filter and dilation 1.
      const refDx = await onBackend('cpu', () => tf.engine().runKernel('Conv2DBackpropInput',
        { dy: tf.tensor4d(dy, ys as [number, number, number, number]), filter: tf.tensor4d(dil.values, dil.shape as [number, number, number, number]) },
        { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: xs, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap) as tf.Tensor);
      const refDwD = await onBackend('cpu', () => tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor4d(x, xs as [number, number, number, number]), dy: tf.tensor4d(dy, ys as [number, number, number, number]) },
        { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: dil.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
      const refDw = { shape: ws, values: undilateFilterGrad(refDwD.values, dil.shape, c.kh, c.kw, c.d[0], c.d[1]) };
      const dx = await onBackend('wasm', () => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropInput',
        { dy: tf.tensor4d(dy, ys as [number, number, number, number]), filter: tf.tensor4d(w, ws as [number, number, number, number]) },
        { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: xs, dilations: c.d } as unknown as tf.NamedAttrMap) as tf.Tensor));
      const dw = await onBackend('wasm', () => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor4d(x, xs as [number, number, number, number]), dy: tf.tensor4d(dy, ys as [number, number, number, number]) },
        { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: ws, dilations: c.d } as unknown as tf.NamedAttrMap) as tf.Tensor));
      expectClose(dx, refDx);
      expectClose(dw, refDw);
    });
  }
});
