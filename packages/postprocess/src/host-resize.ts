// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.interpolate(mode='bilinear', align_corners=False, size=...)` on single-channel float maps in plain
 * JS, reproducing torch 1.13's CPU result bit for bit (checked against torch on random maps, see
 * `__fixtures__/torch_bilinear.json`): scale = float32(in / out); source = scale·(dst + 0.5) − 0.5 evaluated
 * exactly (clamped at 0); i0 = trunc(source), i1 = min(i0 + 1, in − 1); λ1 = float32(source − i0),
 * λ0 = float32(1 − λ1) (equal sizes: a plain copy); weights w_ab = float32(λ_a^h · λ_b^w); output =
 * float32(x00·w00 + x01·w01 + x10·w10 + x11·w11) with the sum taken without intermediate float32 rounding.
 *
 * Used by the SOLO post-processor on host-memory backends, where it is several times faster than tfjs's
 * resize kernels, and to fuse "resize to the padded size → crop to img_shape" without materialising the
 * padded map.
 */

/** Interpolation taps of one axis. */
export interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

/** Taps for resizing `inSize` → `outSize`, for the first `count` outputs (default all). */
export function bilinearTaps(inSize: number, outSize: number, count = outSize): Taps {
  const scale = Math.fround(inSize / outSize);
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const l0 = new Float32Array(count);
  const l1 = new Float32Array(count);
  for (let o = 0; o < count; o++) {
    if (inSize === outSize) {
      i0[o] = o;
      i1[o] = o;
      l0[o] = 1;
      l1[o] = 0;
      continue;
    }
    let src = scale * (o + 0.5) - 0.5; // exact in double (a float32 times a short dyadic number)
    if (src < 0) src = 0;
    const a = Math.min(Math.trunc(src), inSize - 1);
    i0[o] = a;
    i1[o] = a < inSize - 1 ? a + 1 : a;
    const lam = Math.fround(Math.min(Math.max(src - a, 0), 1));
    l1[o] = lam;
    l0[o] = Math.fround(1 - lam);
  }
  return { i0, i1, l0, l1 };
}

/** Weights float32(λ^h · λ^w) of one output row, cached by the row's λ^h pair (×4 upsampling repeats them). */
class RowWeights {
  private readonly cache = new Map<number, Float32Array[]>();
  constructor(private readonly tapsX: Taps) {}
  get(hy0: number, hy1: number): Float32Array[] {
    const key = hy1; // hy0 = float32(1 − hy1)
    let w = this.cache.get(key);
    if (!w) {
      const { l0, l1 } = this.tapsX;
      const n = l0.length;
      w = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      for (let x = 0; x < n; x++) {
        w[0][x] = hy0 * l0[x];
        w[1][x] = hy0 * l1[x];
        w[2][x] = hy1 * l0[x];
        w[3][x] = hy1 * l1[x];
      }
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(key, w);
    }
    return w;
  }
}

