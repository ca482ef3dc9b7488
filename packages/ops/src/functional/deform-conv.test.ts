// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixture, fixtureNames } from '../../__fixtures__/load.js';
import { modulatedDeformConv2d, setDeformSampler } from './deform-conv.js';

for (const [backend, sampler] of [['cpu', 'loops'], ['wasm', 'loops'], ['cpu', 'ops'], ['wasm', 'ops']] as const) {
  describe(`modulatedDeformConv2d vs torchvision deform_conv2d (${backend}, ${sampler} sampler)`, () => {
    beforeAll(async () => {
      await setupTestBackend(backend);
      setDeformSampler(sampler);
    });
    afterAll(() => setDeformSampler('auto'));

    it('offset layout: channel 2k shifts rows, 2k+1 columns (tap k row-major)', () => {
      tf.tidy(() => {
        const x = tf.reshape(tf.range(0, 25, 1, 'float32'), [1, 5, 5, 1]) as tf.Tensor4D;
        const w = tf.tensor4d(Array.from({ length: 9 }, (_, k) => (k === 1 ? 1 : 0)), [3, 3, 1, 1]);
        const mask = tf.ones([1, 5, 5, 9]) as tf.Tensor4D;
        const offH = tf.concat([tf.zeros([1, 5, 5, 2]), tf.ones([1, 5, 5, 1]), tf.zeros([1, 5, 5, 15])], 3) as tf.Tensor4D;
        expectClose(modulatedDeformConv2d(x, offH, mask, w, null, { padding: 1 }), x, 0, 0, 'delta h');
      });
    });

    for (const name of fixtureNames('dcn/').filter((n) => !n.includes('pack'))) {
      it(`${name}: forward and gradients (input, offset, mask, weight, bias)`, () => {
        const before = tf.memory().numTensors;
        const f = fixture(name);
        const p = f.params as { stride: number; padding: number; dilation: number; groups: number; deform_groups: number; bias: boolean };
        const opts = { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups, deformGroups: p.deform_groups };
        tf.tidy(() => {
          const x = f.nhwc('x');
          const w = f.hwio('weight');
          const off = f.nhwc('offset');
          const m = f.nhwc('mask');
          const inputs: tf.Tensor[] = [x, off, m, w];
          if (p.bias) inputs.push(f.raw('bias'));
          const run = (...a: tf.Tensor[]) =>
            modulatedDeformConv2d(a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, a[2] as tf.Tensor4D, a[3] as tf.Tensor4D, p.bias ? (a[4] as tf.Tensor1D) : null, opts);
          expectClose(run(...inputs), f.nhwc('y'), 1e-4, 1e-5, `${name} y`);
          const gy = f.nhwc('gy');
          const [dx, doff, dm, dw, db] = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(run(...a), gy)))(inputs);
          expectClose(dx, f.nhwc('dx'), 1e-4, 1e-5, `${name} dx`);
          expectClose(doff, f.nhwc('doffset'), 1e-4, 1e-5, `${name} doffset`);
          expectClose(dm, f.nhwc('dmask'), 1e-4, 1e-5, `${name} dmask`);
          expectClose(dw, f.hwio('dweight'), 1e-4, 1e-5, `${name} dweight`);
          if (p.bias) expectClose(db, f.raw('dbias'), 1e-4, 1e-5, `${name} dbias`);
        });
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
