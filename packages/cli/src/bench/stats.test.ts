// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { describe, expect, it } from 'vitest';
import { thresholdForCount } from './infer.js';
import { PeakConv } from './peak.js';
import { PhaseRecorder, summarize } from './stats.js';

describe('bench statistics', () => {
  it('summarize: median, p10/p90 (linear interpolation), MAD', () => {
    const s = summarize([5, 1, 4, 2, 3, 100]);
    expect(s.n).toBe(6);
    expect(s.median).toBe(3.5);
    expect(s.p10).toBeCloseTo(1.5, 10);
    expect(s.p90).toBeCloseTo(52.5, 10);
    // |x - 3.5| = 1.5 2.5 0.5 1.5 0.5 96.5 -> sorted 0.5 0.5 1.5 1.5 2.5 96.5 -> median 1.5
    expect(s.mad).toBe(1.5);
    expect(s.min).toBe(1);
    expect(s.max).toBe(100);
  });

  it('PhaseRecorder divides by the batch size', () => {
    const r = new PhaseRecorder();
    r.add('a', { wall: 10, cpu: 4 }, 2);
    r.add('a', { wall: 20, cpu: 8 }, 2);
    const s = r.summaries();
    expect(s.a.wall.median).toBe(7.5);
    expect(s.a.cpu.median).toBe(3);
  });

  it('thresholdForCount lets exactly n values through a strict > (float32 scores, as the heads read them)', () => {
    const v = Float32Array.from([0.5, 0.1, 0.9, 0.3, 0.7]);
    for (let n = 0; n <= 4; n++) {
      const t = thresholdForCount(v, n);
      expect(v.filter((x) => x > t)).toHaveLength(n);
    }
    expect(thresholdForCount(v, 5)).toBe(-Infinity);
  });

  it('PeakConv: FLOPs of the conv and GFLOP/s from the samples', async () => {
    await setupTestBackend('cpu');
    const before = tf.memory().numTensors;
    const p = new PeakConv({ input: [1, 6, 8, 4], outChannels: 5, kernel: 3 });
    await p.sample(false);
    await p.sample();
    await p.sample();
    const r = p.result();
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.flops).toBe(2 * 6 * 8 * 5 * 9 * 4);
    expect(r.ms.n).toBe(2);
    expect(r.gflops).toBeCloseTo(r.flops / r.ms.median / 1e6, 10);
  });
});
