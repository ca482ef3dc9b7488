// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry, isSoloError, type BitmapMasks } from '@solo-ts/core';
import { imrescaleU8, resizeLinearU8 } from '@solo-ts/ops';
import { SOLOGridAssigner, assignersComponents, centerOfMass, gridCell } from './index.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FIX, name), 'utf8')) as T;

/** np.packbits (big-endian bit order) + base64 -> 0/1 bytes */
function unpack(b64: string, n: number): Uint8Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return out;
}

describe('OpenCV INTER_LINEAR uint8 emulation', () => {
  const fx = fixture<{ cases: Array<{ h: number; w: number; os: number; out_h: number; out_w: number; src: string; out: string }> }>('cv2_rescale.json');
  it.each(fx.cases.map((c, i) => [i, c] as const))('case %i equals cv2 4.6.0', (_i, c) => {
    const src = unpack(c.src, c.h * c.w);
    const r = imrescaleU8({ data: src, height: c.h, width: c.w, channels: 1 }, 1 / c.os);
    expect([r.height, r.width]).toEqual([c.out_h, c.out_w]);
    expect(Array.from(r.data)).toEqual(Array.from(unpack(c.out, c.out_h * c.out_w)));
  });

  it('integer ratios: pixel (k, l) = mean of the 2x2 block at s*k+s/2-1.., rounded half up', () => {
    let seed = 5;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (const s of [2, 4, 8, 16]) {
      const h = 64;
      const w = 96;
      const src = new Uint8Array(h * w).map(() => (rnd() > 0.5 ? 1 : 0));
      const out = resizeLinearU8({ data: src, height: h, width: w, channels: 1 }, w / s, h / s).data;
      for (let k = 0; k < h / s; k++) {
        for (let l = 0; l < w / s; l++) {
          const r0 = s * k + s / 2 - 1;
          const c0 = s * l + s / 2 - 1;
          const sum = src[r0 * w + c0] + src[r0 * w + c0 + 1] + src[(r0 + 1) * w + c0] + src[(r0 + 1) * w + c0 + 1];
          expect(out[k * (w / s) + l]).toBe(sum >= 2 ? 1 : 0);
        }
      }
    }
  });
});

describe('centerOfMass (mmdet 2.x test_misc.py test_center_of_mass, gone from 3.x)', () => {
  it('ones, zeros, random and the 4x4 central block', () => {
    const ones = new Uint8Array(28 * 28).fill(1);
    expect(centerOfMass(ones, 28, 28)).toEqual([13.5, 13.5]);
    expect(centerOfMass(new Uint8Array(28 * 28), 28, 28)).toEqual([0, 0]);
    const rand = new Uint8Array(28 * 28).map((_, i) => ((i * 2654435761) >>> 0) % 7 > 3 ? 1 : 0);
    const [ch, cw] = centerOfMass(rand, 28, 28);
    expect(ch).toBeGreaterThanOrEqual(0);
    expect(ch).toBeLessThanOrEqual(28);
    expect(cw).toBeGreaterThanOrEqual(0);
    expect(cw).toBeLessThanOrEqual(28);
    const block = new Uint8Array(16);
    for (const i of [5, 6, 9, 10]) block[i] = 1;
    expect(centerOfMass(block, 4, 4)).toEqual([1.5, 1.5]);
  });

  it('equals torch (int64 sums, float32 division), including sums above 2^24', () => {
    const fx = fixture<{ cases: Array<{ h: number; w: number; mask?: string; rule_k?: number; center_h: number; center_w: number }> }>('center_of_mass.json');
    for (const c of fx.cases) {
      let m: Uint8Array;
      if (c.mask) m = unpack(c.mask, c.h * c.w);
      else {
        m = new Uint8Array(c.h * c.w);
        for (let y = 0; y < c.h; y++) for (let x = 0; x < c.w; x++) m[y * c.w + x] = (x * 7 + y * 13) % 10 < (c.rule_k as number) ? 1 : 0;
      }
      expect(centerOfMass(m, c.h, c.w)).toEqual([c.center_h, c.center_w]);
    }
  });
});

