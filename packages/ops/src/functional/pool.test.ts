// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixture, fixtureNames } from '../../__fixtures__/load.js';
import { coordFeature, linspaceTorch } from './coords.js';
import { pointNms } from './point-nms.js';
import { maxPool2d } from './pool.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`pooling, point NMS, coordinates vs PyTorch (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));
    for (const name of fixtureNames('maxpool/')) {
      it(`${name}: forward (-inf padding) and input gradient`, () => {
        const before = tf.memory().numTensors;
        const f = fixture(name);
        const p = f.params as { kernel: number; stride: number; padding: number };
        tf.tidy(() => {
          const x = f.nhwc('x');
          expectClose(maxPool2d(x, p.kernel, p.stride, p.padding), f.nhwc('y'), 0, 0, `${name} y`);
          const gy = f.nhwc('gy');
          const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(maxPool2d(xx as tf.Tensor4D, p.kernel, p.stride, p.padding), gy)))(x);
          expectClose(dx, f.nhwc('dx'), 1e-6, 1e-6, `${name} dx`);
        });
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('pointNms matches mmdet points_nms (exact, with a tie)', () => {
      const f = fixture('pointnms/k2');
      tf.tidy(() => expectClose(pointNms(f.nhwc('x')), f.nhwc('y'), 0, 0));
    });

    it('linspaceTorch reproduces torch.linspace(-1, 1, n) bit for bit', () => {
      for (const name of fixtureNames('linspace/')) {
        const f = fixture(name);
        const steps = f.params.steps as number;
        expect(Array.from(linspaceTorch(-1, 1, steps)), name).toEqual(Array.from(f.array('y').values));
      }
    });

    it('coordFeature: channels [x, y], x along the width', () => {
      const c = coordFeature(2, 3, 5);
      expect(c.shape).toEqual([2, 3, 5, 2]);
      const a = c.arraySync();
      expect(a[1][2][0]).toEqual([-1, 1]);
      expect(a[0][0][4]).toEqual([1, -1]);
      expect(a[0][1][2]).toEqual([0, 0]);
      c.dispose();
    });
  });
}
