// SPDX-License-Identifier: Apache-2.0
/**
 * Binary masks packed 32 pixels per word, row by row, with each mask's bounding box in rows and words, so that
 * pairwise intersections (Matrix NMS) cost O(overlap of the two boxes) popcounts instead of an n × HW float
 * matrix product.
 */
import { ShapeError } from '@solo-ts/core';

export interface PackedMasks {
  count: number;
  height: number;
  width: number;
  /** words per row = ceil(width / 32) */
  wordsPerRow: number;
  /** count × height × wordsPerRow words; bit (x & 31) of word (x >> 5) is pixel x */
  bits: Uint32Array;
  /** pixel count of every mask */
  areas: Float64Array;
  /** first / last+1 row and word holding a set bit (0, 0 for an empty mask) */
  rowStart: Int32Array;
  rowEnd: Int32Array;
  wordStart: Int32Array;
  wordEnd: Int32Array;
}

/** Zeroed storage for `n` packed masks of (height, width). */
function allocPacked(n: number, height: number, width: number): PackedMasks {
  const wpr = Math.ceil(width / 32);
  return {
    count: n,
    height,
    width,
    wordsPerRow: wpr,
    bits: new Uint32Array(n * height * wpr),
    areas: new Float64Array(n),
    rowStart: new Int32Array(n),
    rowEnd: new Int32Array(n),
    wordStart: new Int32Array(n),
    wordEnd: new Int32Array(n),
  };
}

/** The area and the box (rows [r0, r1), words [w0, w1)) of the mask being packed, row after row. */
class Extent {
  area = 0;
  r0 = 0;
  r1 = 0;
  w0 = 0;
  w1 = 0;
  constructor(
    private readonly height: number,
    private readonly wordsPerRow: number,
  ) {}
  /** Start a mask. */
  reset(): void {
    this.area = 0;
    this.r0 = this.height;
    this.r1 = 0;
    this.w0 = this.wordsPerRow;
    this.w1 = 0;
  }
  /** Row y (rows come in increasing order) has `area` set pixels, all in words [wa, wb). */
  addRow(y: number, wa: number, wb: number, area: number): void {
    this.area += area;
    if (wa < this.w0) this.w0 = wa;
    if (wb > this.w1) this.w1 = wb;
    if (y < this.r0) this.r0 = y;
    this.r1 = y + 1;
  }
  /** Store the finished mask as mask k of `p` (box 0, 0 for an empty mask). */
  store(p: PackedMasks, k: number): void {
    p.areas[k] = this.area;
    const empty = this.area === 0;
    p.rowStart[k] = empty ? 0 : this.r0;
    p.rowEnd[k] = empty ? 0 : this.r1;
    p.wordStart[k] = empty ? 0 : this.w0;
    p.wordEnd[k] = empty ? 0 : this.w1;
  }
}

/**
 * Pack `count` masks of (height, width) from a byte array of 0/1 values (BitmapMasks / bool tensor data; only
 * the value 1 counts as set), mask i at `data[(i*h + y)*w + x]`.
 * `select` packs only those masks (in that order).
 */
export function packMasks(data: Uint8Array, count: number, height: number, width: number, select?: ArrayLike<number>): PackedMasks {
  if (data.length < count * height * width) {
    throw new ShapeError(`packMasks: ${data.length} values for ${count} masks of ${height}×${width}`);
  }
  const n = select ? select.length : count;
  const out = allocPacked(n, height, width);
  const { wordsPerRow: wpr, bits } = out;
  const ext = new Extent(height, wpr);
  const hw = height * width;
  for (let k = 0; k < n; k++) {
    const src = select ? select[k] : k;
    if (src < 0 || src >= count) throw new ShapeError(`packMasks: mask index ${src} out of range [0, ${count})`);
    const off = src * hw;
    const end = off + hw;
    const dst = k * height * wpr;
    ext.reset();
    let y = 0;
    while (y < height) {
      const row = off + y * width;
      // native scans: the next set pixel (skipping empty rows at once) and the last one of its row
      const p = data.indexOf(1, row);
      if (p < 0 || p >= end) break;
      if (p >= row + width) {
        y = Math.floor((p - off) / width);
        continue;
      }
      const first = p - row;
      const last = data.lastIndexOf(1, row + width - 1) - row;
      const drow = dst + y * wpr;
      const wa = first >> 5;
      const wb = last >> 5;
      let rowArea = 0;
      for (let wi = wa; wi <= wb; wi++) {
        const x0 = wi * 32;
        const xs = Math.max(first, x0);
        const xe = Math.min(last + 1, x0 + 32);
        let word = 0;
        for (let x = xs; x < xe; x++) if (data[row + x] === 1) word |= 1 << (x - x0);
        if (word !== 0) {
          bits[drow + wi] = word;
          rowArea += popcount(word);
        }
      }
      ext.addRow(y, wa, wb + 1, rowArea);
      y++;
    }
    ext.store(out, k);
  }
  return out;
}

/**
 * Pack the binary masks `values > thr` of float maps (count, height, width), for the maps listed in `select`
 * (in that order).
 */
export function packMasksThreshold(values: Float32Array, count: number, height: number, width: number, thr: number, select: ArrayLike<number>): PackedMasks {
  if (values.length < count * height * width) {
    throw new ShapeError(`packMasksThreshold: ${values.length} values for ${count} maps of ${height}×${width}`);
  }
  const n = select.length;
  const out = allocPacked(n, height, width);
  const { wordsPerRow: wpr, bits } = out;
  const ext = new Extent(height, wpr);
  const hw = height * width;
  for (let k = 0; k < n; k++) {
    const src = select[k];
    if (src < 0 || src >= count) throw new ShapeError(`packMasksThreshold: map index ${src} out of range [0, ${count})`);
    const off = src * hw;
    const dst = k * height * wpr;
    ext.reset();
    for (let y = 0; y < height; y++) {
      const row = off + y * width;
      const drow = dst + y * wpr;
      let rowArea = 0;
      let wa = -1;
      let wb = -1;
      for (let wi = 0; wi < wpr; wi++) {
        const x0 = wi * 32;
        const xe = Math.min(width, x0 + 32);
        let word = 0;
        for (let x = x0; x < xe; x++) if (values[row + x] > thr) word |= 1 << (x - x0);
        if (word !== 0) {
          bits[drow + wi] = word;
          rowArea += popcount(word);
          if (wa < 0) wa = wi;
          wb = wi;
        }
      }
      if (rowArea > 0) ext.addRow(y, wa, wb + 1, rowArea);
    }
    ext.store(out, k);
  }
  return out;
}

/** Number of set bits of a 32-bit word. */
export function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Number of pixels set in both masks i and j. */
export function intersection(p: PackedMasks, i: number, j: number): number {
  const r0 = Math.max(p.rowStart[i], p.rowStart[j]);
  const r1 = Math.min(p.rowEnd[i], p.rowEnd[j]);
  const w0 = Math.max(p.wordStart[i], p.wordStart[j]);
  const w1 = Math.min(p.wordEnd[i], p.wordEnd[j]);
  if (r0 >= r1 || w0 >= w1) return 0;
  const { bits, wordsPerRow: wpr, height } = p;
  const bi = i * height * wpr;
  const bj = j * height * wpr;
  let s = 0;
  for (let y = r0; y < r1; y++) {
    const oi = bi + y * wpr;
    const oj = bj + y * wpr;
    for (let w = w0; w < w1; w++) {
      let v = bits[oi + w] & bits[oj + w];
      if (v !== 0) {
        v = v - ((v >>> 1) & 0x55555555);
        v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
        s += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      }
    }
  }
  return s;
}
