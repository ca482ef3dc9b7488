// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectForwardAndGrads, fixture } from '../../__fixtures__/load.js';
import { groupNormComposed, hasFusedGroupNorm } from '../functional/group-norm.js';
import { BatchNorm2d, GroupNorm } from './norm.js';

function loadBn(bn: BatchNorm2d, f: ReturnType<typeof fixture>, nbt = 0): void {
  bn.loadStateDict(
    new Map<string, tf.Tensor>([
      ['weight', f.raw('weight')],
      ['bias', f.raw('bias')],
      ['running_mean', f.raw('running_mean')],
      ['running_var', f.raw('running_var')],
      ['num_batches_tracked', tf.scalar(nbt, 'int32')],
    ]),
  );
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`norm layers vs PyTorch (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));

    it('BatchNorm2d eval uses running stats', () => {
      const f = fixture('bn/eval');
      const bn = new BatchNorm2d({ numFeatures: 5 });
      loadBn(bn, f);
      bn.eval();
      const before = tf.memory().numTensors;
      tf.tidy(() => expectClose(bn.forward(f.nhwc('x')), f.nhwc('y'), 1e-5, 1e-5));
      expect(tf.memory().numTensors).toBe(before);
      bn.dispose();
    });

    for (const mode of ['m01', 'cumulative'] as const) {
      it(`BatchNorm2d training (${mode}): batch stats, running-stat update, gradients`, () => {
        const f = fixture(`bn/train_${mode}`);
        const bn = new BatchNorm2d({ numFeatures: 5, momentum: mode === 'm01' ? 0.1 : null });
        loadBn(bn, f, 3);
        bn.train();
        const x = f.nhwc('x');
        const gy = f.nhwc('gy');
        const before = tf.memory().numTensors;
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.forward(x), gy)) as tf.Scalar);
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(bn.forward(xx as tf.Tensor4D), gy)))(x);
        // second forward (for dx) updated the running stats again: check the first update from a fresh module
        tf.tidy(() => {
          expectClose(dx, f.nhwc('dx'), 1e-4, 1e-5, 'dx');
          expectClose(grads[bn.weight!.variable.name], f.raw('dweight'), 1e-4, 1e-5, 'dweight');
          expectClose(grads[bn.bias!.variable.name], f.raw('dbias'), 1e-4, 1e-5, 'dbias');
        });
        value.dispose();
        dx.dispose();
        Object.values(grads).forEach((g) => g.dispose());
        expect(tf.memory().numTensors).toBe(before);

        const bn2 = new BatchNorm2d({ numFeatures: 5, momentum: mode === 'm01' ? 0.1 : null });
        loadBn(bn2, f, 3);
        bn2.train();
        const y = bn2.forward(x);
        expectClose(y, f.nhwc('y'), 1e-4, 1e-5, 'y');
        expectClose(bn2.runningMean, f.raw('new_running_mean'), 1e-5, 1e-6, 'running_mean');
        expectClose(bn2.runningVar, f.raw('new_running_var'), 1e-5, 1e-6, 'running_var');
        expect(bn2.numBatchesTracked).toBe(4);
        tf.dispose([x, gy, y]);
        bn.dispose();
        bn2.dispose();
      });
    }

    it('GroupNorm forward and gradients', () => {
      const f = fixture('gn/g4');
      const gn = new GroupNorm({ numGroups: 4, numChannels: 8 });
      gn.loadStateDict(new Map([['weight', f.raw('weight')], ['bias', f.raw('bias')]]));
      expectForwardAndGrads(f, (x) => gn.forward(x), [
        [gn.weight!.variable, (g) => g.raw('dweight'), 'dweight'],
        [gn.bias!.variable, (g) => g.raw('dbias'), 'dbias'],
      ]);
      gn.dispose();
    });

    it('GroupNorm uses the fused kernels, which match the composed ops (forward, dx, dweight, dbias)', () => {
      expect(hasFusedGroupNorm()).toBe(true);
      const x = tf.randomNormal([3, 5, 7, 12], 0.7, 2.0, 'float32', 1) as tf.Tensor4D;
      const gy = tf.randomNormal([3, 5, 7, 12], 0, 1, 'float32', 2) as tf.Tensor4D;
      const gn = new GroupNorm({ numGroups: 3, numChannels: 12 });
      gn.loadStateDict(new Map([['weight', tf.randomNormal([12], 1, 0.3, 'float32', 3)], ['bias', tf.randomNormal([12], 0, 0.3, 'float32', 4)]]));
      const w = gn.weight!.variable as tf.Tensor1D;
      const b = gn.bias!.variable as tf.Tensor1D;
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const loss = (f: (xx: tf.Tensor4D, ww: tf.Tensor1D, bb: tf.Tensor1D) => tf.Tensor4D) =>
          (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor1D, bb as tf.Tensor1D), gy));
        expectClose(gn.forward(x), groupNormComposed(x, w, b, 3, 1e-5), 1e-5, 1e-5, 'y');
        const [dxF, dwF, dbF] = tf.grads(loss((xx, ww, bb) => groupNormComposed(xx, ww, bb, 3, 1e-5)))([x, w, b]);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(gn.forward(x), gy)) as tf.Scalar);
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(gn.forward(xx as tf.Tensor4D), gy)))(x);
        expectClose(dx, dxF, 1e-4, 1e-5, 'dx');
        expectClose(grads[gn.weight!.variable.name], dwF, 1e-4, 1e-5, 'dweight');
        expectClose(grads[gn.bias!.variable.name], dbF, 1e-4, 1e-5, 'dbias');
      });
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, gy]);
      gn.dispose();
    });
  });
}
