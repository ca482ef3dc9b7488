// SPDX-License-Identifier: Apache-2.0
/** Compressed RLE of a column-major mask (`data[x * h + y]`, pycocotools' native layout). */
import { rleEncodeColumnMajor, rleToString } from './rle.js';
import type { RLE } from './types.js';

export function encodeColumnMajor(data: ArrayLike<number>, h: number, w: number): RLE {
  return { size: [h, w], counts: rleToString(rleEncodeColumnMajor(data, h, w)) };
}
