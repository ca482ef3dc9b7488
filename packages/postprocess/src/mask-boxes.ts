// SPDX-License-Identifier: Apache-2.0
/**
 * Boxes of binary masks: xyxy of each mask's pixel extent with x2 = max col + 1 and y2 = max row + 1 (pycocotools
 * `toBbox` as x1, y1, x1 + w, y1 + h); an empty mask gets the zero box.
 */
import type { BitmapMasks } from '@solo-ts/core';

/** (count*4) x1, y1, x2, y2 of every mask. */
export function masksToBoxes(masks: BitmapMasks): Float32Array {
  const { count, height: h, width: w, data } = masks;
  const out = new Float32Array(count * 4);
  const hw = h * w;
  for (let i = 0; i < count; i++) {
    const off = i * hw;
    let x0 = w;
    let x1 = -1;
    let y0 = h;
    let y1 = -1;
    for (let y = 0; y < h; y++) {
      const row = off + y * w;
      let first = -1;
      for (let x = 0; x < w; x++) {
        if (data[row + x]) {
          first = x;
          break;
        }
      }
      if (first < 0) continue;
      let last = first;
      for (let x = w - 1; x > first; x--) {
        if (data[row + x]) {
          last = x;
          break;
        }
      }
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
      if (y < y0) y0 = y;
      y1 = y;
    }
    if (x1 >= 0) {
      out[4 * i] = x0;
      out[4 * i + 1] = y0;
      out[4 * i + 2] = x1 + 1;
      out[4 * i + 3] = y1 + 1;
    }
  }
  return out;
}
