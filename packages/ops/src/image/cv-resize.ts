// SPDX-License-Identifier: Apache-2.0
/**
 * Bit-exact emulation of OpenCV's `cv2.resize` on uint8 images (OpenCV 4.6.0, no IPP), the resize mmcv's
 * `imresize`/`imrescale` call with `backend='cv2'`. Host code on typed arrays (no tensors): the data pipeline
 * (`@solo-ts/datasets` `Resize`, mask resizes) and SOLO's target generation (`@solo-ts/assigners`, mmcv
 * `imrescale(mask, 1 / stride)`) both use it.
 *
 * Size convention: as mmcv and cv2, sizes are passed **width first**: `resizeLinearU8(img, w, h)` is
 * `cv2.resize(img, (w, h))`, `rescaleSize(w, h, scale)` is mmcv `rescale_size((w, h), scale)` and returns
 * `[w, h]`. Images carry their own `height`/`width`.
 *
 * - `INTER_LINEAR`: OpenCV's fixed-point bilinear. Source coordinates use half-pixel centres,
 *   `fx = float((dx + 0.5) * scale_x - 0.5)` with `scale_x = 1 / (dst_w / src_w)` in double; the horizontal and
 *   vertical weights are 11-bit (`INTER_RESIZE_COEF_BITS`) rounded `short`s; the horizontal pass produces `int`
 *   sums `S = p0 * a0 + p1 * a1`, the vertical pass combines two such rows as
 *   `((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16) + 2) >> 2` (the formula of OpenCV's uint8
 *   specialisation, identical in its SIMD and scalar paths), saturated to uint8. Edges: horizontally a source
 *   index below 0 or at or past the last column is clamped with weight 0 on the missing neighbour; vertically
 *   the row indices are clamped but the weights are kept. For an integer ratio s (SOLO: 4, 8, 16) every output
 *   pixel is the mean of the 2x2 input block at rows s·k + s/2 − 1, s·k + s/2 (same for columns), rounded half up.
 * - When the scale is exactly 2 in both directions, OpenCV switches INTER_LINEAR to its fast INTER_AREA path:
 *   each output is `(a + b + c + d + 2) >> 2` of the 2x2 source block.
 * - Same size: a copy.
 * - `INTER_NEAREST`: `sx = min(floor(dx * (1 / (dst_w / src_w))), src_w - 1)` (double), same for rows.
 *
 * Images are row-major HWC with `channels` interleaved channels (any channel count).
 * Verified against cv2 4.6.0 on the fixtures in `__fixtures__/cv-resize` (see `scripts/make-resize-fixtures.py`)
 * and, for single-channel masks, on `@solo-ts/assigners`' `__fixtures__/cv2_rescale.json`.
 */
import { ShapeError, SoloError } from '@solo-ts/core';

