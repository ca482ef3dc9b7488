// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConstantLR, CosineAnnealingLR, LinearLR, MultiStepLR, StepLR, lrAt, type LrScheduler } from './schedulers.js';

/** Per-iteration learning rates from torch.optim.lr_scheduler (`__fixtures__/make_schedulers.py`). */
const fx = JSON.parse(fs.readFileSync(new URL('../../__fixtures__/schedulers.json', import.meta.url), 'utf8')) as Record<string, { base_lr: number; ipe: number; epochs: number; lrs: number[] }>;

function lrs(s: LrScheduler[], baseLr: number, ipe: number, epochs: number): number[] {
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) for (let i = 0; i < ipe; i++) out.push(lrAt(s, baseLr, { epoch: e, iter: e * ipe + i, itersPerEpoch: ipe }));
  return out;
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > 1e-12 + 1e-9 * Math.abs(expected[i])) throw new Error(`iteration ${i}: lr ${actual[i]}, torch ${expected[i]}`);
  }
}

describe('mmengine schedulers (closed form) against torch.optim.lr_scheduler', () => {
  it('LinearLR warm-up (end=50) + MultiStepLR([3, 5]) by epoch', () => {
    const c = fx.warmup_multistep;
    const s = [new LinearLR({ startFactor: 0.001, endFactor: 1, begin: 0, end: 50, byEpoch: false }), new MultiStepLR({ milestones: [3, 5], gamma: 0.1, begin: 0, end: 6, byEpoch: true })];
    expectClose(lrs(s, c.base_lr, c.ipe, c.epochs), c.lrs);
  });
  it('LinearLR(1/3, end=30) + StepLR(2, 0.5)', () => {
    const c = fx.warmup_step;
    const s = [new LinearLR({ startFactor: 1 / 3, endFactor: 1, begin: 0, end: 30, byEpoch: false }), new StepLR({ stepSize: 2, gamma: 0.5, byEpoch: true })];
    expectClose(lrs(s, c.base_lr, c.ipe, c.epochs), c.lrs);
  });
  it('ConstantLR(0.25, end=10) by iteration', () => {
    const c = fx.constant;
    expectClose(lrs([new ConstantLR({ factor: 0.25, end: 10, byEpoch: false })], c.base_lr, c.ipe, c.epochs), c.lrs);
  });
  it('convert_to_iter_based scales milestones by the epoch length', () => {
    const s = [new MultiStepLR({ milestones: [2], gamma: 0.1, byEpoch: true, convertToIterBased: true })];
    expect(lrAt(s, 1, { epoch: 1, iter: 19, itersPerEpoch: 10 })).toBe(1);
    expect(lrAt(s, 1, { epoch: 2, iter: 20, itersPerEpoch: 10 })).toBeCloseTo(0.1, 12);
    expect(s[0].byEpoch).toBe(false);
  });
  it('cosine annealing reaches eta_min at T_max and a scheduler does not act before `begin`', () => {
    const c = [new CosineAnnealingLR({ TMax: 10, etaMin: 0.001, byEpoch: false })];
    expect(lrAt(c, 0.01, { epoch: 0, iter: 0, itersPerEpoch: 100 })).toBeCloseTo(0.01, 12);
    expect(lrAt(c, 0.01, { epoch: 0, iter: 10, itersPerEpoch: 100 })).toBeCloseTo(0.001, 12);
    const late = [new MultiStepLR({ milestones: [1], gamma: 0.1, begin: 3, byEpoch: true })];
    expect(lrAt(late, 1, { epoch: 3, iter: 0, itersPerEpoch: 1 })).toBe(1);
    expect(lrAt(late, 1, { epoch: 4, iter: 0, itersPerEpoch: 1 })).toBeCloseTo(0.1, 12);
  });
  it('validates spans and factors', () => {
    expect(() => new LinearLR({ startFactor: 0.5, endFactor: 1, begin: 5, end: 5 })).toThrow(/end/);
    expect(() => new LinearLR({ startFactor: 0, endFactor: 1 })).toThrow(/start_factor/);
  });
});
