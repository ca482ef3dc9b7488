// SPDX-License-Identifier: Apache-2.0
/**
 * Polygon and box rasterisation, a port of `rleFrPoly`/`rleFrBbox` from pycocotools' `maskApi.c`.
 *
 * The polygon is scaled by 5, its vertices converted with C's `(int)(5*x + .5)` (truncation toward zero), every
 * edge walked densely on that grid, and the points where the walk crosses a pixel column centre kept as
 * "y-boundaries", which become the RLE. Concave, self-touching and out-of-image polygons follow from that walk
 * exactly as in C; the double arithmetic below keeps the C order of operations.
 */
import { copyCounts, rleEmpty } from './rle.js';
import { MaskApiError, type RleData } from './types.js';

const SCALE = 5;

/** Scratch buffers reused across calls (grown on demand); the result is copied out. */
const I32: Int32Array[] = [new Int32Array(64), new Int32Array(64), new Int32Array(1024), new Int32Array(1024)];
let U32 = new Uint32Array(1024);
let U32B = new Uint32Array(1024);
function i32(slot: number, n: number): Int32Array {
  if (I32[slot].length < n) I32[slot] = new Int32Array(Math.max(n, I32[slot].length * 2));
  return I32[slot];
}
function u32(n: number): Uint32Array {
  if (U32.length < n) U32 = new Uint32Array(Math.max(n, U32.length * 2));
  return U32;
}
function u32b(n: number): Uint32Array {
  if (U32B.length < n) U32B = new Uint32Array(Math.max(n, U32B.length * 2));
  return U32B;
}
/** Upper bound on the upsampled boundary points (pycocotools would try to malloc them all). */
const MAX_POINTS = 1 << 28;

/** C's `(int)v` for a double on x86-64: truncation toward zero; NaN and out-of-range values give INT_MIN. */
export function cInt(v: number): number {
  if (v > -2147483649 && v < 2147483648) return Math.trunc(v) | 0;
  return -2147483648;
}

/**
 * `rleFrPoly`: rasterise one polygon of `k` vertices (`xy` = `[x1, y1, x2, y2, ...]`, at least 2k values;
 * a trailing odd value is ignored by the caller's `k = floor(len / 2)`).
 */
export function rleFrPoly(xy: ArrayLike<number>, k: number, h: number, w: number): RleData {
  if (k <= 0) return rleEmpty(h, w);
  // upsample and get discrete points densely along the entire boundary
  const x = i32(0, k + 1);
  const y = i32(1, k + 1);
  for (let j = 0; j < k; j++) x[j] = cInt(SCALE * Number(xy[j * 2]) + 0.5);
  x[k] = x[0];
  for (let j = 0; j < k; j++) y[j] = cInt(SCALE * Number(xy[j * 2 + 1]) + 0.5);
  y[k] = y[0];
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
  if (m > MAX_POINTS) {
    throw new MaskApiError(`polygon too large to rasterise: its edges have ${m} points on the 5x grid (non-finite or huge coordinates?)`);
  }
  const u = i32(2, m);
  const v = i32(3, m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      if (dx === 0) {
        // a repeated vertex: s = 0/0 = NaN and C's (int)NaN is INT_MIN
        u[m] = xs;
        v[m] = cInt(ys + s * 0 + 0.5);
        m++;
      } else {
        // |s| <= 1, so the value stays between two int32 coordinates: `| 0` is C's truncating (int)
        for (let d = 0; d <= dx; d++) {
          const t = flip ? dx - d : d;
          u[m] = t + xs;
          v[m] = (ys + s * t + 0.5) | 0;
          m++;
        }
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = (xs + s * t + 0.5) | 0;
        m++;
      }
    }
  }
  // get points along the y-boundary and downsample
  const total = m;
  m = 0;
  const bx = i32(0, total);
  const by = i32(1, total);
  const wm1 = w === 0 ? 2 ** 64 : w - 1; // `w-1` on an unsigned siz (2^64 - 1), compared as a double: 2^64
  for (let j = 1; j < total; j++) {
    if (u[j] !== u[j - 1]) {
      let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
      xd = (xd + 0.5) / SCALE - 0.5;
      if (Math.floor(xd) !== xd || xd < 0 || xd > wm1) continue;
      let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
      yd = (yd + 0.5) / SCALE - 0.5;
      if (yd < 0) yd = 0;
      else if (yd > h) yd = h;
      yd = Math.ceil(yd);
      bx[m] = cInt(xd);
      by[m] = cInt(yd);
      m++;
    }
  }
  // compute the rle encoding given the y-boundary points
  let kk = m;
  const a = u32(kk + 1);
  for (let j = 0; j < kk; j++) a[j] = (Math.imul(bx[j], h | 0) + by[j]) >>> 0;
  a[kk++] = (h * w) >>> 0;
  a.subarray(0, kk).sort();
  let p = 0;
  for (let j = 0; j < kk; j++) {
    const t = a[j];
    a[j] = (a[j] - p) >>> 0;
    p = t;
  }
  const b = u32b(kk);
  let j = 0;
  m = 0;
  b[m++] = a[j++];
  while (j < kk) {
    if (a[j] > 0) b[m++] = a[j++];
    else {
      j++;
      if (j < kk) b[m - 1] += a[j++];
    }
  }
  return { h, w, cnts: copyCounts(b, m) };
}

/** `rleFrBbox`: a box `[x, y, w, h]` rasterised as the polygon `[x,y, x,y+h, x+w,y+h, x+w,y]`. */
export function rleFrBbox(bb: ArrayLike<number>, h: number, w: number): RleData {
  const xs = Number(bb[0]);
  const xe = xs + Number(bb[2]);
  const ys = Number(bb[1]);
  const ye = ys + Number(bb[3]);
  return rleFrPoly([xs, ys, xs, ye, xe, ye, xe, ys], 4, h, w);
}
