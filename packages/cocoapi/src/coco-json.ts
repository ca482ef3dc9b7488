// SPDX-License-Identifier: Apache-2.0
/**
 * The COCO JSON formats (cocodataset.org "data format" and "results format", as pycocotools' `COCO` reads
 * them): an instances file (`CocoDataset`) and a detection results list (`CocoResult[]`).
 *
 * These are the types of the files *as read*: fields a file may lack are optional, and every object keeps its
 * other keys. Code that has checked a file (the dataset's `scanCoco`, evaluation's `validateGroundTruth`)
 * narrows them (e.g. `CocoImage & { file_name: string }`).
 */
import type { RLE } from './types.js';

/** A `segmentation`: polygons (each `[x1, y1, x2, y2, ...]`) or an RLE (compressed string or run lengths). */
export type CocoSegmentation = number[][] | { size: [number, number]; counts: string | number[] };

export interface CocoImage {
  id: number;
  file_name?: string;
  height?: number;
  width?: number;
  [key: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name?: string;
  supercategory?: string;
  [key: string]: unknown;
}

/** A ground-truth annotation, or a detection result once loaded as one (`COCO.loadRes`; results carry `score`). */
export interface CocoAnnotation {
  id?: number;
  image_id: number;
  category_id: number;
  segmentation?: unknown;
  /** `[x, y, width, height]` */
  bbox?: number[];
  area?: number;
  iscrowd?: number | boolean;
  ignore?: number | boolean;
  score?: number;
  [key: string]: unknown;
}

/** An instances file: `{images, annotations, categories, ...}`. */
export interface CocoDataset {
  images?: CocoImage[];
  annotations?: CocoAnnotation[];
  categories?: CocoCategory[];
  [key: string]: unknown;
}

/**
 * One detection in COCO results format (mmdetection's `results2json`): `bbox` results carry `bbox`, `segm`
 * results carry `segmentation` (and, where the writer adds it, the `bbox` of the mask).
 */
export interface CocoResult {
  image_id: number;
  category_id: number;
  /** 0-based label, written by solo-ts' inference API next to the category id. */
  label?: number;
  score: number;
  /** `[x, y, width, height]` */
  bbox?: number[];
  segmentation?: RLE;
  [key: string]: unknown;
}
