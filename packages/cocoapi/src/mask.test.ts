// SPDX-License-Identifier: Apache-2.0
// Conformance with pycocotools: every case of shared/coco-conformance/mask/*.json, compared with `===`.
import { COCO_CONFORMANCE_ROOT } from '../../../test/helpers/shared-dir.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maskUtils, type BinaryMask, type Box, type Polygon, type RLE } from './index.js';

const ROOT = `${COCO_CONFORMANCE_ROOT}/mask/`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (f: string): any => JSON.parse(readFileSync(ROOT + f, 'utf8'));
/** `[name, case]` rows for `it.each`; a case stays as untyped as the JSON it comes from. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const named = (cases: { name: string }[]): [string, any][] => cases.map((c) => [c.name, c]);

/** Uncompressed counts of a column-major mask, computed here independently of the code under test. */
function countsOf(colMajor: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0;
  let run = 0;
  for (const px of colMajor) {
    if (px !== v) {
      out.push(run);
      run = 0;
      v = px;
    }
    run++;
  }
  out.push(run);
  return out;
}

/** Row-major mask -> column-major, written out here (not with the package). */
function toColumnMajor(m: BinaryMask): Uint8Array {
  const out = new Uint8Array(m.height * m.width);
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) out[x * m.height + y] = m.data[y * m.width + x];
  return out;
}

function checkRle(rle: RLE, h: number, w: number, exp: { counts: string; area: number; bbox: number[]; decoded_counts: number[] }): void {
  expect(rle.size).toEqual([h, w]);
  expect(rle.counts).toBe(exp.counts);
  expect(maskUtils.area(rle)).toBe(exp.area);
  expect(maskUtils.toBbox(rle)).toEqual(exp.bbox);
  expect(countsOf(toColumnMajor(maskUtils.decode(rle)))).toEqual(exp.decoded_counts);
  expect(countsOf(maskUtils.decodeToColumnMajor(rle))).toEqual(exp.decoded_counts);
}

describe('polygons.json (rleFrPoly, merge)', () => {
  const { cases } = load('polygons.json');
  it.each(named(cases))('%s', (_name, c) => {
    const rles = maskUtils.frPyObjects(c.polygons as Polygon[], c.h, c.w);
    expect(rles.length).toBe(c.per_polygon.length);
    rles.forEach((r, i) => checkRle(r, c.h, c.w, c.per_polygon[i]));
    expect(maskUtils.frPoly(c.polygons, c.h, c.w)).toEqual(rles);
    const merged = maskUtils.merge(rles);
    expect(merged).toEqual(c.merged);
    checkRle(merged, c.h, c.w, { counts: c.merged.counts, area: c.area, bbox: c.bbox, decoded_counts: c.decoded_counts });
    expect(maskUtils.annToRLE(c.polygons, c.h, c.w)).toEqual(c.merged);
  });
});

describe('frbbox.json', () => {
  const data = load('frbbox.json');
  it.each(named(data.cases))('%s', (_name, c) => {
    const viaBbox = maskUtils.frBbox(c.boxes, c.h, c.w);
    const viaPy = maskUtils.frPyObjects(c.boxes as Box[], c.h, c.w);
    c.rles.forEach((exp: { counts: string; area: number; bbox: number[]; decoded_counts: number[] }, i: number) => {
      checkRle(viaBbox[i], c.h, c.w, exp);
      expect(viaPy[i]).toEqual(viaBbox[i]);
      // identical to rasterising the box as a polygon
      const [x, y, w, h] = c.boxes[i];
      expect(maskUtils.frPoly([[x, y, x, y + h, x + w, y + h, x + w, y]], c.h, c.w)[0].counts).toBe(exp.counts);
    });
  });
  it('accepts the inputs on which pycocotools raises, with their evident meaning', () => {
    const errs = Object.fromEntries(data.frPyObjects_errors.map((e: { name: string }) => [e.name, e]));
    const a = errs.list_of_4_number_lists;
    expect(maskUtils.frPyObjects(a.input, a.h, a.w)).toEqual(maskUtils.frBbox(a.input, a.h, a.w));
    const b = errs.polygon_first_part_4_numbers;
    expect(maskUtils.frPyObjects(b.input, b.h, b.w)).toEqual(maskUtils.frPoly(b.input, b.h, b.w));
    const c = errs.flat_polygon_not_wrapped;
    expect(maskUtils.frPyObjects(c.input, c.h, c.w)).toEqual(maskUtils.frPoly([c.input], c.h, c.w)[0]);
    expect(maskUtils.frPyObjects([1, 2, 3, 4], 10, 10)).toEqual(maskUtils.frBbox([[1, 2, 3, 4]], 10, 10)[0]);
  });
});

