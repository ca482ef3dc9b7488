// SPDX-License-Identifier: Apache-2.0
/**
 * Run-length encoding primitives, a line-by-line port of pycocotools' `maskApi.c` (cocodataset/cocoapi commit
 * 8c9bcc3): the compressed string code (`rleToString`/`rleFrString`), encode, decode, area, toBbox and merge.
 * Unsigned 32-bit arithmetic is reproduced with `>>> 0` where C wraps.
 *
 * All functions work on {@link RleData} (uint32 run lengths over the column-major flattening) and allocate only
 * typed arrays, so they are fast on full-size masks (e.g. 1333x800).
 */
import { MaskApiError, type RleData } from './types.js';

const latin1 = new TextDecoder('latin1');

/** Scratch buffer reused by the encoders (grown on demand; results are copied out). */
let scratch = new Uint32Array(1024);
function scratchOf(n: number): Uint32Array {
  if (scratch.length < n) scratch = new Uint32Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * Copy run lengths into a view of a shared chunk. Hundreds of thousands of small RLEs (a COCO evaluation) would
 * otherwise each own an ArrayBuffer, and V8's garbage collector slows down with the number of backing stores.
 */
const CHUNK = 1 << 18;
let chunk = new Uint32Array(CHUNK);
let chunkOff = 0;
export function copyCounts(src: Uint32Array, m: number): Uint32Array {
  if (m > CHUNK >> 4) return src.slice(0, m);
  if (chunkOff + m > CHUNK) {
    chunk = new Uint32Array(CHUNK);
    chunkOff = 0;
  }
  const out = chunk.subarray(chunkOff, chunkOff + m);
  out.set(src.subarray(0, m));
  chunkOff += m;
  return out;
}

/** An empty (all background) RLE of size h x w: one 0-run of h*w (what `rleFrPoly` gives for no boundary). */
export function rleEmpty(h: number, w: number): RleData {
  return { h, w, cnts: Uint32Array.of((h * w) >>> 0) };
}

/**
 * `rleToString`: the compressed COCO string of run lengths. Each count (a delta to the count two before it,
 * from the fourth on) is written as 5-bit groups, low bits first, as chars 48 + (group | 0x20 if more follow).
 */
export function rleToString(R: RleData | Uint32Array): string {
  const cnts = R instanceof Uint32Array ? R : R.cnts;
  const m = cnts.length;
  const buf = new Uint8Array(m * 7 + 1);
  let p = 0;
  for (let i = 0; i < m; i++) {
    let x = cnts[i];
    if (i > 2) x -= cnts[i - 2];
    if (x >= -2147483648 && x <= 2147483647) {
      // int32 fast path: `&` and `>>` behave like C's on a signed long in this range.
      for (;;) {
        let c = x & 0x1f;
        x >>= 5;
        const more = c & 0x10 ? x !== -1 : x !== 0;
        if (more) c |= 0x20;
        buf[p++] = c + 48;
        if (!more) break;
      }
    } else {
      for (;;) {
        const q = Math.floor(x / 32);
        let c = x - q * 32;
        x = q;
        const more = c & 0x10 ? x !== -1 : x !== 0;
        if (more) c |= 0x20;
        buf[p++] = c + 48;
        if (!more) break;
      }
    }
  }
  return latin1.decode(buf.subarray(0, p));
}

/** `rleFrString`: parse a compressed COCO string into run lengths. */
export function rleFromString(s: string, h: number, w: number): RleData {
  const n = s.length;
  const cnts = scratchOf(n + 1);
  let m = 0;
  let p = 0;
  while (p < n) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const code = p < n ? s.charCodeAt(p) & 0xff : 0;
      const c = (((code - 48) << 24) >> 24) as number; // C `char` (signed) arithmetic
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (m > 2) x += cnts[m - 2];
    cnts[m++] = x >>> 0;
  }
  return { h, w, cnts: copyCounts(cnts, m) };
}

/** Run lengths of uncompressed counts (`np.array(counts, dtype=np.uint32)` semantics: truncate, wrap). */
export function rleFromCounts(counts: ArrayLike<number>, h: number, w: number): RleData {
  const cnts = new Uint32Array(counts.length);
  for (let i = 0; i < counts.length; i++) cnts[i] = Number(counts[i]) >>> 0;
  return { h, w, cnts };
}

/**
 * `rleEncode` of one mask given in **column-major** order (`data[x * h + y]`). Like the C code, a run ends
 * wherever the value changes, so masks should hold 0/1.
 */
export function rleEncodeColumnMajor(data: ArrayLike<number>, h: number, w: number): RleData {
  return rleEncodeStrided(data, h, w, 0, 1, h);
}

/**
 * `rleEncode` of one mask given in **row-major** order (`data[y * w + x]`, offset `offset`), scanning it
 * column by column without a transposed copy.
 */
export function rleEncodeRowMajor(data: ArrayLike<number>, h: number, w: number, offset = 0): RleData {
  return rleEncodeStrided(data, h, w, offset, w, 1);
}

