// SPDX-License-Identifier: Apache-2.0
/**
 * pycocotools' `mask` module under its Python names, exported as the namespace `maskUtils` (mmdetection's
 * `import pycocotools.mask as maskUtils`): `maskUtils.frPyObjects`, `maskUtils.encode`, `maskUtils.decode`,
 * `maskUtils.merge`, `maskUtils.area`, `maskUtils.toBbox`, `maskUtils.iou`, `maskUtils.frBbox`, `maskUtils.frPoly`,
 * and the column-major and annotation helpers. @solo-ts/evaluation re-exports the same namespace.
 */
export { annToRLE, area, decode, decodeToColumnMajor, encode, encodeMasks, frBbox, frPoly, frPyObjects, iou, merge, toBbox } from './mask.js';
export { encodeColumnMajor } from './encode-column-major.js';
export type { BinaryMask, RLE, RLEInput, UncompressedRLE } from './types.js';