describe('gridCell', () => {
  it('equals torch.div(c / size, 1/G, rounding_mode=trunc) in float32 at cell borders', () => {
    const fx = fixture<{ cases: Array<{ c: number; size: number; g: number; cell: number }> }>('grid_cells.json');
    let borderCases = 0;
    for (const c of fx.cases) {
      expect(gridCell(c.c, c.size, c.g), `c=${c.c} size=${c.size} G=${c.g}`).toBe(c.cell);
      if (Math.trunc((c.c / c.size) * c.g) !== c.cell) borderCases++;
    }
    // the fixture does contain values where a float64 computation would give another cell
    expect(borderCases).toBeGreaterThan(0);
  });
});

function randMask(): { mask: BitmapMasks; bbox: Float32Array } {
  const fx = fixture<{ h: number; w: number; bbox: number[]; mask: string; sum: number }>('rand_mask.json');
  const data = unpack(fx.mask, fx.h * fx.w);
  expect(data.reduce((a, b) => a + b, 0)).toBe(fx.sum);
  return { mask: { count: 1, height: fx.h, width: fx.w, data }, bbox: Float32Array.from(fx.bbox) };
}

function posCells(t: { posMask: Uint8Array }): number[] {
  const out: number[] = [];
  t.posMask.forEach((v, i) => v && out.push(i));
  return out;
}

describe('SOLOGridAssigner: the README worked example (mmdet test_solo_head.py GT)', () => {
  const { mask, bbox } = randMask();
  const input = (sizes: Array<[number, number]>) => ({ gtBboxes: bbox, gtLabels: Int32Array.from([2]), gtMasks: mask, featmapSizes: sizes });

  it('centre of mass (86.5856, 129.5361) and 19115 pixels', () => {
    const [ch, cw] = centerOfMass(mask.data, 256, 256);
    expect(ch).toBeCloseTo(86.5856, 4);
    expect(cw).toBeCloseTo(129.5361, 4);
    expect(mask.data.reduce((a, b) => a + b, 0)).toBe(19115);
  });

  it('default SOLOHead: L3 and L4 positives, labels 2, num_pos 15, rescaled targets', () => {
    const a = new SOLOGridAssigner({ numClasses: 4 });
    const t = a.assign(input([[64, 64], [64, 64], [32, 32], [16, 16], [16, 16]]));
    expect(t.map((l) => l.posIndex.length)).toEqual([0, 0, 0, 9, 6]);
    expect(Array.from(t[3].posIndex)).toEqual([71, 72, 73, 87, 88, 89, 103, 104, 105]);
    expect(Array.from(t[4].posIndex)).toEqual([41, 42, 43, 53, 54, 55]);
    expect(posCells(t[3])).toEqual([71, 72, 73, 87, 88, 89, 103, 104, 105]);
    for (const l of [3, 4]) {
      for (const idx of t[l].posIndex) expect(t[l].labels[idx]).toBe(2);
      expect(t[l].labels.filter((v) => v !== 4).length).toBe(t[l].posIndex.length);
    }
    for (const l of [0, 1, 2]) {
      expect(t[l].labels.every((v) => v === 4)).toBe(true);
      expect(t[l].maskTargets.count).toBe(0);
      expect([t[l].maskTargets.height, t[l].maskTargets.width]).toEqual(l === 2 ? [32, 32] : [64, 64]);
    }
    // L3: 1/16 rescale = 16x16 filling the map; L4: 1/32 rescale = 8x8 top-left in 16x16
    const blockMean = (s: number, k: number, l: number) => {
      const r0 = s * k + s / 2 - 1;
      const c0 = s * l + s / 2 - 1;
      const d = mask.data;
      return d[r0 * 256 + c0] + d[r0 * 256 + c0 + 1] + d[(r0 + 1) * 256 + c0] + d[(r0 + 1) * 256 + c0 + 1] >= 2 ? 1 : 0;
    };
    for (const [lvl, s] of [[3, 16], [4, 32]] as const) {
      const mt = t[lvl].maskTargets;
      expect([mt.height, mt.width]).toEqual([16, 16]);
      const size = 256 / s;
      for (let k = 0; k < mt.count; k++) {
        for (let y = 0; y < 16; y++) {
          for (let x = 0; x < 16; x++) {
            const expected = y < size && x < size ? blockMean(s, y, x) : 0;
            expect(mt.data[k * 256 + y * 16 + x]).toBe(expected);
          }
        }
      }
    }
  });

  it('COCO scale ranges: L1 and L2 positives', () => {
    const a = new SOLOGridAssigner({
      numClasses: 80,
      strides: [8, 8, 16, 32, 32],
      scaleRanges: [[1, 96], [48, 192], [96, 384], [192, 768], [384, 2048]],
    });
    const t = a.assign(input([[64, 64], [64, 64], [32, 32], [16, 16], [16, 16]]));
    expect(t.map((l) => l.posIndex.length)).toEqual([0, 9, 9, 0, 0]);
    expect(Array.from(t[1].posIndex)).toEqual([413, 414, 415, 449, 450, 451, 485, 486, 487]);
    expect(Array.from(t[2].posIndex)).toEqual([179, 180, 181, 203, 204, 205, 227, 228, 229]);
  });

  it('SOLOv2 mode: same cells, 1/4 targets in the single mask-feature size', () => {
    const a = new SOLOGridAssigner({ numClasses: 4, mode: 'solov2', maskStride: 4 });
    const t = a.assign(input([[64, 64]]));
    expect(Array.from(t[3].posIndex)).toEqual([71, 72, 73, 87, 88, 89, 103, 104, 105]);
    expect(Array.from(t[4].posIndex)).toEqual([41, 42, 43, 53, 54, 55]);
    for (const l of t) expect([l.maskTargets.height, l.maskTargets.width]).toEqual([64, 64]);
    const mt = t[3].maskTargets;
    for (let y = 0; y < 64; y += 7) {
      for (let x = 0; x < 64; x += 5) {
        const r0 = 4 * y + 1;
        const c0 = 4 * x + 1;
        const d = mask.data;
        const e = d[r0 * 256 + c0] + d[r0 * 256 + c0 + 1] + d[(r0 + 1) * 256 + c0] + d[(r0 + 1) * 256 + c0 + 1] >= 2 ? 1 : 0;
        expect(mt.data[y * 64 + x]).toBe(e);
      }
    }
  });
});

