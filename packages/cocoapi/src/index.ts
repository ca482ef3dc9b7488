// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/cocoapi: pycocotools' COCO mask API in pure TypeScript, with identical results (RLE strings,
 * polygon rasterisation, areas, boxes, IoU), the COCO JSON types (instances files, results) and the one reader
 * of COCO JSON text (Python `json`'s rules). No `fs`: runs in browsers. Depends on `@solo-ts/core` for its
 * typed errors only.
 */
export const PACKAGE_NAME = '@solo-ts/cocoapi';
export { MaskApiError, type BinaryMask, type Box, type Polygon, type RLE, type RLEInput, type RleData, type UncompressedRLE } from './types.js';
export type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage, CocoResult, CocoSegmentation } from './coco-json.js';
export { COCO_INSTANCES, parseJsonText } from './json.js';
/** The in-memory RLE (`RleData`): encode / decode in either pixel order, string code, area, box, merge. */
export { rleEncodeColumnMajor, rleEncodeRowMajor, rleDecodeColumnMajor, rleDecodeRowMajor, rleFromCounts, rleEmpty } from './rle.js';
export { rleFromString, rleToString, rleArea, rleToBbox, rleMerge } from './rle.js';
export { rleFrPoly } from './poly.js';
export { bbIouInto, rleIouInto } from './iou.js';
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
  merge,
  toBbox,
  toRleData,
} from './mask.js';
/** `encodeColumnMajor(data, h, w)`: compressed RLE of a column-major (Fortran order) mask. */
export { encodeColumnMajor } from './encode-column-major.js';
/** The same functions as the namespace of pycocotools' `mask` module (`maskUtils.encode`, ...). */
export * as maskUtils from './mask-utils.js';
