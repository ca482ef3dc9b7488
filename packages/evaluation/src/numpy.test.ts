// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { argsortDesc, linspace, npMean, searchsortedLeft } from './numpy.js';

describe('numpy helpers', () => {
  it('argsortDesc is stable on ties and puts NaN last (np.argsort(-s, kind="mergesort"))', () => {
    const s = [0.5, 0.9, 0.5, Number.NaN, 0.9, 0.1, 0.5, -0, 0];
    expect(Array.from(argsortDesc(s))).toEqual([1, 4, 0, 2, 6, 5, 7, 8, 3]);
    const big = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 13);
    const order = Array.from(argsortDesc(big));
    const expected = big.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((p) => p[1]);
    expect(order).toEqual(expected);
  });
  it('searchsortedLeft gives the first index with a[i] >= v', () => {
    const a = [0.1, 0.2, 0.2, 0.5];
    expect([0, 0.1, 0.2, 0.3, 0.5, 0.6].map((v) => searchsortedLeft(a, a.length, v))).toEqual([0, 0, 1, 3, 3, 4]);
  });
  it('linspace matches numpy element formulas', () => {
    expect(linspace(0.5, 0.95, 10)[8]).toBe(0.8999999999999999);
    expect(linspace(0, 1, 101)[35]).toBe(0.35000000000000003);
    expect(linspace(0, 1, 101)[100]).toBe(1);
  });
  it('npMean uses pairwise blocks (differs from a naive left-to-right sum)', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 0.1 * ((i * 37) % 11) + 1e-3 * i);
    let naive = 0;
    for (const x of xs) naive += x;
    // ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) over 8 interleaved accumulators, then the tail
    const r = new Array(8).fill(0).map((_, j) => xs[j]);
    for (let i = 8; i < 96; i += 8) for (let j = 0; j < 8; j++) r[j] += xs[i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (let i = 96; i < 100; i++) res += xs[i];
    expect(npMean(xs)).toBe(res / 100);
    expect(Number.isNaN(npMean([]))).toBe(true);
    expect(naive).toBeCloseTo(res, 10);
  });
});
