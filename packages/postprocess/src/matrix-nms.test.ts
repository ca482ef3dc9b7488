// SPDX-License-Identifier: Apache-2.0
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { isSoloError, type BitmapMasks } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { masksToBoxes, matrixNms, matrixNmsSync } from './index.js';
import { intersection, packMasks, popcount } from './packed-masks.js';

function rows(h: number, w: number, r0: number, r1: number): number[] {
  const m = new Array<number>(h * w).fill(0);
  for (let y = r0; y <= r1; y++) for (let x = 0; x < w; x++) m[y * w + x] = 1;
  return m;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

async function expectSoloError(p: Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(isSoloError(err), String(err)).toBe(true);
  expect((err as Error).message).toMatch(re);
}

describe('packed masks', () => {
  it('popcount and intersections equal a direct count', () => {
    expect(popcount(0)).toBe(0);
    expect(popcount(0xffffffff)).toBe(32);
    expect(popcount(0x80000001)).toBe(2);
    const rnd = lcg(3);
    const n = 6;
    const h = 13;
    const w = 70;
    const data = new Uint8Array(n * h * w);
    for (let i = 0; i < n; i++) {
      const y0 = Math.floor(rnd() * h);
      const x0 = Math.floor(rnd() * w);
      for (let y = y0; y < Math.min(h, y0 + 6); y++) for (let x = x0; x < Math.min(w, x0 + 40); x++) data[(i * h + y) * w + x] = rnd() > 0.2 ? 1 : 0;
    }
    const p = packMasks(data, n, h, w);
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let k = 0; k < h * w; k++) a += data[i * h * w + k];
      expect(p.areas[i]).toBe(a);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < h * w; k++) s += data[i * h * w + k] & data[j * h * w + k];
        expect(intersection(p, i, j)).toBe(s);
      }
    }
  });
});

describe('matrixNms (cpu)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('worked example of the README (4x4 masks): gaussian and linear decayed scores, order M0, M2, M3, M1', async () => {
    const data = [...rows(4, 4, 0, 1), ...rows(4, 4, 0, 2), ...rows(4, 4, 2, 3), ...rows(4, 4, 0, 1)];
    const masks: BitmapMasks = { count: 4, height: 4, width: 4, data: Uint8Array.from(data) };
    const labels = Int32Array.from([0, 0, 0, 1]);
    const scores = Float32Array.from([0.9, 0.8, 0.7, 0.6]);
    const g = await matrixNms(masks, labels, scores, { kernel: 'gaussian', sigma: 2.0, filterThr: 0.05 });
    expect(Array.from(g.keepInds)).toEqual([0, 2, 3, 1]);
    expect(Array.from(g.labels)).toEqual([0, 0, 1, 0]);
    const gs = Array.from(g.scores);
    expect(gs[0]).toBeCloseTo(0.9, 6);
    expect(gs[1]).toBeCloseTo(0.7, 6);
    expect(gs[2]).toBeCloseTo(0.6, 6);
    expect(gs[3]).toBeCloseTo(0.32889, 5);
    expect(gs[3]).toBeCloseTo(0.8 * Math.exp(-2 * (2 / 3) ** 2), 6);
    const l = await matrixNms(masks, labels, scores, { kernel: 'linear', filterThr: 0.05 });
    expect(Array.from(l.keepInds)).toEqual([0, 2, 3, 1]);
    expect(l.scores[3]).toBeCloseTo(0.266667, 6);
    // the same through a tensor
    const before = tf.memory().numTensors;
    const t = tf.tensor3d(data, [4, 4, 4]);
    const gt = await matrixNms(t, labels, scores, { kernel: 'gaussian', sigma: 2.0, filterThr: 0.05 });
    expect(Array.from(gt.scores)).toEqual(gs);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('2.x test_nms_input_errors and sizes', async () => {
    const rnd = lcg(9);
    const mk = (n: number, h: number, w: number, p = 0.5): BitmapMasks => ({ count: n, height: h, width: w, data: Uint8Array.from({ length: n * h * w }, () => (rnd() > p ? 1 : 0)) });
    const ten = mk(10, 28, 28);
    await expectSoloError(matrixNms(ten, new Int32Array(11), new Float32Array(11)), /same length/);
    await expectSoloError(matrixNms(ten, new Int32Array(10), new Float32Array(10), { maskArea: new Float32Array(8) }), /maskArea/);
    await expectSoloError(matrixNms(ten, new Int32Array(10), new Float32Array(10), { kernel: 'None' as unknown as 'linear' }), /kernel/);
    const empty = await matrixNms(mk(0, 28, 28), new Int32Array(0), new Float32Array(0));
    expect([empty.scores.length, empty.labels.length, empty.keepInds.length]).toEqual([0, 0, 0]);
    const big = mk(1000, 28, 28);
    const labels = Float64Array.from({ length: 1000 }, () => rnd());
    const scores = Float32Array.from({ length: 1000 }, () => rnd());
    expect((await matrixNms(big, labels, scores)).scores.length).toBe(1000);
    expect((await matrixNms(big, labels, scores, { nmsPre: 500 })).scores.length).toBe(500);
    expect((await matrixNms(big, labels, scores, { nmsPre: 500, maxNum: 100 })).scores.length).toBe(100);
  });

  it('1000 identical masks, same label, scores 1 -> exactly one kept, score 1', async () => {
    const one = Uint8Array.from({ length: 28 * 28 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const data = new Uint8Array(1000 * 28 * 28);
    for (let i = 0; i < 1000; i++) data.set(one, i * 28 * 28);
    const r = matrixNmsSync({ count: 1000, height: 28, width: 28, data }, new Int32Array(1000), new Float32Array(1000).fill(1), {
      nmsPre: 500,
      maxNum: 100,
      kernel: 'gaussian',
      sigma: 2,
      filterThr: 0.5,
    });
    expect(r.scores.length).toBe(1);
    expect(r.scores[0]).toBe(1);
    expect(r.keepInds[0]).toBe(0);
  });

  it('ties are broken by ascending input index; max_num and nms_pre keep the best', async () => {
    const data = new Uint8Array(5 * 16);
    for (let i = 0; i < 5; i++) data[i * 16 + i] = 1; // disjoint single pixels
    const r = await matrixNms({ count: 5, height: 4, width: 4, data }, Int32Array.from([0, 0, 0, 0, 0]), Float32Array.from([0.5, 0.9, 0.5, 0.9, 0.1]), { maxNum: 4 });
    expect(Array.from(r.keepInds)).toEqual([1, 3, 0, 2]);
    expect(Array.from(r.scores)).toEqual(Array.from(Float32Array.from([0.9, 0.9, 0.5, 0.5])));
  });

  it('masksToBoxes: pixel extents with x2 = max col + 1, zero box for an empty mask', () => {
    const data = new Uint8Array(3 * 5 * 6);
    data[0 * 30 + 1 * 6 + 2] = 1;
    data[0 * 30 + 3 * 6 + 4] = 1;
    data[2 * 30 + 4 * 6 + 5] = 1;
    const b = masksToBoxes({ count: 3, height: 5, width: 6, data });
    expect(Array.from(b)).toEqual([2, 1, 5, 4, 0, 0, 0, 0, 5, 4, 6, 5]);
  });
});
