// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixture, fixtureNames } from '../../__fixtures__/load.js';
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
