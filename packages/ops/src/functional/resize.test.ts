// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixture, fixtureNames } from '../../__fixtures__/load.js';
import { hasExactResizeGrads } from '../kernels/register.js';
import { interpolate, resizeBilinear } from './resize.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`interpolate vs PyTorch F.interpolate (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));
    for (const name of fixtureNames('interp/')) {
      it(`${name}: forward and input gradient`, () => {
        const before = tf.memory().numTensors;
        const f = fixture(name);
        const p = f.params as { mode: 'bilinear' | 'nearest'; size?: [number, number]; scale_factor?: number };
        tf.tidy(() => {
          const x = f.nhwc('x');
          const opts = { mode: p.mode, size: p.size, scaleFactor: p.scale_factor };
          expectClose(interpolate(x, opts), f.nhwc('y'), 1e-5, 1e-6, `${name} y`);
          const gy = f.nhwc('gy');
          const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(interpolate(xx as tf.Tensor4D, opts), gy)))(x);
          expectClose(dx, f.nhwc('dx'), 1e-5, 1e-5, `${name} dx`);
        });
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('resizeBilinear(size) equals interpolate(size, bilinear)', () => {
      const f = fixture('interp/bilinear_aspect_size');
      tf.tidy(() => expectClose(resizeBilinear(f.nhwc('x'), [5, 5]), f.nhwc('y'), 1e-5, 1e-6));
    });
  });
}

describe('interpolate nearest upsampling by powers of two (fast path)', () => {
  beforeAll(() => setupTestBackend('wasm'));
  // reference: out[o] = in[floor(o / k)] (PyTorch legacy nearest with an integer factor), built with gathers here
  const reference = (x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D => {
    const [, h, w] = x.shape;
    const rows = tf.tensor1d(Array.from({ length: h * kh }, (_, o) => Math.floor(o / kh)), 'int32');
    const cols = tf.tensor1d(Array.from({ length: w * kw }, (_, o) => Math.floor(o / kw)), 'int32');
    return tf.gather(tf.gather(x, rows, 1), cols, 2) as tf.Tensor4D;
  };
  for (const [kh, kw] of [[2, 2], [4, 2], [1, 4], [2, 1]] as const) {
    it(`x(${kh}, ${kw}): forward equals repetition, gradient equals block sums`, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.randomNormal([2, 3, 5, 4]) as tf.Tensor4D;
        const y = interpolate(x, { size: [3 * kh, 5 * kw], mode: 'nearest' });
        expectClose(y, reference(x, kh, kw), 0, 0, 'forward');
        const gy = tf.randomNormal(y.shape);
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(interpolate(xx as tf.Tensor4D, { size: [3 * kh, 5 * kw], mode: 'nearest' }), gy)))(x);
        const dxRef = tf.sum(tf.reshape(gy, [2, 3, kh, 5, kw, 4]), [2, 4]);
        expectClose(dx, dxRef, 1e-6, 1e-6, 'gradient');
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('bilinear gradient on backends with the exact ResizeBilinearGrad kernel', () => {
  beforeAll(() => setupTestBackend('wasm'));
  it('uses the kernel (no gathers) and matches the dense adjoint', async () => {
    expect(hasExactResizeGrads('wasm')).toBe(true);
    const x = tf.randomNormal([1, 6, 10, 3]) as tf.Tensor4D;
    const gy = tf.randomNormal([1, 12, 20, 3]);
    const grad = () => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(interpolate(xx as tf.Tensor4D, { scaleFactor: 2, mode: 'bilinear' }), gy)))(x);
    const p = await tf.profile(() => grad());
    const names = p.kernels.map((k) => k.name);
    expect(names).toContain('ResizeBilinearGrad');
    expect(names).not.toContain('GatherV2');
    // reference: the adjoint as dense interpolation matrices built here
    const dx = p.result as tf.Tensor;
    const ref = tf.tidy(() => {
      // bilinear x2, align_corners=False: out o reads src (o + 0.5) / 2 - 0.5 clamped at 0, upper index clamped
      const taps = (n: number) => Array.from({ length: 2 * n }, (_, o) => {
        const s = Math.max(0, (o + 0.5) / 2 - 0.5);
        const i0 = Math.floor(s);
        const l = s - i0;
        return [i0, Math.min(i0 + 1, n - 1), 1 - l, l] as const;
      });
      const mh = tf.buffer([12, 6]);
      taps(6).forEach(([a, b, wa, wb], o) => { mh.set(mh.get(o, a) + wa, o, a); mh.set(mh.get(o, b) + wb, o, b); });
      const mw = tf.buffer([20, 10]);
      taps(10).forEach(([a, b, wa, wb], o) => { mw.set(mw.get(o, a) + wa, o, a); mw.set(mw.get(o, b) + wb, o, b); });
      // dx[h, w, c] = sum_{o, q} mh[o, h] mw[q, w] gy[o, q, c]: columns first (per output row o), then rows
      const mwT = tf.tile(tf.expandDims(tf.transpose(mw.toTensor()), 0), [12, 1, 1]);
      const a = tf.matMul(mwT, tf.reshape(gy, [12, 20, 3]) as tf.Tensor3D);
      return tf.reshape(tf.matMul(tf.transpose(mh.toTensor()), tf.reshape(a, [12, 30])), [1, 6, 10, 3]);
    });
    expectClose(dx, ref, 1e-5, 1e-5, 'dx');
    tf.dispose([x, gy, dx, ref]);
  });
});