/** `rleEncode` of the mask whose pixel (y, x) is `data[offset + y * rowStep + x * colStep]`, in column order. */
function rleEncodeStrided(data: ArrayLike<number>, h: number, w: number, offset: number, rowStep: number, colStep: number): RleData {
  const cnts = scratchOf(h * w + 1);
  let k = 0;
  let p = 0;
  let c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0, idx = offset + x * colStep; y < h; y++, idx += rowStep) {
      const v = data[idx];
      if (v !== p) {
        cnts[k++] = c;
        c = 0;
        p = v;
      }
      c++;
    }
  }
  cnts[k++] = c;
  return { h, w, cnts: cnts.slice(0, k) };
}

/** `rleDecode` into a column-major Uint8Array of h*w (runs past h*w are cut; a short RLE leaves zeros). */
export function rleDecodeColumnMajor(R: RleData, out?: Uint8Array): Uint8Array {
  const a = R.h * R.w;
  const M = out ?? new Uint8Array(a);
  if (out) M.fill(0, 0, a);
  let pos = 0;
  let v = 0;
  const cnts = R.cnts;
  for (let j = 0; j < cnts.length && pos < a; j++) {
    const end = Math.min(a, pos + cnts[j]);
    if (v) M.fill(1, pos, end);
    pos = end;
    v = 1 - v;
  }
  return M;
}

/** `rleDecode` into a row-major Uint8Array of h*w (`data[y * w + x]`). */
export function rleDecodeRowMajor(R: RleData, out?: Uint8Array): Uint8Array {
  const { h, w, cnts } = R;
  const a = h * w;
  const M = out ?? new Uint8Array(a);
  if (out) M.fill(0, 0, a);
  let pos = 0;
  for (let j = 0; j < cnts.length && pos < a; j++) {
    const end = Math.min(a, pos + cnts[j]);
    if (j & 1) {
      let q = pos;
      while (q < end) {
        const x = Math.floor(q / h);
        const y = q - x * h;
        const len = Math.min(end - q, h - y);
        for (let t = 0, idx = y * w + x; t < len; t++, idx += w) M[idx] = 1;
        q += len;
      }
    }
    pos = end;
  }
  return M;
}

/** `rleArea`: the number of foreground pixels (sum of the odd runs, uint32). */
export function rleArea(R: RleData): number {
  const cnts = R.cnts;
  let a = 0;
  for (let j = 1; j < cnts.length; j += 2) a += cnts[j];
  return a % 4294967296;
}

/**
 * `rleToBbox` as at the reference commit: `[x, y, w, h]`. A foreground run that crosses a column makes the box
 * span the full height. (pycocotools 2.0.11 rewrote this function; it differs only for RLEs holding zero-length
 * foreground runs, which encode/merge/frPyObjects never produce: there the old code also counts the position of
 * the empty run.)
 */
export function rleToBbox(R: RleData): [number, number, number, number] {
  const h = R.h >>> 0;
  const w = R.w >>> 0;
  const cnts = R.cnts;
  const m = cnts.length - (cnts.length & 1);
  if (m === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc = (cc + cnts[j]) >>> 0;
    const t = (cc - (j % 2)) >>> 0;
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = (h - 1) >>> 0;
    }
    if (x < xs) xs = x;
    if (x > xe) xe = x;
    if (y < ys) ys = y;
    if (y > ye) ye = y;
  }
  return [xs, ys, (xe - xs + 1) >>> 0, (ye - ys + 1) >>> 0];
}

function mismatch(what: string): never {
  throw new MaskApiError(`${what}: the RLEs' run lengths do not add up to the same total (h*w); pycocotools loops forever on such input`);
}

/**
 * `rleMerge`: union (or intersection) of RLEs of one size. RLEs of different sizes give an empty 0x0 RLE, as
 * in pycocotools.
 */
export function rleMerge(R: readonly RleData[], intersect = false): RleData {
  const n = R.length;
  if (n === 0) return { h: 0, w: 0, cnts: new Uint32Array(0) };
  let h = R[0].h;
  let w = R[0].w;
  if (n === 1) return { h, w, cnts: R[0].cnts.slice() };
  let A = R[0].cnts;
  for (let i = 1; i < n; i++) {
    const B = R[i].cnts;
    if (R[i].h !== h || R[i].w !== w) {
      h = w = 0;
      A = new Uint32Array(0);
      break;
    }
    const out = new Uint32Array(A.length + B.length + 1);
    const am = A.length;
    const bm = B.length;
    let ca = am ? A[0] : 0;
    let cb = bm ? B[0] : 0;
    let v = 0;
    let va = 0;
    let vb = 0;
    let m = 0;
    let a = 1;
    let b = 1;
    let cc = 0;
    let ct = 1;
    while (ct > 0) {
      const c = ca < cb ? ca : cb;
      if (c === 0 && ((ca === 0 && a >= am) || (cb === 0 && b >= bm))) mismatch('merge');
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < am) {
        ca = A[a++];
        va = 1 - va;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < bm) {
        cb = B[b++];
        vb = 1 - vb;
      }
      ct += cb;
      const vp = v;
      v = intersect ? va & vb : va | vb;
      if (v !== vp || ct === 0) {
        out[m++] = cc;
        cc = 0;
      }
    }
    A = copyCounts(out, m);
  }
  return { h, w, cnts: A };
}
