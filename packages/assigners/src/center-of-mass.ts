// SPDX-License-Identifier: Apache-2.0
/**
 * Centre of mass of a binary mask, exactly as mmdetection's `center_of_mass` on a bool mask: the index sums are
 * exact integers (torch multiplies the bool mask by an int64 `arange`), converted to float32 once, divided by
 * the float32 pixel count clamped at float32(1e-6); the result is float32 (returned as a JS number).
 */
import { ShapeError } from '@solo-ts/core';

const F32_1E6 = Math.fround(1e-6);

/** Pixel count and exact row / column index sums of a 0/1 (non-zero = 1) mask of (h, w), row-major. */
export function maskMoments(mask: ArrayLike<number>, h: number, w: number): { count: number; sumRow: number; sumCol: number } {
  if (mask.length !== h * w) throw new ShapeError(`centerOfMass: mask has ${mask.length} values, expected ${h}×${w} = ${h * w}`);
  let count = 0;
  let sumRow = 0;
  let sumCol = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let rc = 0;
    let cs = 0;
    for (let x = 0; x < w; x++) {
      if (mask[row + x]) {
        rc++;
        cs += x;
      }
    }
    count += rc;
    sumRow += rc * y;
    sumCol += cs;
  }
  return { count, sumRow, sumCol };
}

/**
 * [center_h, center_w] of a mask (0-based pixel indices, no +0.5), float32 values. An empty mask gives [0, 0].
 * @param mask (h*w) values, non-zero = foreground, row-major.
 */
export function centerOfMass(mask: ArrayLike<number>, h: number, w: number): [number, number] {
  const { count, sumRow, sumCol } = maskMoments(mask, h, w);
  return centerFromMoments(count, sumRow, sumCol);
}

/** The float32 centre from exact moments (see `maskMoments`). */
export function centerFromMoments(count: number, sumRow: number, sumCol: number): [number, number] {
  const normalizer = Math.max(Math.fround(count), F32_1E6);
  return [Math.fround(Math.fround(sumRow) / normalizer), Math.fround(Math.fround(sumCol) / normalizer)];
}