/** A uint8 image, row-major HWC. */
export interface ImageU8 {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;
const f32 = Math.fround;

/** cvRound on a float: round half to even (the SSE conversion in the default rounding mode). */
function cvRound(v: number): number {
  const r = Math.round(v);
  // Math.round rounds .5 up; fix exact halves to even.
  if (r - v === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

function saturateShort(v: number): number {
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

interface AxisTable {
  /** Source index of the first tap. */
  ofs: Int32Array;
  /** Weight of tap 0 and tap 1 (fixed point, sum about 2048). */
  w0: Int32Array;
  w1: Int32Array;
  /** Source index of the second tap (already clamped). */
  ofs1: Int32Array;
}

/**
 * Source taps and 11-bit weights of one axis. Horizontally (OpenCV's xofs/alpha) an out-of-range tap is clamped
 * with the fraction forced to 0; vertically (yofs/beta) the rows are clamped to the image but the fraction is kept.
 */
function axisTable(srcSize: number, dstSize: number, scale: number, horizontal: boolean): AxisTable {
  const ofs = new Int32Array(dstSize);
  const ofs1 = new Int32Array(dstSize);
  const w0 = new Int32Array(dstSize);
  const w1 = new Int32Array(dstSize);
  const clampRow = (v: number): number => Math.min(Math.max(v, 0), srcSize - 1);
  for (let d = 0; d < dstSize; d++) {
    let fr = f32((d + 0.5) * scale - 0.5);
    let s0 = Math.floor(fr);
    fr = f32(fr - s0);
    if (horizontal) {
      if (s0 < 0) {
        fr = 0;
        s0 = 0;
      }
      if (s0 >= srcSize - 1) {
        fr = 0;
        s0 = srcSize - 1;
      }
    }
    ofs[d] = clampRow(s0);
    ofs1[d] = clampRow(s0 + 1);
    w0[d] = saturateShort(cvRound(f32(f32(1 - fr) * COEF_SCALE)));
    w1[d] = saturateShort(cvRound(f32(fr * COEF_SCALE)));
  }
  return { ofs, ofs1, w0, w1 };
}

function checkImage(src: ImageU8): void {
  const { height: h, width: w, channels: c } = src;
  if (!(h >= 1 && w >= 1 && c >= 1) || src.data.length !== h * w * c) {
    throw new ShapeError(`image data has ${src.data.length} bytes, expected ${h}x${w}x${c} (sizes must be ≥ 1)`);
  }
}

function checkSize(dstW: number, dstH: number): void {
  if (!(Number.isInteger(dstW) && Number.isInteger(dstH) && dstW > 0 && dstH > 0)) {
    throw new ShapeError(`resize target must be positive integers, got ${dstW}x${dstH} (w x h)`);
  }
}

/** `cv2.resize(src, (dstW, dstH), interpolation=cv2.INTER_LINEAR)` on uint8, bit-exact. */
export function resizeLinearU8(src: ImageU8, dstW: number, dstH: number): ImageU8 {
  checkImage(src);
  checkSize(dstW, dstH);
  const { height: sh, width: sw, channels: cn } = src;
  if (sw === dstW && sh === dstH) return { data: src.data.slice(), height: sh, width: sw, channels: cn };
  const scaleX = 1 / (dstW / sw);
  const scaleY = 1 / (dstH / sh);
  if (scaleX === 2 && scaleY === 2) return resizeAreaFast2x(src, dstW, dstH);

  const xt = axisTable(sw, dstW, scaleX, true);
  const yt = axisTable(sh, dstH, scaleY, false);
  const rowLen = dstW * cn;
  // per output element: source offsets (in the row) and weights of the two horizontal taps
  const o0 = new Int32Array(rowLen);
  const o1 = new Int32Array(rowLen);
  const a0 = new Int32Array(rowLen);
  const a1 = new Int32Array(rowLen);
  for (let dx = 0; dx < dstW; dx++) {
    for (let c = 0; c < cn; c++) {
      const k = dx * cn + c;
      o0[k] = xt.ofs[dx] * cn + c;
      o1[k] = xt.ofs1[dx] * cn + c;
      a0[k] = xt.w0[dx];
      a1[k] = xt.w1[dx];
    }
  }
  const s = src.data;
  const srcRow = sw * cn;
  // Horizontal pass of a source row into a buffer; two buffers roll down the image.
  const hpass = (sy: number, r: Int32Array): void => {
    const base = sy * srcRow;
    for (let k = 0; k < rowLen; k++) r[k] = s[base + o0[k]] * a0[k] + s[base + o1[k]] * a1[k];
  };
  let rowA = new Int32Array(rowLen);
  let rowB = new Int32Array(rowLen);
  let yA = -1;
  let yB = -1;
  const out = new Uint8Array(dstH * rowLen);
  for (let dy = 0; dy < dstH; dy++) {
    const y0 = yt.ofs[dy];
    const y1 = yt.ofs1[dy];
    if (yA !== y0) {
      if (yB === y0) {
        const t = rowA;
        rowA = rowB;
        rowB = t;
        yA = y0;
        yB = -1;
      } else {
        hpass(y0, rowA);
        yA = y0;
      }
    }
    if (yB !== y1) {
      if (y1 === y0) {
        rowB.set(rowA);
      } else {
        hpass(y1, rowB);
      }
      yB = y1;
    }
    const S0 = rowA;
    const S1 = rowB;
    const b0 = yt.w0[dy];
    const b1 = yt.w1[dy];
    const o = dy * rowLen;
    for (let x = 0; x < rowLen; x++) {
      // all values are non-negative, so >> is floor division; saturate_cast<uchar> as OpenCV's FixedPtCast
      const v = (((b0 * (S0[x] >> 4)) >> 16) + ((b1 * (S1[x] >> 4)) >> 16) + 2) >> 2;
      out[o + x] = v > 255 ? 255 : v;
    }
  }
  return { data: out, height: dstH, width: dstW, channels: cn };
}

/** OpenCV's fast INTER_AREA for an exact 2x2 downscale: rounded mean of each 2x2 block. */
function resizeAreaFast2x(src: ImageU8, dstW: number, dstH: number): ImageU8 {
  const { width: sw, channels: cn } = src;
  const s = src.data;
  const out = new Uint8Array(dstH * dstW * cn);
  const step = sw * cn;
  for (let dy = 0; dy < dstH; dy++) {
    const r0 = 2 * dy * step;
    const r1 = r0 + step;
    for (let dx = 0; dx < dstW; dx++) {
      const i0 = 2 * dx * cn;
      for (let c = 0; c < cn; c++) {
        const i = i0 + c;
        out[(dy * dstW + dx) * cn + c] = (s[r0 + i] + s[r0 + i + cn] + s[r1 + i] + s[r1 + i + cn] + 2) >> 2;
      }
    }
  }
  return { data: out, height: dstH, width: dstW, channels: cn };
}

/** Source indices of `cv2.resize(..., INTER_NEAREST)` along one axis. */
export function nearestIndices(srcSize: number, dstSize: number): Int32Array {
  const inv = 1 / (dstSize / srcSize);
  const idx = new Int32Array(dstSize);
  for (let d = 0; d < dstSize; d++) idx[d] = Math.min(Math.floor(d * inv), srcSize - 1);
  return idx;
}

/** `cv2.resize(src, (dstW, dstH), interpolation=cv2.INTER_NEAREST)`, any element size (uint8 channels). */
export function resizeNearestU8(src: ImageU8, dstW: number, dstH: number): ImageU8 {
  checkImage(src);
  checkSize(dstW, dstH);
  const { height: sh, width: sw, channels: cn } = src;
  if (sw === dstW && sh === dstH) return { data: src.data.slice(), height: sh, width: sw, channels: cn };
  const xs = nearestIndices(sw, dstW);
  const ys = nearestIndices(sh, dstH);
  const out = new Uint8Array(dstH * dstW * cn);
  const s = src.data;
  const rowOut = dstW * cn;
  for (let dy = 0; dy < dstH; dy++) {
    const ro = dy * rowOut;
    if (dy > 0 && ys[dy] === ys[dy - 1]) {
      out.copyWithin(ro, ro - rowOut, ro);
      continue;
    }
    const rs = ys[dy] * sw * cn;
    if (cn === 1) {
      for (let dx = 0; dx < dstW; dx++) out[ro + dx] = s[rs + xs[dx]];
    } else {
      for (let dx = 0; dx < dstW; dx++) {
        const ps = rs + xs[dx] * cn;
        const po = ro + dx * cn;
        for (let c = 0; c < cn; c++) out[po + c] = s[ps + c];
      }
    }
  }
  return { data: out, height: dstH, width: dstW, channels: cn };
}

/** mmcv `_scale_size((w, h), (sx, sy))`: `[int(w * sx + 0.5), int(h * sy + 0.5)]`. */
export function scaleSize(w: number, h: number, sx: number, sy = sx): [number, number] {
  return [Math.trunc(w * sx + 0.5), Math.trunc(h * sy + 0.5)];
}

/**
 * mmcv `rescale_size((w, h), scale, return_scale=True)`: a number is the factor itself; a pair is the long and
 * short edge limits, factor = min(max(scale) / max(h, w), min(scale) / min(h, w)).
 * @returns the new size `[w, h]` (`scaleSize` of the factor) and the factor.
 */
export function rescaleSize(w: number, h: number, scale: number | readonly [number, number]): { size: [number, number]; factor: number } {
  let factor: number;
  if (typeof scale === 'number') {
    if (!(scale > 0)) throw new SoloError(`invalid scale ${scale}, must be positive`, { code: 'ARGUMENT' });
    factor = scale;
  } else {
    const longEdge = Math.max(scale[0], scale[1]);
    const shortEdge = Math.min(scale[0], scale[1]);
    factor = Math.min(longEdge / Math.max(h, w), shortEdge / Math.min(h, w));
  }
  return { size: scaleSize(w, h, factor), factor };
}

/** mmcv `imrescale(img, scale, interpolation)` with the cv2 backend: resize to `rescaleSize(w, h, scale)`. */
export function imrescaleU8(src: ImageU8, scale: number | readonly [number, number], interpolation: 'bilinear' | 'nearest' = 'bilinear'): ImageU8 {
  const [w, h] = rescaleSize(src.width, src.height, scale).size;
  return interpolation === 'nearest' ? resizeNearestU8(src, w, h) : resizeLinearU8(src, w, h);
}