/** A window [y0, y1) × [x0, x1) of a resize output. */
export interface Window {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * Compute the output window `win` of a PyTorch bilinear resize of `src` (rows of `inW` values from `srcOffset`),
 * given the taps of both axes, into `dst` (row stride `dstStride`, element (y, x) at dstOffset + y·stride + x).
 */
export function resizeWindow(src: Float32Array, srcOffset: number, inW: number, tapsY: Taps, tapsX: Taps, win: Window, dst: Float32Array, dstOffset: number, dstStride: number): void {
  resizeWindowInto(src, srcOffset, inW, tapsY, tapsX, win, dst, dstOffset, dstStride, undefined);
}

/** Like `resizeWindow`, writing `float32(value) > threshold ? 1 : 0` bytes. */
export function resizeWindowThreshold(src: Float32Array, srcOffset: number, inW: number, tapsY: Taps, tapsX: Taps, win: Window, dst: Uint8Array, dstOffset: number, dstStride: number, threshold: number): void {
  resizeWindowInto(src, srcOffset, inW, tapsY, tapsX, win, dst, dstOffset, dstStride, threshold);
}

/** The loop of both: the values themselves without a threshold (float32 `dst`), else the thresholded bytes. */
function resizeWindowInto(src: Float32Array, srcOffset: number, inW: number, tapsY: Taps, tapsX: Taps, win: Window, dst: Float32Array | Uint8Array, dstOffset: number, dstStride: number, threshold: number | undefined): void {
  const { i0: x0, i1: x1 } = tapsX;
  const weights = new RowWeights(tapsX);
  for (let y = win.y0; y < win.y1; y++) {
    const ra = srcOffset + tapsY.i0[y] * inW;
    const rb = srcOffset + tapsY.i1[y] * inW;
    const [w00, w01, w10, w11] = weights.get(tapsY.l0[y], tapsY.l1[y]);
    const o = dstOffset + y * dstStride;
    if (threshold === undefined) {
      for (let x = win.x0; x < win.x1; x++) {
        const a = x0[x];
        const b = x1[x];
        dst[o + x] = src[ra + a] * w00[x] + src[ra + b] * w01[x] + src[rb + a] * w10[x] + src[rb + b] * w11[x];
      }
    } else {
      for (let x = win.x0; x < win.x1; x++) {
        const a = x0[x];
        const b = x1[x];
        dst[o + x] = Math.fround(src[ra + a] * w00[x] + src[ra + b] * w01[x] + src[rb + a] * w10[x] + src[rb + b] * w11[x]) > threshold ? 1 : 0;
      }
    }
  }
}

/** Outputs [first, last + 1) whose taps read a source index in [lo, hi] (taps are monotone); [0, 0) if none. */
export function outputsTouching(t: Taps, lo: number, hi: number): [number, number] {
  const n = t.i0.length;
  let a = 0;
  while (a < n && t.i1[a] < lo) a++;
  let b = n;
  while (b > a && t.i0[b - 1] > hi) b--;
  return a < b ? [a, b] : [0, 0];
}

/** Whether taps map `inSize` onto itself one to one (a same-size resize: output o = input o, weight 1). */
function isIdentity(t: Taps, inSize: number): boolean {
  const n = t.i0.length;
  if (n !== inSize) return false;
  for (let o = 0; o < n; o++) if (t.i0[o] !== o || t.l1[o] !== 0 || t.l0[o] !== 1) return false;
  return true;
}

/** Source index range [min i0, max i1] read by outputs [a, b). */
function sourcesOf(t: Taps, a: number, b: number): [number, number] {
  return [t.i0[a], t.i1[b - 1]];
}

/**
 * mmdet's final mask resize for one probability map, thresholded: map (h4 × w4) → bilinear to the padded size
 * (taps `upY` / `upX`, restricted to the img_shape crop) → bilinear to the original size (taps `oriY` / `oriX`)
 * → `> thr` bytes into `out` (H0 × W0 at `outOffset`, which must be zero-filled). Only the windows that can reach
 * the threshold are computed: outside the bounding box of the map's values ≥ thr − 1e-5 (widened by the
 * interpolation taps) every output is a convex combination of values below the threshold, hence 0 (bit-identical
 * to computing everything). `crop` is scratch space of cropH × cropW floats.
 */
export function resizeCropResizeThreshold(
  probs: Float32Array,
  offset: number,
  h4: number,
  w4: number,
  upY: Taps,
  upX: Taps,
  oriY: Taps,
  oriX: Taps,
  thr: number,
  crop: Float32Array,
  out: Uint8Array,
  outOffset: number,
): void {
  const cropH = upY.i0.length;
  const cropW = upX.i0.length;
  const W0 = oriX.i0.length;
  let ry0 = h4;
  let ry1 = -1;
  let rx0 = w4;
  let rx1 = -1;
  const low = thr > 1e-4 ? thr - 1e-5 : -Infinity;
  for (let y = 0; y < h4; y++) {
    const row = offset + y * w4;
    for (let x = 0; x < w4; x++) {
      if (probs[row + x] >= low) {
        if (y < ry0) ry0 = y;
        ry1 = y;
        if (x < rx0) rx0 = x;
        if (x > rx1) rx1 = x;
      }
    }
  }
  if (ry1 < 0) return;
  // crop pixels that may be ≥ low, then ori outputs that may read them, then the crop pixels those outputs read
  const [ay0, ay1] = outputsTouching(upY, ry0, ry1);
  const [ax0, ax1] = outputsTouching(upX, rx0, rx1);
  if (ay0 >= ay1 || ax0 >= ax1) return;
  if (isIdentity(oriY, cropH) && isIdentity(oriX, cropW)) {
    // ori_shape == img_shape (an unscaled image): the second resize copies exactly (x·1 + y·0), so threshold the
    // first one directly (bit-identical, half the work)
    resizeWindowThreshold(probs, offset, w4, upY, upX, { y0: ay0, y1: ay1, x0: ax0, x1: ax1 }, out, outOffset, W0, thr);
    return;
  }
  const [by0, by1] = outputsTouching(oriY, ay0, ay1 - 1);
  const [bx0, bx1] = outputsTouching(oriX, ax0, ax1 - 1);
  if (by0 >= by1 || bx0 >= bx1) return;
  if (thr > 1e-4 && thr < 1 - 1e-4) {
    boundaryOnly(probs, offset, h4, w4, upY, upX, oriY, oriX, thr, out, outOffset, by0, by1, bx0, bx1);
    return;
  }
  const [sy0, sy1] = sourcesOf(oriY, by0, by1);
  const [sx0, sx1] = sourcesOf(oriX, bx0, bx1);
  resizeWindow(probs, offset, w4, upY, upX, { y0: sy0, y1: Math.min(cropH, sy1 + 1), x0: sx0, x1: Math.min(cropW, sx1 + 1) }, crop, 0, cropW);
  resizeWindowThreshold(crop, 0, cropW, oriY, oriX, { y0: by0, y1: by1, x0: bx0, x1: bx1 }, out, outOffset, W0, thr);
}

let stateScratch = new Uint8Array(0);
const cropCache = { vals: [new Float32Array(0), new Float32Array(0)], done: [new Uint8Array(0), new Uint8Array(0)] };
let colScratch = new Uint8Array(0);

/**
 * The window [by0, by1) × [bx0, bx1) of the crop-and-resize pipeline, thresholded, computing only the outputs near
 * the mask boundary. An output is a convex combination (float32 weights that sum to 1 within a few ulps) of the
 * crop pixels it reads, each a convex combination of the map values they read: when every map value it depends on
 * (the rows / columns of its taps through both resizes) is ≥ thr + 1e-5 the output is above the threshold, when
 * every one is < thr − 1e-5 it is below, bit-identical to computing it. The rest (the boundary band) is computed
 * exactly as the dense path does (the same float32 weights and summation order).
 */
function boundaryOnly(
  probs: Float32Array,
  offset: number,
  h4: number,
  w4: number,
  upY: Taps,
  upX: Taps,
  oriY: Taps,
  oriX: Taps,
  thr: number,
  out: Uint8Array,
  outOffset: number,
  by0: number,
  by1: number,
  bx0: number,
  bx1: number,
): void {
  const W0 = oriX.i0.length;
  const lo = thr - 1e-5;
  const hi = thr + 1e-5;
  // per map pixel: 0 below lo, 2 at or above hi, 1 in between
  if (stateScratch.length < h4 * w4) stateScratch = new Uint8Array(h4 * w4);
  if (colScratch.length < w4) colScratch = new Uint8Array(w4);
  const state = stateScratch;
  const col = colScratch;
  for (let k = 0; k < h4 * w4; k++) {
    const v = probs[offset + k];
    state[k] = v >= hi ? 2 : v < lo ? 0 : 1;
  }
  const uy0 = upY.i0;
  const uy1 = upY.i1;
  const ux0 = upX.i0;
  const ux1 = upX.i1;
  const ul0y = upY.l0;
  const ul1y = upY.l1;
  const ul0x = upX.l0;
  const ul1x = upX.l1;
  // crop pixels of the first resize, as the dense path stores them (float32), computed on demand and kept for the
  // two crop rows the current output row reads (the next output rows mostly read the same ones)
  const cropW = upX.i0.length;
  if (cropCache.vals[0].length < cropW) cropCache.vals = [new Float32Array(cropW), new Float32Array(cropW)];
  if (cropCache.done[0].length < cropW) cropCache.done = [new Uint8Array(cropW), new Uint8Array(cropW)];
  const rowOf = [-1, -1];
  const { vals, done } = cropCache;
  const slotOf = (r: number): number => {
    if (rowOf[0] === r) return 0;
    if (rowOf[1] === r) return 1;
    const k = rowOf[0] < rowOf[1] ? 0 : 1; // rows only grow: drop the lower one
    rowOf[k] = r;
    done[k].fill(0, 0, cropW);
    return k;
  };
  const cropAt = (k: number, r: number, c: number): number => {
    if (done[k][c]) return vals[k][c];
    const ra = offset + uy0[r] * w4;
    const rb = offset + uy1[r] * w4;
    const a = ux0[c];
    const b = ux1[c];
    const hy0 = ul0y[r];
    const hy1 = ul1y[r];
    const lx0 = ul0x[c];
    const lx1 = ul1x[c];
    const v = Math.fround(probs[ra + a] * Math.fround(hy0 * lx0) + probs[ra + b] * Math.fround(hy0 * lx1) + probs[rb + a] * Math.fround(hy1 * lx0) + probs[rb + b] * Math.fround(hy1 * lx1));
    vals[k][c] = v;
    done[k][c] = 1;
    return v;
  };
  const { i0: oy0, i1: oy1, l0: ol0y, l1: ol1y } = oriY;
  const { i0: ox0, i1: ox1, l0: ol0x, l1: ol1x } = oriX;
  const cx0 = ux0[ox0[bx0]];
  const cx1 = ux1[ox1[bx1 - 1]];
  for (let y = by0; y < by1; y++) {
    const r0 = oy0[y];
    const r1 = oy1[y];
    const p0 = uy0[r0];
    const p1 = uy1[r1];
    // per map column: the common state of the map rows this output row reads (1 when they differ)
    for (let x = cx0; x <= cx1; x++) {
      let st = state[p0 * w4 + x];
      for (let p = p0 + 1; p <= p1 && st !== 1; p++) if (state[p * w4 + x] !== st) st = 1;
      col[x] = st;
    }
    const k0 = slotOf(r0);
    const k1 = r1 === r0 ? k0 : slotOf(r1);
    const o = outOffset + y * W0;
    const wy0 = ol0y[y];
    const wy1 = ol1y[y];
    for (let x = bx0; x < bx1; x++) {
      const c0 = ox0[x];
      const c1 = ox1[x];
      const q0 = ux0[c0];
      const q1 = ux1[c1];
      let st = col[q0];
      for (let q = q0 + 1; q <= q1 && st !== 1; q++) if (col[q] !== st) st = 1;
      if (st === 2) out[o + x] = 1;
      else if (st === 1) {
        const wx0 = ol0x[x];
        const wx1 = ol1x[x];
        const v = cropAt(k0, r0, c0) * Math.fround(wy0 * wx0) + cropAt(k0, r0, c1) * Math.fround(wy0 * wx1) + cropAt(k1, r1, c0) * Math.fround(wy1 * wx0) + cropAt(k1, r1, c1) * Math.fround(wy1 * wx1);
        if (Math.fround(v) > thr) out[o + x] = 1;
      }
    }
  }
}

/**
 * Resize `src` (inH × inW at `srcOffset`) to outH × outW with PyTorch bilinear semantics, computing only the
 * top-left `rows × cols` block of the output (a crop of the full resize), written row-major (`cols` wide) to
 * `dst` at `dstOffset`.
 */
export function resizeBilinearBlock(src: Float32Array, srcOffset: number, inH: number, inW: number, outH: number, outW: number, rows: number, cols: number, dst: Float32Array, dstOffset: number): void {
  resizeWindow(src, srcOffset, inW, bilinearTaps(inH, outH, rows), bilinearTaps(inW, outW, cols), { y0: 0, y1: rows, x0: 0, x1: cols }, dst, dstOffset, cols);
}

/** Like `resizeBilinearBlock`, writing `float32(value) > threshold ? 1 : 0` bytes. */
export function resizeBilinearBlockThreshold(
  src: Float32Array,
  srcOffset: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  rows: number,
  cols: number,
  dst: Uint8Array,
  dstOffset: number,
  threshold: number,
): void {
  resizeWindowThreshold(src, srcOffset, inW, bilinearTaps(inH, outH, rows), bilinearTaps(inW, outW, cols), { y0: 0, y1: rows, x0: 0, x1: cols }, dst, dstOffset, cols, threshold);
}
