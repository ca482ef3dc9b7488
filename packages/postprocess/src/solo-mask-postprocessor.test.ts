// SPDX-License-Identifier: Apache-2.0
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, type DetMeta, type SoloTestCfg } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { SOLOMaskPostProcessor, postprocessComponents } from './index.js';

const cfg: SoloTestCfg = { nmsPre: 500, scoreThr: 0.1, maskThr: 0.5, filterThr: 0.05, kernel: 'gaussian', sigma: 2.0, maxPerImg: 100 };
const meta: DetMeta = { imgId: 1, oriShape: [30, 45], imgShape: [14, 22], scaleFactor: [0.5, 0.5] };

/** (n, 4, 6) probability maps: each candidate a rectangle of probability p inside, 0.1 outside. */
function probs(rects: Array<[number, number, number, number, number]>): tf.Tensor3D {
  const data = new Float32Array(rects.length * 24).fill(0.1);
  rects.forEach(([y0, y1, x0, x1, p], i) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[i * 24 + y * 6 + x] = p;
  });
  return tf.tensor3d(data, [rects.length, 4, 6]);
}

describe('SOLOMaskPostProcessor (cpu)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('registers under task_utils and builds', () => {
    const reg = new Registry().load(postprocessComponents);
    const p = reg.build<SOLOMaskPostProcessor>('task_utils', { type: 'SOLOMaskPostProcessor', chunk_size: 3 });
    expect(p.chunkSize).toBe(3);
    expect(() => reg.build('task_utils', { type: 'SOLOMaskPostProcessor', chunk_size: 0 })).toThrow(/chunk_size/);
  });

  for (const hostCompute of ['on', 'off'] as const) {
    it(`empty paths (host_compute ${hostCompute}): no candidates, none above the area filter, none after the NMS filter`, async () => {
      const before = tf.memory().numTensors;
      const pp = new SOLOMaskPostProcessor({ hostCompute });
      const check = (r: Awaited<ReturnType<SOLOMaskPostProcessor['process']>>) => {
        expect(r.masks).toEqual({ count: 0, height: 30, width: 45, data: new Uint8Array(0) });
        expect((r.labels as Int32Array).length).toBe(0);
        expect((r.scores as Float32Array).length).toBe(0);
        expect((r.bboxes as Float32Array).length).toBe(0);
      };
      check(await pp.process({ maskProbs: tf.zeros([0, 4, 6]) as tf.Tensor3D, clsScores: new Float32Array(0), labels: new Int32Array(0), strides: new Float32Array(0) }, meta, cfg));
      // area 4 is not > stride 4 (strict)
      check(await pp.process({ maskProbs: probs([[0, 2, 0, 2, 0.9]]), clsScores: Float32Array.of(0.8), labels: Int32Array.of(1), strides: Float32Array.of(4) }, meta, cfg));
      // score 0.2 * 0.9 < filter 0.5
      check(await pp.process({ maskProbs: probs([[0, 3, 0, 3, 0.9]]), clsScores: Float32Array.of(0.2), labels: Int32Array.of(1), strides: Float32Array.of(4) }, meta, { ...cfg, filterThr: 0.5 }));
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`scores = cls × maskness, Matrix NMS order, masks at ori size with boxes, input disposed (host_compute ${hostCompute})`, async () => {
      const before = tf.memory().numTensors;
      const maskProbs = probs([
        [0, 2, 0, 3, 0.8], // area 6, maskness 0.8
        [0, 2, 0, 3, 0.6], // identical mask, same label: decayed by exp(-2)
        [2, 4, 3, 6, 0.9], // other place
        [0, 1, 0, 1, 0.99], // area 1 <= stride: dropped
      ]);
      const res = await new SOLOMaskPostProcessor({ chunkSize: 2, hostCompute }).process(
        { maskProbs, clsScores: Float32Array.of(0.9, 0.95, 0.5, 0.9), labels: Int32Array.of(0, 0, 2, 0), strides: Float32Array.of(4, 4, 4, 4) },
        meta,
        cfg,
      );
      expect(maskProbs.isDisposed).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      const s0 = Math.fround(0.9 * Math.fround(0.8));
      const s1 = Math.fround(0.95 * Math.fround(0.6));
      // sorted by score: cand1 (0.57) first, then cand0 (0.72)? 0.72 > 0.57 -> cand0 first; cand1 is decayed
      expect(Array.from(res.labels as Int32Array)).toEqual([0, 2, 0]);
      const sc = res.scores as Float32Array;
      expect(sc[0]).toBeCloseTo(s0, 6);
      expect(sc[1]).toBeCloseTo(0.5 * 0.9, 6);
      expect(sc[2]).toBeCloseTo(s1 * Math.exp(-2), 6);
      const m = res.masks!;
      expect([m.count, m.height, m.width]).toEqual([3, 30, 45]);
      // candidate 0 covers rows 0-1, cols 0-2 of the H/4 map = rows 0-7, cols 0-11 of the 16x24 padded map; the
      // 14x22 crop is resized to 30x45 (×2.14, ×2.05)
      const b = res.bboxes as Float32Array;
      expect(b[0]).toBe(0);
      expect(b[1]).toBe(0);
      expect(b[2]).toBeGreaterThan(20);
      expect(b[2]).toBeLessThan(28);
      expect(b[3]).toBeGreaterThan(14);
      expect(b[3]).toBeLessThan(20);
      // candidate 2 covers rows 2-3, cols 3-5 -> bottom-right of the padded map, partly cropped away
      expect(b[4]).toBeGreaterThan(20);
      expect(b[6]).toBe(45);
      expect(b[7]).toBe(30);
      let area = 0;
      for (let k = 0; k < 30 * 45; k++) area += m.data[k];
      expect(area).toBeGreaterThan(0);
    });

  }

  it('both paths give identical results', async () => {
    const mk = () => probs([
      [0, 2, 0, 3, 0.8],
      [1, 3, 1, 4, 0.7],
      [2, 4, 3, 6, 0.9],
    ]);
    const c = { clsScores: Float32Array.of(0.9, 0.6, 0.5), labels: Int32Array.of(0, 0, 2), strides: Float32Array.of(4, 4, 4) };
    const a = await new SOLOMaskPostProcessor({ hostCompute: 'on', chunkSize: 2 }).process({ maskProbs: mk(), ...c }, meta, cfg);
    const b = await new SOLOMaskPostProcessor({ hostCompute: 'off', chunkSize: 3 }).process({ maskProbs: mk(), ...c }, meta, cfg);
    expect(a).toEqual(b);
    expect(a.masks!.count).toBe(3);
  });

  it('disposes the input when it throws on inconsistent candidates', async () => {
    const before = tf.memory().numTensors;
    const maskProbs = probs([[0, 2, 0, 3, 0.8]]);
    await expect(new SOLOMaskPostProcessor().process({ maskProbs, clsScores: Float32Array.of(0.9, 0.1), labels: Int32Array.of(0), strides: Float32Array.of(4) }, meta, cfg)).rejects.toThrow(/disagree/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
