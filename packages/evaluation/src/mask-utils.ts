// SPDX-License-Identifier: Apache-2.0
/**
 * pycocotools' `mask` module under its Python names, for `import { maskUtils } from '@solo-ts/evaluation'`
 * (`maskUtils.frPyObjects`, `maskUtils.encode`, `maskUtils.decode`, `maskUtils.merge`, `maskUtils.area`,
 * `maskUtils.toBbox`, `maskUtils.iou`, `maskUtils.frBbox`, `maskUtils.frPoly`). Implemented in @solo-ts/cocoapi.
 */
export {
  annToRLE,
  area,
  decode,
  decodeToColumnMajor,
  encode,
  encodeColumnMajor,
  encodeMasks,
  frBbox,
  frPoly,
  frPyObjects,
  iou,
  merge,
  toBbox,
} from '@solo-ts/cocoapi';
export type { BinaryMask, RLE, RLEInput, UncompressedRLE } from '@solo-ts/cocoapi';
