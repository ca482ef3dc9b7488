import { describe, expect, it } from 'vitest';
import { LinearLR, MultiStepLR, lrAt } from './schedulers.js';

describe('mmengine schedulers (closed form)', () => {
  // schedule_1x: LinearLR(start_factor=0.001, by_epoch=False, begin=0, end=500) + MultiStepLR([8, 11], 0.1)
  const s = [
    new LinearLR({ startFactor: 0.001, endFactor: 1, begin: 0, end: 500, byEpoch: false }),
    new MultiStepLR({ milestones: [8, 11], gamma: 0.1, begin: 0, end: 12, byEpoch: true }),
  ];
  const at = (epoch: number, iter: number) => lrAt(s, 0.01, { epoch, iter, itersPerEpoch: 1000 });
  it('warm-up is linear in iterations', () => {
    expect(at(0, 0)).toBeCloseTo(0.01 * 0.001, 12);
    expect(at(0, 250)).toBeCloseTo(0.01 * (0.001 + 0.999 * 0.5), 12);
    expect(at(0, 500)).toBeCloseTo(0.01, 12);
    expect(at(0, 900)).toBeCloseTo(0.01, 12);
  });
  it('steps at the milestones by epoch', () => {
    expect(at(7, 7999)).toBeCloseTo(0.01, 12);
    expect(at(8, 8000)).toBeCloseTo(0.001, 12);
    expect(at(10, 10999)).toBeCloseTo(0.001, 12);
    expect(at(11, 11000)).toBeCloseTo(0.0001, 12);
  });
  it('validates spans', () => {
    expect(() => new LinearLR({ startFactor: 0.5, endFactor: 1, begin: 5, end: 5 })).toThrow(/end/);
    expect(() => new LinearLR({ startFactor: 0, endFactor: 1 })).toThrow(/start_factor/);
  });
});