describe('encode.json', () => {
  const { cases } = load('encode.json');
  it.each(named(cases))('%s', (_name, c) => {
    const data = new Uint8Array(c.h * c.w);
    c.mask_rows.forEach((row: string, y: number) => {
      for (let x = 0; x < c.w; x++) data[y * c.w + x] = row.charCodeAt(x) - 48;
    });
    const mask = { data, height: c.h, width: c.w };
    const rle = maskUtils.encode(mask);
    expect(rle).toEqual({ size: [c.h, c.w], counts: c.counts });
    expect(maskUtils.encodeColumnMajor(toColumnMajor(mask), c.h, c.w)).toEqual(rle);
    expect(maskUtils.frPyObjects({ size: [c.h, c.w], counts: c.uncompressed_counts }, c.h, c.w)).toEqual(rle);
    expect(maskUtils.area(rle)).toBe(c.area);
    expect(maskUtils.toBbox(rle)).toEqual(c.bbox);
    expect(maskUtils.toBbox({ size: [c.h, c.w], counts: c.uncompressed_counts })).toEqual(c.bbox);
    const back = maskUtils.decode(rle);
    expect(back.height).toBe(c.h);
    expect(back.width).toBe(c.w);
    expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
    expect(countsOf(maskUtils.decodeToColumnMajor(rle))).toEqual(c.uncompressed_counts);
  });
});

describe('iou.json', () => {
  const data = load('iou.json');
  it.each(named(data.rle_cases))('%s', (_name, c) => {
    expect(maskUtils.iou(c.dt, c.gt, c.iscrowd)).toEqual(c.iou);
    // uncompressed input gives the same matrix
    const unc = (rles: RLE[]): { size: [number, number]; counts: number[] }[] =>
      rles.map((r) => ({ size: r.size, counts: countsOf(maskUtils.decodeToColumnMajor(r)) }));
    expect(maskUtils.iou(unc(c.dt), unc(c.gt), c.iscrowd)).toEqual(c.iou);
  });
  it.each(named(data.bbox_cases))('%s', (_name, c) => {
    const got = maskUtils.iou(c.dt, c.gt, c.iscrowd);
    expect(got).toEqual(c.iou);
    for (let d = 0; d < got.length; d++) for (let g = 0; g < got[d].length; g++) expect(got[d][g]).toBe(c.iou[d][g]);
  });
  it('empty lists give []; mixed types throw', () => {
    expect(maskUtils.iou([], [[0, 0, 1, 1]], [0])).toEqual([]);
    expect(maskUtils.iou([[0, 0, 1, 1]], [], [])).toEqual([]);
    expect(() => maskUtils.iou([[0, 0, 1, 1]], [{ size: [2, 2], counts: '04' }], [0])).toThrow(/same data type/);
  });
});

describe('merge.json', () => {
  const { cases } = load('merge.json');
  it.each(named(cases))('%s', (_name, c) => {
    const m = maskUtils.merge(c.rles, c.intersect);
    expect(m).toEqual(c.merged);
    const [h, w] = c.merged.size;
    checkRle(m, h, w, { counts: c.merged.counts, area: c.area, bbox: c.bbox, decoded_counts: c.decoded_counts });
  });
  it('different sizes give an empty 0x0 RLE, as pycocotools', () => {
    expect(maskUtils.merge([{ size: [2, 2], counts: '04' }, { size: [3, 2], counts: '6' }])).toEqual({ size: [0, 0], counts: '' });
  });
});

describe('tobbox.json', () => {
  const { cases } = load('tobbox.json');
  it.each(named(cases))('%s', (_name, c) => {
    const unc = { size: [c.h, c.w] as [number, number], counts: c.uncompressed_counts };
    const rle = maskUtils.frPyObjects(unc, c.h, c.w);
    expect(rle.counts).toBe(c.counts);
    expect(maskUtils.area(rle)).toBe(c.area);
    expect(maskUtils.area(unc)).toBe(c.area);
    // Reference-commit rleToBbox; pycocotools 2.0.11 differs only where `bbox_pycocotools_2_0_11` is given.
    expect(maskUtils.toBbox(rle)).toEqual(c.bbox);
    expect(maskUtils.toBbox(unc)).toEqual(c.bbox);
  });
});
