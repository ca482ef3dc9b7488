// SPDX-License-Identifier: Apache-2.0
/**
 * Loss contract (`Loss` of @solo-ts/core, mmdetection's loss signature): a finite non-negative scalar by
 * default; `loss_weight` scales it; `reductionOverride` none/sum/mean agree with each other; `avgFactor`
 * divides the sum; an element-wise `weight` of ones changes nothing and of zeros gives 0; finite non-zero
 * gradients with respect to the prediction; no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Loss } from '@solo-ts/core';
import { check, checkFinite, close, expectNoLeaks, scalarOf } from '../tensors.js';
import type { ContractCheck, Factory } from './types.js';

export interface LossContractOptions {
  /** A fresh loss from YAML overrides (e.g. `{loss_weight: 2}`). */
  build: Factory<Loss>;
  /** A (pred, target) pair with `n` elements along the first axis (seeded: same values on every call). */
  inputs: (n: number) => { pred: tf.Tensor; target: tf.Tensor };
  /** Elements per call (default 6). */
  n?: number;
  /** The YAML key of the loss weight (default `loss_weight`). */
  lossWeightKey?: string;
  /** The loss is >= 0 (default true). */
  nonNegative?: boolean;
  /** Relative tolerance of the reduction identities (default 1e-4). */
  rtol?: number;
}

/** The checks of the loss contract. */
export function lossChecks(o: LossContractOptions): ContractCheck[] {
  const n = o.n ?? 6;
  const rtol = o.rtol ?? 1e-4;
  const weightKey = o.lossWeightKey ?? 'loss_weight';
  const withInputs = async <T>(fn: (pred: tf.Tensor, target: tf.Tensor) => T | Promise<T>): Promise<T> => {
    const { pred, target } = o.inputs(n);
    try {
      return await fn(pred, target);
    } finally {
      tf.dispose([pred, target]);
    }
  };
  const value = (loss: Loss, pred: tf.Tensor, target: tf.Tensor, opts?: Parameters<Loss['forward']>[2]): number => {
    const t = loss.forward(pred, target, opts);
    try {
      return scalarOf(t, 'loss');
    } finally {
      t.dispose();
    }
  };
  return [
    {
      name: 'default reduction: finite scalar (>= 0), no leaked tensors',
      run: () =>
        withInputs(async (pred, target) => {
          const loss = o.build();
          await expectNoLeaks('loss forward', () => loss.forward(pred, target), (t) => {
            check(t.size === 1, `the default reduction must give a scalar, got shape [${t.shape.join(', ')}]`);
            checkFinite(t, 'loss');
            if (o.nonNegative ?? true) check(scalarOf(t, 'loss') >= 0, `loss is negative: ${scalarOf(t, 'loss')}`);
          });
          check(typeof loss.lossWeight === 'number' && Number.isFinite(loss.lossWeight), '`lossWeight` must be a finite number');
        }),
    },
    {
      name: `${weightKey} scales the loss`,
      run: () =>
        withInputs((pred, target) => {
          const a = value(o.build({ [weightKey]: 1 }), pred, target);
          const b = value(o.build({ [weightKey]: 2.5 }), pred, target);
          check(close(b, 2.5 * a, rtol), `with ${weightKey} 2.5 the loss is ${b}, expected 2.5 x ${a} = ${2.5 * a}`);
          check(o.build({ [weightKey]: 2.5 }).lossWeight === 2.5, `lossWeight must reflect ${weightKey}`);
        }),
    },
    {
      name: "reductionOverride: sum(none) = sum, mean(none) = mean, avgFactor divides the sum",
      run: () =>
        withInputs(async (pred, target) => {
          const loss = o.build();
          await expectNoLeaks("reduction 'none'", () => loss.forward(pred, target, { reductionOverride: 'none' }), (none) => {
            check(none.rank >= 1 && none.shape[0] === n, `reduction 'none' must keep the first axis (${n}), got shape [${none.shape.join(', ')}]`);
            checkFinite(none, "reduction 'none'");
            const vals = none.dataSync();
            let s = 0;
            for (const v of vals) s += v;
            const sum = value(loss, pred, target, { reductionOverride: 'sum' });
            const mean = value(loss, pred, target, { reductionOverride: 'mean' });
            check(close(sum, s, rtol, 1e-5), `reduction 'sum' gives ${sum}, the sum of reduction 'none' is ${s}`);
            check(close(mean, s / vals.length, rtol, 1e-5), `reduction 'mean' gives ${mean}, the mean of reduction 'none' is ${s / vals.length}`);
            const avg = value(loss, pred, target, { reductionOverride: 'mean', avgFactor: 3 });
            check(close(avg, s / 3, rtol, 1e-5), `mean with avgFactor 3 gives ${avg}, expected sum / 3 = ${s / 3}`);
          });
        }),
    },
    {
      name: 'element-wise weight: ones change nothing, zeros give 0',
      run: () =>
        withInputs((pred, target) => {
          const loss = o.build();
          const none = loss.forward(pred, target, { reductionOverride: 'none' });
          const ones = tf.onesLike(none);
          const zeros = tf.zerosLike(none);
          none.dispose();
          try {
            const plain = value(loss, pred, target, { reductionOverride: 'sum' });
            const w1 = value(loss, pred, target, { reductionOverride: 'sum', weight: ones });
            const w0 = value(loss, pred, target, { reductionOverride: 'sum', weight: zeros });
            check(close(w1, plain, rtol, 1e-5), `weight of ones gives ${w1}, without weight ${plain}`);
            check(w0 === 0, `weight of zeros gives ${w0}, expected 0`);
          } finally {
            tf.dispose([ones, zeros]);
          }
        }),
    },
    {
      name: 'gradient with respect to the prediction: finite, not all zero, no leaks',
      run: () =>
        withInputs((pred, target) => {
          const loss = o.build();
          const before = tf.memory().numTensors;
          const g = tf.grad((p: tf.Tensor) => loss.forward(p, target))(pred);
          try {
            check(g.shape.every((d, i) => d === pred.shape[i]), `gradient shape [${g.shape.join(', ')}] differs from the prediction's [${pred.shape.join(', ')}]`);
            checkFinite(g, 'gradient');
            check(g.dataSync().some((v) => v !== 0), 'the gradient with respect to the prediction is identically zero');
          } finally {
            g.dispose();
          }
          check(tf.memory().numTensors === before, `gradient computation leaks ${tf.memory().numTensors - before} tensors`);
        }),
    },
  ];
}