describe('SOLOGridAssigner: ordering, duplicates, empty gt, errors', () => {
  // two gts whose regions overlap on one level
  const h = 64;
  const w = 64;
  const data = new Uint8Array(2 * h * w);
  for (let y = 10; y < 40; y++) for (let x = 10; x < 40; x++) data[y * w + x] = 1;
  for (let y = 14; y < 44; y++) for (let x = 14; x < 44; x++) data[h * w + y * w + x] = 1;
  const gtMasks: BitmapMasks = { count: 2, height: h, width: w, data };
  const gtBboxes = Float32Array.from([10, 10, 40, 40, 14, 14, 44, 44]);
  const gtLabels = Int32Array.from([0, 1]);
  const cfg = { numClasses: 3, numGrids: [8], scaleRanges: [[1, 100]] as Array<[number, number]>, posScale: 1.0 };

  it('SOLO: one target per positive cell, ascending, last gt wins', () => {
    const a = new SOLOGridAssigner({ ...cfg, strides: [8] });
    const [t] = a.assign({ gtBboxes, gtLabels, gtMasks, featmapSizes: [[16, 16]] });
    // centre of gt0 = (24.5, 24.5) -> cell 3 of 8 (8 px per cell); gt1 (28.5, 28.5) -> cell 3 as well
    expect(Array.from(t.posIndex)).toEqual([18, 19, 20, 26, 27, 28, 34, 35, 36]);
    expect(t.maskTargets.count).toBe(9);
    for (const idx of t.posIndex) expect(t.labels[idx]).toBe(1);
    // target = gt1 rescaled by 1/4 (os = 8/2) into 16x16
    const r = imrescaleU8({ data: data.subarray(h * w), height: h, width: w, channels: 1 }, 1 / 4);
    expect(Array.from(t.maskTargets.data.subarray(0, 256))).toEqual(Array.from(r.data));
  });

  it('SOLOv2: (gt, cell) pairs in gt order, duplicates kept', () => {
    const a = new SOLOGridAssigner({ ...cfg, mode: 'solov2', maskStride: 4 });
    const [t] = a.assign({ gtBboxes, gtLabels, gtMasks, featmapSizes: [[16, 16]] });
    const cells = [18, 19, 20, 26, 27, 28, 34, 35, 36];
    expect(Array.from(t.posIndex)).toEqual([...cells, ...cells]);
    expect(t.maskTargets.count).toBe(18);
    const r0 = imrescaleU8({ data: data.subarray(0, h * w), height: h, width: w, channels: 1 }, 1 / 4);
    const r1 = imrescaleU8({ data: data.subarray(h * w), height: h, width: w, channels: 1 }, 1 / 4);
    expect(Array.from(t.maskTargets.data.subarray(0, 256))).toEqual(Array.from(r0.data));
    expect(Array.from(t.maskTargets.data.subarray(9 * 256, 10 * 256))).toEqual(Array.from(r1.data));
    expect(posCells(t)).toEqual(cells);
  });

  it('empty ground truth and empty masks give all-background levels', () => {
    const a = new SOLOGridAssigner({ numClasses: 4 });
    const t = a.assign({ gtBboxes: new Float32Array(0), gtLabels: new Int32Array(0), gtMasks: { count: 0, height: 256, width: 256, data: new Uint8Array(0) }, featmapSizes: [[64, 64], [64, 64], [32, 32], [16, 16], [16, 16]] });
    expect(t.length).toBe(5);
    for (const l of t) {
      expect(l.labels.every((v) => v === 4)).toBe(true);
      expect(l.posMask.every((v) => v === 0)).toBe(true);
      expect(l.maskTargets.count).toBe(0);
      expect(l.posIndex.length).toBe(0);
    }
    const b = new SOLOGridAssigner({ ...cfg, strides: [8] });
    const [e] = b.assign({ gtBboxes: Float32Array.from([10, 10, 40, 40]), gtLabels: Int32Array.from([0]), gtMasks: { count: 1, height: h, width: w, data: new Uint8Array(h * w) }, featmapSizes: [[16, 16]] });
    expect(e.posIndex.length).toBe(0);
  });

  it('registry build and input errors', () => {
    const reg = new Registry().load(assignersComponents);
    const a = reg.build<SOLOGridAssigner>('task_utils', { type: 'SOLOGridAssigner', num_classes: 80, strides: [8, 8, 16, 32, 32], mode: 'solo' });
    expect(a.numGrids).toEqual([40, 36, 24, 16, 12]);
    expect(() => reg.build('task_utils', { type: 'SOLOGridAssigner', num_classes: 80, num_grids: [40, 36] })).toThrow(/scale_ranges/);
    const err = (f: () => unknown, re: RegExp) => {
      try {
        f();
      } catch (e) {
        expect(isSoloError(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
        return;
      }
      throw new Error('expected an error');
    };
    const one = new SOLOGridAssigner({ ...cfg, strides: [8] });
    err(() => one.assign({ gtBboxes, gtLabels: Int32Array.from([0]), gtMasks, featmapSizes: [[16, 16]] }), /gtBboxes/);
    err(() => one.assign({ gtBboxes, gtLabels: Int32Array.from([0, 3]), gtMasks, featmapSizes: [[16, 16]] }), /label 3/);
    err(() => one.assign({ gtBboxes, gtLabels, gtMasks, featmapSizes: [[16, 16], [8, 8]] }), /featmap sizes/);
    err(() => one.assign({ gtBboxes, gtLabels, gtMasks, featmapSizes: [[8, 8]] }), /larger than the featmap/);
  });
});
