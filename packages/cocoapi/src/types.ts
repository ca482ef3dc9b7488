// SPDX-License-Identifier: Apache-2.0
/**
 * Types of the COCO mask API (pycocotools names and layouts).
 *
 * - An RLE ("run-length encoding") object is `{size: [h, w], counts}`. Runs go over the **column-major**
 *   (Fortran order) flattening of the mask and alternate 0-runs and 1-runs, starting with a 0-run.
 *   `counts` is the compressed ASCII string pycocotools writes, or (as input) the uncompressed list of runs.
 * - A binary mask is row-major: `data[y * width + x]`, values 0/1.
 * - Boxes are `[x, y, width, height]`.
 */
import { SoloError } from '@solo-ts/core';

/** A compressed RLE, exactly as pycocotools writes it (`counts` decoded to a string, as in COCO JSON). */
export interface RLE {
  size: [number, number];
  counts: string;
}

/** An uncompressed RLE: `counts` are the run lengths (COCO `iscrowd` ground truth uses this form). */
export interface UncompressedRLE {
  size: [number, number];
  counts: ArrayLike<number>;
}

/** Either RLE form. */
export type RLEInput = RLE | UncompressedRLE;

/** A row-major binary mask of `height` rows by `width` columns, values 0/1. */
export interface BinaryMask {
  data: Uint8Array;
  height: number;
  width: number;
}

/** `[x, y, width, height]`. */
export type Box = [number, number, number, number] | number[];

/** A polygon as in a COCO `segmentation`: flat `[x1, y1, x2, y2, ...]` in pixel coordinates. */
export type Polygon = ArrayLike<number>;

/**
 * The in-memory form of an RLE (pycocotools' C `RLE` struct): image size and the uncompressed run lengths as
 * uint32, like `maskApi.c`. The fast paths of this package work on it; convert with `rleFromString`/`rleToString`.
 */
export interface RleData {
  h: number;
  w: number;
  cnts: Uint32Array;
}

/** Thrown for inputs the mask API cannot interpret (pycocotools raises or misbehaves on them too); code `DATASET`. */
export class MaskApiError extends SoloError {
  constructor(message: string) {
    super(message, { code: 'DATASET' });
    this.name = 'MaskApiError';
  }
}
