// SPDX-License-Identifier: Apache-2.0
/**
 * mmcv `imrescale(mask_uint8, scale)` as SOLO's target generation calls it: OpenCV `cv2.resize` with
 * `INTER_LINEAR` on a single-channel uint8 image, to (int(w·scale + 0.5), int(h·scale + 0.5)).
 *
 * This reproduces OpenCV 4.6's fixed-point path bit for bit (checked against cv2 4.6.0 on random masks with
 * integer and non-integer ratios, see `__fixtures__/cv2_rescale.json`): source coordinate
 * f = float32((d + 0.5)·(src/dst) − 0.5), 11-bit coefficients round(float32(1 − frac)·2048) and
 * round(frac·2048), horizontal taps summed exactly, then the vertical SIMD formula
 * ((((S0 >> 4)·b0) >> 16) + (((S1 >> 4)·b1) >> 16) + 2) >> 2, saturated to uint8; borders clamp to the edge
 * row / column. For an integer ratio s (SOLO: 4, 8, 16) every output pixel is the mean of a 2×2 block of the
 * input at rows s·k + s/2 − 1, s·k + s/2 (same for columns), rounded half up: 1 iff the mean is ≥ 0.5. OpenCV
 * switches to INTER_AREA for an exact ratio of 2, which gives the same 2×2 mean rounded half up.
 */
import { ShapeError } from '@solo-ts/core';

/** cvRound / saturate_cast<short>(float): round half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Output size of mmcv `rescale_size((w, h), scale)`: [int(h·scale + 0.5), int(w·scale + 0.5)]. */
export function rescaleSize(h: number, w: number, scale: number): [number, number] {
  return [Math.trunc(h * scale + 0.5), Math.trunc(w * scale + 0.5)];
}

interface Taps {
  ofs: Int32Array;
  c0: Int32Array;
  c1: Int32Array;
  /** first output index whose right tap falls outside the source (the right tap is then not used) */
  max: number;
}

/**
 * Source offsets and 11-bit coefficients of one axis. OpenCV clamps offset and coefficient at the borders for x
 * (`clamp`), while for y it keeps the raw coefficients and only clips the row indices.
 */
function taps(src: number, dst: number, clamp: boolean): Taps {
  const scale = 1 / (dst / src);
  const ofs = new Int32Array(dst);
  const c0 = new Int32Array(dst);
  const c1 = new Int32Array(dst);
  let max = dst;
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clamp && s < 0) {
      f = 0;
      s = 0;
    }
    if (s + 1 >= src) {
      max = Math.min(max, d);
      if (clamp && s >= src - 1) {
        f = 0;
        s = src - 1;
      }
    }
    ofs[d] = s;
    c0[d] = roundHalfEven(Math.fround(1 - f) * 2048);
    c1[d] = roundHalfEven(f * 2048);
  }
  return { ofs, c0, c1, max };
}

/**
 * Resize a uint8 image (h, w) to (outH, outW) with OpenCV 4.6 `INTER_LINEAR` semantics.
 * @returns the (outH*outW) uint8 result.
 */
export function resizeLinearU8(src: Uint8Array, h: number, w: number, outH: number, outW: number): Uint8Array {
  if (src.length !== h * w) throw new ShapeError(`resizeLinearU8: source has ${src.length} values, expected ${h}×${w}`);
  if (outH < 1 || outW < 1 || h < 1 || w < 1) {
    throw new ShapeError(`resizeLinearU8: cannot resize ${h}×${w} to ${outH}×${outW} (sizes must be ≥ 1)`);
  }
  const tx = taps(w, outW, true);
  const ty = taps(h, outH, false);
  const out = new Uint8Array(outH * outW);
  const row0 = new Int32Array(outW);
  const row1 = new Int32Array(outW);
  let cached0 = -1;
  let cached1 = -1;
  const hresize = (r: number, dst: Int32Array): void => {
    const base = r * w;
    for (let d = 0; d < outW; d++) {
      const s = base + tx.ofs[d];
      dst[d] = d < tx.max ? src[s] * tx.c0[d] + src[s + 1] * tx.c1[d] : src[s] * 2048;
    }
  };
  for (let dy = 0; dy < outH; dy++) {
    const sy = ty.ofs[dy];
    // rows sy and sy + 1 clipped to the image; the coefficients are kept (OpenCV's vertical pass)
    const r0 = Math.min(Math.max(sy, 0), h - 1);
    const r1 = Math.min(Math.max(sy + 1, 0), h - 1);
    if (cached0 !== r0) {
      if (cached1 === r0) row0.set(row1);
      else hresize(r0, row0);
      cached0 = r0;
    }
    if (cached1 !== r1) {
      hresize(r1, row1);
      cached1 = r1;
    }
    const b0 = ty.c0[dy];
    const b1 = ty.c1[dy];
    const o = dy * outW;
    for (let x = 0; x < outW; x++) {
      const v = (((row0[x] >> 4) * b0) >> 16) + (((row1[x] >> 4) * b1) >> 16);
      const r = (v + 2) >> 2;
      out[o + x] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
  }
  return out;
}

/**
 * mmcv `imrescale(mask, scale)` for a uint8 mask: OpenCV INTER_LINEAR to `rescaleSize(h, w, scale)`.
 * @returns the rescaled mask and its size.
 */
export function imrescaleU8(src: Uint8Array, h: number, w: number, scale: number): { data: Uint8Array; height: number; width: number } {
  const [oh, ow] = rescaleSize(h, w, scale);
  return { data: resizeLinearU8(src, h, w, oh, ow), height: oh, width: ow };
}
