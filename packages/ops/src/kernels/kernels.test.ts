// SPDX-License-Identifier: Apache-2.0
// Validates solo-ts's wasm training kernels against the `cpu` backend's reference kernels.
import * as tf from '@tensorflow/tfjs-core';
// The union package registers the gradients (tfjs-core alone has none); test-only import.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendLike, KernelScope, window4d } from './kernel_utils.js';
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
  // Large enough that the filter gradient splits its reduction into chunks (whole images / row runs).
  { n: 3, h: 48, w: 48, ci: 2, co: 3, kh: 3, kw: 3, s: [1, 1], d: [1, 1], pad: 'same' },
  { n: 1, h: 100, w: 90, ci: 2, co: 3, kh: 3, kw: 3, s: [1, 1], d: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { n: 2, h: 200, w: 131, ci: 2, co: 2, kh: 3, kw: 3, s: [2, 2], d: [1, 1], pad: 'same' },
];

// A deterministic random sweep on top of the hand-picked cases.
{
  let seed = 12345;
  const r = (lo: number, hi: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return lo + (seed % (hi - lo + 1));
  };
  while (convCases.length < 37) {
    const kh = r(1, 5);
    const kw = r(1, 5);
    const d: [number, number] = [r(1, 2), r(1, 2)];
    const s: [number, number] = [r(1, 3), r(1, 3)];
    const pad: Pad = [[0, 0], [r(0, kh - 1), r(0, kh - 1)], [r(0, kw - 1), r(0, kw - 1)], [0, 0]];
    const h = r((kh - 1) * d[0] + 1, 12);
    const w = r((kw - 1) * d[1] + 1, 12);
    convCases.push({ n: r(1, 2), h, w, ci: r(1, 4), co: r(1, 4), kh, kw, s, d, pad });
  }
}

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

  it('window4d copies strided windows on wasm (heap views) and cpu (readSync/write)', async () => {
    const shape = [2, 3, 7, 5];
    const x = rand(shape, 21);
    const begin = [1, 0, 1, 2];
    const size = [1, 3, 3, 2];
    const strides = [1, 1, 2, 2];
    const expected = new Float32Array(18);
    let o = 0;
    for (let i1 = 0; i1 < 3; i1++) for (let i2 = 0; i2 < 3; i2++) for (let i3 = 0; i3 < 2; i3++) {
      expected[o++] = x[((1 * 3 + i1) * 7 + (1 + 2 * i2)) * 5 + (2 + 2 * i3)];
    }
    for (const name of ['wasm', 'cpu']) {
      const got = await onBackend(name, () => {
        const t = tf.tensor4d(x, shape as [number, number, number, number]);
        const info = KernelScope.use(name, tf.backend() as unknown as BackendLike, (sc) => window4d(sc, t, begin, size, strides));
        return tf.engine().makeTensorFromTensorInfo(info);
      });
      expect(got).toEqual({ shape: size, values: expected });
    }
  });

  it('Slice and StridedSlice match cpu (ranks 1-6, dtypes, negative strides, masks)', async () => {
    const cases: Array<() => tf.Tensor> = [
      () => tf.slice(tf.tensor1d(rand([9], 1)), 2, 5),
      () => tf.slice(tf.tensor(rand([3, 4, 5], 2), [3, 4, 5]), [1, 0, 0], [2, 4, 5]),
      () => tf.slice(tf.tensor(rand([3, 4, 5], 3), [3, 4, 5]), [0, 1, 2], [-1, 2, 3]),
      () => tf.slice(tf.tensor(rand([2, 3, 4, 5, 6], 4), [2, 3, 4, 5, 6]), [1, 1, 0, 2, 0], [1, 2, 4, 3, 6]),
      () => tf.slice(tf.tensor(rand([2, 2, 3, 2, 3, 4], 5), [2, 2, 3, 2, 3, 4]), [0, 1, 1, 0, 1, 1], [2, 1, 2, 2, 2, 3]),
      () => tf.slice(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32'), [0, 1], [2, 2]),
      () => tf.cast(tf.slice(tf.tensor1d([1, 0, 1, 1], 'bool'), 1, 2), 'int32'),
      () => tf.slice(tf.tensor(rand([4, 3], 6), [4, 3]), [1, 0], [0, 3]),
      () => tf.stridedSlice(tf.tensor(rand([5, 6, 7], 7), [5, 6, 7]), [0, 1, 1], [5, 6, 7], [2, 2, 3]),
      () => tf.stridedSlice(tf.tensor(rand([5, 6, 7], 8), [5, 6, 7]), [4, 5, 6], [0, 0, 0], [-1, -2, -3]),
      () => tf.stridedSlice(tf.tensor(rand([5, 6, 7], 9), [5, 6, 7]), [1, 0, 0], [2, 6, 7], [1, 1, 1], 0, 0, 0, 0, 1),
      () => tf.stridedSlice(tf.tensor(rand([4, 6, 7], 10), [4, 6, 7]), [0, 1], [0, 5], [1, 2], 1, 1, 0, 1, 0),
      () => tf.stridedSlice(tf.tensor(rand([4, 6, 7, 3], 11), [4, 6, 7, 3]), [0, 2], [0, 6], [1, 3], 0, 0, 1, 0, 0),
    ];
    for (const [i, f] of cases.entries()) {
      const ref = await onBackend('cpu', f);
      const got = await onBackend('wasm', f);
      // (cpu's cast of bool keeps a Uint8Array: compare plain arrays)
      expect({ shape: got.shape, values: Array.from(got.values) }, `case ${i}`)
        .toEqual({ shape: ref.shape, values: Array.from(ref.values) });
    }
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

  const dwCases: Array<{ n: number; h: number; w: number; c: number; m: number; k: number; s: number; d: number; pad: Pad }> = [
    { n: 1, h: 9, w: 8, c: 3, m: 1, k: 3, s: 1, d: 1, pad: 'same' },
    { n: 2, h: 11, w: 10, c: 4, m: 2, k: 3, s: 2, d: 1, pad: 'same' },
    { n: 1, h: 12, w: 13, c: 2, m: 3, k: 5, s: 2, d: 1, pad: 'valid' },
    { n: 2, h: 13, w: 12, c: 3, m: 1, k: 3, s: 1, d: 2, pad: 2 },
    { n: 1, h: 10, w: 9, c: 2, m: 2, k: 3, s: 2, d: 1, pad: [[0, 0], [0, 2], [1, 0], [0, 0]] },
    { n: 1, h: 8, w: 8, c: 5, m: 1, k: 1, s: 1, d: 1, pad: 'valid' },
  ];
  for (const c of dwCases) {
    it(`DepthwiseConv2dNativeBackpropInput/Filter match cpu: ${JSON.stringify(c)}`, async () => {
      const xs = [c.n, c.h, c.w, c.c];
      const ws = [c.k, c.k, c.c, c.m];
      const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], ws as [number, number, number, number], c.s, c.d, c.pad, undefined, true);
      const ys = info.outShape;
      const x = rand(xs, 4);
      const w = rand(ws, 5);
      const dy = rand(ys, 6);
      const attrs = { strides: [c.s, c.s], dilations: [c.d, c.d], pad: c.pad, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
      const t4 = (v: Float32Array, sh: number[]) => tf.tensor4d(v, sh as [number, number, number, number]);
      // Reference: cpu kernels (which ignore dilations) with the zero-inserted filter and dilation 1.
      const dil = dilateFilter(w, ws, c.d, c.d);
      const refAttrs = { ...attrs, dilations: [1, 1] };
      const refDx = await onBackend('cpu', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: t4(dy, ys), filter: t4(dil.values, dil.shape) }, { ...refAttrs, inputShape: xs }) as tf.Tensor);
      const refDwD = await onBackend('cpu', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t4(x, xs), dy: t4(dy, ys) }, { ...refAttrs, filterShape: dil.shape }) as tf.Tensor);
      const refDw = { shape: ws, values: undilateFilterGrad(refDwD.values, dil.shape, c.k, c.k, c.d, c.d) };
      const dx = await onBackend('wasm', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: t4(dy, ys), filter: t4(w, ws) }, { ...attrs, inputShape: xs }) as tf.Tensor);
      const dw = await onBackend('wasm', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t4(x, xs), dy: t4(dy, ys) }, { ...attrs, filterShape: ws }) as tf.Tensor);
      expectClose(dx, refDx);
      expectClose(dw, refDw);
    });
  }

  it('UnsortedSegmentSum matches cpu (float32 and int32, out-of-range ids dropped, empty segments zero)', async () => {
    const x = rand([7, 3, 2], 7);
    const ids = [2, 0, 2, 4, -1, 0, 9];
    for (const dtype of ['float32', 'int32'] as const) {
      const mk = () => tf.engine().runKernel('UnsortedSegmentSum',
        { x: dtype === 'int32' ? tf.tensor3d(Array.from(x, (v) => Math.round(v * 10)), [7, 3, 2], 'int32') : tf.tensor3d(x, [7, 3, 2]), segmentIds: tf.tensor1d(ids, 'int32') },
        { numSegments: 6 }) as tf.Tensor;
      const got = await onBackend('wasm', mk);
      // Independent expectation: explicit loop.
      const exp = new Float32Array(6 * 6);
      ids.forEach((id, i) => {
        if (id < 0 || id >= 6) return;
        for (let j = 0; j < 6; j++) exp[id * 6 + j] += dtype === 'int32' ? Math.round(x[i * 6 + j] * 10) : x[i * 6 + j];
      });
      expectClose(got, { shape: [6, 3, 2], values: exp });
    }
    // And against the cpu kernel for in-range ids.
    const ok = [1, 0, 1, 3, 3, 0, 2];
    const mk2 = () => tf.engine().runKernel('UnsortedSegmentSum', { x: tf.tensor3d(x, [7, 3, 2]), segmentIds: tf.tensor1d(ok, 'int32') }, { numSegments: 5 }) as tf.Tensor;
    expectClose(await onBackend('wasm', mk2), await onBackend('cpu', mk2));
  });

  it('gather gradient works on wasm and matches cpu', async () => {
    const x = rand([6, 4], 8);
    const f = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([0, 5, 0, 2], 'int32'), 0), tf.tensor2d(rand([4, 4], 9), [4, 4]))))(tf.tensor2d(x, [6, 4]));
    expectClose(await onBackend('wasm', f), await onBackend('cpu', f));
  });

  /** Independent reference: the transpose of the forward resize, built column by column from one-hot inputs. */
  async function resizeGradReference(kind: 'bilinear' | 'nearest', inShape: number[], size: [number, number], align: boolean, half: boolean, dy: Float32Array): Promise<Float32Array> {
    await tf.setBackend('cpu');
    const n = inShape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const oneHot = new Float32Array(n);
      oneHot[i] = 1;
      const y = tf.tidy(() => {
        const t = tf.tensor4d(oneHot, inShape as [number, number, number, number]);
        return kind === 'bilinear' ? tf.image.resizeBilinear(t, size, align, half) : tf.image.resizeNearestNeighbor(t, size, align, half);
      });
      const yv = y.dataSync();
      y.dispose();
      let acc = 0;
      for (let j = 0; j < yv.length; j++) acc += yv[j] * dy[j];
      out[i] = acc;
    }
    return out;
  }

  const resizeCases: Array<{ inShape: number[]; size: [number, number]; align: boolean; half: boolean }> = [
    { inShape: [1, 4, 5, 2], size: [8, 10], align: false, half: true },
    { inShape: [2, 5, 3, 1], size: [7, 8], align: false, half: true },
    { inShape: [1, 6, 7, 2], size: [3, 4], align: false, half: true },
    { inShape: [1, 4, 5, 1], size: [9, 6], align: true, half: false },
    { inShape: [1, 4, 6, 2], size: [8, 13], align: false, half: false },
  ];
  for (const kind of ['bilinear', 'nearest'] as const) {
    for (const c of resizeCases) {
      if (kind === 'nearest' && c.align && c.half) continue;
      it(`Resize${kind === 'bilinear' ? 'Bilinear' : 'NearestNeighbor'}Grad is the forward's transpose (wasm and cpu): ${JSON.stringify(c)}`, async () => {
        const outShape = [c.inShape[0], c.size[0], c.size[1], c.inShape[3]];
        const dy = rand(outShape, 10);
        const ref = await resizeGradReference(kind, c.inShape, c.size, c.align, c.half, dy);
        const f = () => tf.grad((t: tf.Tensor) => {
          const r = kind === 'bilinear' ? tf.image.resizeBilinear(t as tf.Tensor4D, c.size, c.align, c.half) : tf.image.resizeNearestNeighbor(t as tf.Tensor4D, c.size, c.align, c.half);
          return tf.sum(tf.mul(r, tf.tensor4d(dy, outShape as [number, number, number, number])));
        })(tf.tensor4d(rand(c.inShape, 11), c.inShape as [number, number, number, number]));
        expectClose(await onBackend('wasm', f), { shape: c.inShape, values: ref });
        expectClose(await onBackend('cpu', f), { shape: c.inShape, values: ref });
      });
    }
  }
});
