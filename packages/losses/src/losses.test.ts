// SPDX-License-Identifier: Apache-2.0
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, isSoloError } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { DiceLoss, FocalLoss, lossesComponents } from './index.js';

function expectSoloError(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isSoloError(err), `expected a SoloError, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(re);
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296;
  }
  return out;
}

describe('losses (cpu)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('registers DiceLoss and FocalLoss in scope models and builds them from snake_case configs', () => {
    const reg = new Registry().load(lossesComponents);
    expect(reg.list('models')).toEqual(['DiceLoss', 'FocalLoss']);
    const dice = reg.build<DiceLoss>('models', { type: 'DiceLoss', use_sigmoid: true, activate: false, loss_weight: 3.0 });
    expect(dice).toBeInstanceOf(DiceLoss);
    expect(dice.lossWeight).toBe(3);
    expect(dice.activate).toBe(false);
    expect(dice.eps).toBe(1e-3);
    const focal = reg.build<FocalLoss>('models', { type: 'FocalLoss', gamma: 2.0, alpha: 0.25 });
    expect(focal.reduction).toBe('mean');
    expect(() => reg.build('models', { type: 'DiceLoss', reduction: 'avg' })).toThrow(/reduction/);
  });

  it('dice sanity value (worked out in the README): p = 0.5 over 4 pixels, t = 1 -> 0.600960 with loss_weight 3', () => {
    const loss = new DiceLoss({ lossWeight: 3 });
    const before = tf.memory().numTensors;
    const pred = tf.zeros([1, 2, 2]); // sigmoid(0) = 0.5
    const target = tf.ones([1, 2, 2], 'int32');
    const out = loss.forward(pred, target, { reductionOverride: 'none' });
    expect(out.shape).toEqual([1]);
    expect(out.dataSync()[0]).toBeCloseTo(0.60096, 5);
    const half = tf.fill([1, 4], 0.5);
    const ones = tf.ones([1, 4]);
    const probs = new DiceLoss({ lossWeight: 3, activate: false }).forward(half, ones, { reductionOverride: 'none' });
    expect(probs.dataSync()[0]).toBeCloseTo(0.60096, 5);
    tf.dispose([pred, target, out, probs, half, ones]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dice naive and non-naive formulas, reductions, weight, avg_factor', () => {
    const p = seeded(10 * 16, 1);
    const t = seeded(10 * 16, 2).map((v) => (v > 0.5 ? 1 : 0));
    const w = seeded(10, 3);
    const before = tf.memory().numTensors;
    const pred = tf.tensor3d(p, [10, 4, 4]);
    const target = tf.tensor3d(t, [10, 4, 4]);
    const weight = tf.tensor1d(w);
    for (const naive of [false, true]) {
      const loss = new DiceLoss({ naiveDice: naive, activate: false });
      const expected: number[] = [];
      for (let i = 0; i < 10; i++) {
        let a = 0;
        let pp = 0;
        let tt = 0;
        let ps = 0;
        let ts = 0;
        for (let k = 0; k < 16; k++) {
          a += p[i * 16 + k] * t[i * 16 + k];
          pp += p[i * 16 + k] ** 2;
          tt += t[i * 16 + k] ** 2;
          ps += p[i * 16 + k];
          ts += t[i * 16 + k];
        }
        expected.push(1 - (naive ? (2 * a + 1e-3) / (ps + ts + 1e-3) : (2 * a) / (pp + 1e-3 + tt + 1e-3)));
      }
      const none = loss.forward(pred, target, { reductionOverride: 'none' });
      const got = Array.from(none.dataSync());
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      const sum = expected.reduce((x, y) => x + y, 0);
      const mean = loss.forward(pred, target);
      expect(mean.shape).toEqual([]);
      expect(mean.dataSync()[0]).toBeCloseTo(sum / 10, 5);
      const s = loss.forward(pred, target, { reductionOverride: 'sum' });
      expect(s.dataSync()[0]).toBeCloseTo(sum, 4);
      const weighted = loss.forward(pred, target, { weight, reductionOverride: 'sum' });
      expect(weighted.dataSync()[0]).toBeCloseTo(expected.reduce((x, y, i) => x + y * w[i], 0), 4);
      const avg = loss.forward(pred, target, { avgFactor: 10 });
      expect(avg.dataSync()[0]).toBeCloseTo(sum / 10, 5);
      const avgNone = loss.forward(pred, target, { avgFactor: 10, reductionOverride: 'none' });
      expect(avgNone.shape).toEqual([10]);
      const avgTensor = tf.scalar(10);
      const avgT = loss.forward(pred, target, { avgFactor: avgTensor, reductionOverride: 'mean' });
      expect(avgT.dataSync()[0]).toBeCloseTo(sum / 10, 5);
      tf.dispose([none, mean, s, weighted, avg, avgNone, avgTensor, avgT]);
    }
    tf.dispose([pred, target, weight]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dice error cases (mmdet test_loss.py test_dice_loss)', () => {
    const pred = tf.randomUniform([10, 4, 4]);
    const target = tf.randomUniform([10, 4, 4]);
    const before = tf.memory().numTensors;
    const loss = new DiceLoss();
    expectSoloError(() => loss.forward(pred, target, { avgFactor: 10, reductionOverride: 'sum' }), /avgFactor.*'sum'/);
    expectSoloError(() => new DiceLoss({ reduction: 'sum' }).forward(pred, target, { avgFactor: 10 }), /avgFactor/);
    expectSoloError(() => new DiceLoss({ useSigmoid: false, activate: true }), /use_sigmoid=false/);
    const badW = tf.ones([2, 8]);
    expectSoloError(() => loss.forward(pred, target, { weight: badW }), /weight must have shape \[10\]/);
    const shortW = tf.ones([8]);
    expectSoloError(() => loss.forward(pred, target, { weight: shortW }), /weight/);
    expectSoloError(() => loss.forward(pred, target, { reductionOverride: true as unknown as 'none' }), /reductionOverride/);
    expectSoloError(() => loss.forward(pred, target, { reductionOverride: 'avg' as unknown as 'none' }), /reductionOverride/);
    expectSoloError(() => new DiceLoss({ reduction: 'avg' as unknown as 'none' }), /reduction/);
    tf.dispose([badW, shortW]);
    expect(tf.memory().numTensors).toBe(before);
    // use_sigmoid=false without activation is fine (pred are probabilities)
    const ok = new DiceLoss({ useSigmoid: false, activate: false }).forward(pred, target);
    expect(ok.shape).toEqual([]);
    tf.dispose([ok, pred, target]);
  });

  it('focal sanity values (worked out in the README): logit 0 -> 0.129965 negative, 0.043322 positive', () => {
    const loss = new FocalLoss();
    const before = tf.memory().numTensors;
    const pred = tf.zeros([2, 3]);
    const labels = tf.tensor1d([1, 3], 'int32'); // row 0: class 1 positive; row 1: background
    const out = loss.forward(pred, labels, { reductionOverride: 'none' });
    expect(out.shape).toEqual([2, 3]);
    const v = out.dataSync();
    const neg = 0.75 * 0.25 * Math.LN2;
    const pos = 0.25 * 0.25 * Math.LN2;
    expect(v[0]).toBeCloseTo(neg, 6);
    expect(v[1]).toBeCloseTo(pos, 6);
    expect(v[2]).toBeCloseTo(neg, 6);
    for (let k = 3; k < 6; k++) expect(v[k]).toBeCloseTo(neg, 6);
    expect(neg).toBeCloseTo(0.129965, 6);
    expect(pos).toBeCloseTo(0.043322, 6);
    // avg_factor: sum / (avg + eps)
    const avg = loss.forward(pred, labels, { avgFactor: 2 });
    expect(avg.dataSync()[0]).toBeCloseTo((5 * neg + pos) / 2, 6);
    // one-hot float targets of pred's shape give the same values
    const oneHot = tf.tensor2d([0, 1, 0, 0, 0, 0], [2, 3]);
    const out2 = loss.forward(pred, oneHot, { reductionOverride: 'none' });
    expect(Array.from(out2.dataSync())).toEqual(Array.from(v));
    tf.dispose([pred, labels, out, avg, oneHot, out2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('focal shapes (10,5) and (3,5,40,40), weights, error cases (mmdet test_loss.py test_FocalLoss_loss)', () => {
    const before = tf.memory().numTensors;
    const loss = new FocalLoss();
    const pred = tf.randomUniform([10, 5]);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1, 2, 3], 'int32');
    for (const t of [
      loss.forward(pred, labels),
      loss.forward(pred, labels, { reductionOverride: 'mean' }),
      loss.forward(pred, labels, { avgFactor: 10 }),
      loss.forward(pred, labels, { avgFactor: 10, reductionOverride: 'none' }),
    ]) {
      expect(t).toBeInstanceOf(tf.Tensor);
      t.dispose();
    }
    expectSoloError(() => loss.forward(pred, labels, { avgFactor: 10, reductionOverride: 'sum' }), /avgFactor/);
    expectSoloError(() => loss.forward(pred, labels, { reductionOverride: true as unknown as 'none' }), /reductionOverride/);
    // (n) weight -> (n, 1); n*C flat weight -> (n, C)
    const wRow = tf.tensor1d([1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
    const none = loss.forward(pred, labels, { reductionOverride: 'none' });
    const rowW = loss.forward(pred, labels, { weight: wRow, reductionOverride: 'sum' });
    const noneV = none.dataSync<'float32'>();
    let expectSum = 0;
    for (let i = 0; i < 10; i += 2) for (let c = 0; c < 5; c++) expectSum += noneV[i * 5 + c];
    expect(rowW.dataSync()[0]).toBeCloseTo(expectSum, 5);
    const flatW = tf.ones([50]);
    const flat = loss.forward(pred, labels, { weight: flatW, reductionOverride: 'sum' });
    expect(flat.dataSync()[0]).toBeCloseTo(noneV.reduce((a, b) => a + b, 0), 5);
    const badW = tf.ones([7]);
    expectSoloError(() => loss.forward(pred, labels, { weight: badW }), /weight/);
    const pred4 = tf.randomUniform([3, 5, 40, 40]);
    // mmdet's test: one-hot (B*N) class vectors broadcast to (B, N, 40, 40)
    const target4 = tf.tidy(() => tf.tile(tf.reshape(tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 5), [3, 5, 1, 1]), [1, 1, 40, 40]));
    const out4 = loss.forward(pred4, target4);
    expect(out4.shape).toEqual([]);
    out4.dispose();
    const badTarget = tf.ones([3, 5]);
    expectSoloError(() => loss.forward(pred4, badTarget), /target/);
    expect(() => new FocalLoss({ useSigmoid: false })).toThrow(/sigmoid/);
    tf.dispose([pred, labels, wRow, none, rowW, flatW, flat, badW, pred4, target4, badTarget]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('focal 4-d pred with a one-hot target of the same shape', () => {
    const before = tf.memory().numTensors;
    const loss = new FocalLoss();
    const pred = tf.randomUniform([3, 5, 4, 4]);
    const target = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([3, 5, 4, 4]), 0.8), 'float32'));
    const out = loss.forward(pred, target, { reductionOverride: 'none' });
    expect(out.shape).toEqual([3, 5, 4, 4]);
    const m = loss.forward(pred, target, { avgFactor: 7 });
    const total = out.dataSync<'float32'>().reduce((a, b) => a + b, 0);
    expect(m.dataSync()[0]).toBeCloseTo(total / 7, 5);
    tf.dispose([pred, target, out, m]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('focal activated=true (probabilities) matches the logit path', () => {
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d([-2, -0.5, 0, 0.5, 2, 3], [2, 3]);
    const probs = tf.sigmoid(logits);
    const labels = tf.tensor1d([2, 3], 'int32');
    const a = new FocalLoss().forward(logits, labels, { reductionOverride: 'none' });
    const b = new FocalLoss({ activated: true }).forward(probs, labels, { reductionOverride: 'none' });
    const av = a.dataSync();
    const bv = b.dataSync();
    for (let i = 0; i < 6; i++) expect(bv[i]).toBeCloseTo(av[i], 5);
    tf.dispose([logits, probs, labels, a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
