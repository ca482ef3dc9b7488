// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/cocoapi: pycocotools' COCO mask API in pure TypeScript, with identical results (RLE strings,
 * polygon rasterisation, areas, boxes, IoU). No dependencies, no `fs`: runs in browsers.
 */
export const PACKAGE_NAME = '@solo-ts/cocoapi';
export * from './types.js';
export {
  rleArea,
  rleDecodeColumnMajor,
  rleDecodeRowMajor,
  rleEmpty,
  rleEncodeColumnMajor,
  rleEncodeRowMajor,
  rleFromCounts,
  rleFromString,
  rleMerge,
  rleToBbox,
  rleToString,
} from './rle.js';
export { cInt, rleFrBbox, rleFrPoly } from './poly.js';
export { bbIouInto, crowdFlag, rleBoxes, rleIouInto } from './iou.js';
export {
  annToRLE,
  annToRleData,
  area,
  decode,
  decodeToColumnMajor,
  encode,
  encodeMasks,
  frBbox,
  frPoly,
  frPyObjects,
  fromRleData,
  iou,
  isRLE,
  merge,
  toBbox,
  toRleData,
} from './mask.js';
/** `encodeColumnMajor(data, h, w)`: compressed RLE of a column-major (Fortran order) mask. */
export { encodeColumnMajor } from './encode-column-major.js';
