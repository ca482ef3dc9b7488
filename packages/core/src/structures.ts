// SPDX-License-Identifier: Apache-2.0
/**
 * Data structures shared by datasets, heads, post-processing, metrics and the engine (mmdetection's
 * `DetDataSample` / `InstanceData` / `BitmapMasks`, in plain typed arrays so they cross worker threads cheaply).
 */

/** N binary masks of one size, row-major, values 0/1: `data[(i * height + y) * width + x]`. */
export interface BitmapMasks {
  count: number;
  height: number;
  width: number;
  data: Uint8Array;
}

export function emptyMasks(height: number, width: number): BitmapMasks {
  return { count: 0, height, width, data: new Uint8Array(0) };
}

/** One mask of a BitmapMasks as a view (no copy). */
export function maskAt(m: BitmapMasks, i: number): Uint8Array {
  const hw = m.height * m.width;
  return m.data.subarray(i * hw, (i + 1) * hw);
}

/** Instances of one image (ground truth or predictions). Boxes are xyxy in pixels. */
export interface InstanceData {
  /** (n*4) x1, y1, x2, y2 */
  bboxes?: Float32Array;
  /** (n) 0-based class index */
  labels?: Int32Array;
  /** (n) */
  scores?: Float32Array;
  masks?: BitmapMasks;
  /** Extra per-instance fields (e.g. COCO annotation ids for error messages). */
  [key: string]: unknown;
}

export function numInstances(d: InstanceData | undefined): number {
  if (!d) return 0;
  if (d.labels) return d.labels.length;
  if (d.scores) return d.scores.length;
  if (d.masks) return d.masks.count;
  if (d.bboxes) return d.bboxes.length / 4;
  return 0;
}

/** Image meta information, mmdetection names in camelCase. Shapes are [h, w]. */
export interface DetMeta {
  imgId: number;
  imgPath?: string;
  /** Original image size. */
  oriShape: [number, number];
  /** Size after resize, before padding. */
  imgShape: [number, number];
  /** Size after padding (per image). */
  padShape?: [number, number];
  /** Padded size of the whole batch (set by the data preprocessor). */
  batchInputShape?: [number, number];
  /** [w_scale, h_scale] applied by Resize. */
  scaleFactor: [number, number];
  flip?: boolean;
  flipDirection?: 'horizontal' | 'vertical' | 'diagonal' | null;
  [key: string]: unknown;
}

export interface DetDataSample {
  metainfo: DetMeta;
  gtInstances?: InstanceData;
  /** Crowd / ignored ground truth (SOLO does not use them). */
  ignoredInstances?: InstanceData;
  predInstances?: InstanceData;
}

/** Channels and stride of one feature level, published by backbones and necks. */
export interface FeatureSpec {
  channels: number;
  stride: number;
}
