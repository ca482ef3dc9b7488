// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixture, fixtureNames } from '../../__fixtures__/load.js';
import { conv2d } from './conv.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`conv2d vs PyTorch F.conv2d (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));
    for (const name of fixtureNames('conv/')) {
      it(`${name}: forward and gradients`, () => {
        const before = tf.memory().numTensors;
        const f = fixture(name);
        const p = f.params as { stride: number; padding: number; dilation: number; groups: number; bias: boolean };
        tf.tidy(() => {
          const x = f.nhwc('x');
          const w = f.hwio('weight');
          const b = p.bias ? (f.raw('bias') as tf.Tensor1D) : null;
          const opts = { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
          expectClose(conv2d(x, w, b, opts), f.nhwc('y'), 1e-4, 1e-5, `${name} y`);
          const gy = f.nhwc('gy');
          const loss = (...a: tf.Tensor[]) => tf.sum(tf.mul(conv2d(a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, p.bias ? (a[2] as tf.Tensor1D) : null, opts), gy));
          const [dx, dw, db] = tf.grads(loss)(b ? [x, w, b] : [x, w]);
          expectClose(dx, f.nhwc('dx'), 1e-4, 1e-5, `${name} dx`);
          expectClose(dw, f.hwio('dweight'), 1e-4, 1e-5, `${name} dweight`);
          if (p.bias) expectClose(db, f.raw('dbias'), 1e-4, 1e-5, `${name} dbias`);
        });
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}

describe('conv2d asymmetric padding (explicit tfjs padding) equals padding the input', () => {
  beforeAll(() => setupTestBackend('cpu'));
  it('padding [1, 2], groups 1 and 3 (grouped and split paths), stride 2', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([1, 7, 9, 6]) as tf.Tensor4D;
      for (const [groups, cout] of [[1, 4], [3, 6], [3, 30]]) {
        const w = tf.randomNormal([3, 3, 6 / groups, cout]) as tf.Tensor4D;
        const xp = tf.pad(x, [[0, 0], [1, 1], [2, 2], [0, 0]]) as tf.Tensor4D;
        expectClose(conv2d(x, w, null, { padding: [1, 2], stride: 2, groups }), conv2d(xp, w, null, { stride: 2, groups }), 1e-5, 1e-5, `groups ${groups}`);
      }
    });
  });
});

