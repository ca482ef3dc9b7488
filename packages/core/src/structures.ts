// SPDX-License-Identifier: Apache-2.0
/**
 * Data structures shared by datasets, heads, post-processing, metrics and the engine (mmdetection's
 * `DetDataSample` / `InstanceData` / `BitmapMasks`, in plain typed arrays so they cross worker threads cheaply).
 */
import { ShapeError } from './errors.js';

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

/**
 * Pad masks at the bottom/right to `size` = [h, w] with `value` (mmdet `BitmapMasks.pad`, used for the gt masks of
 * a padded batch). Returns `m` itself when it already has that size; a mask larger than `size` is a ShapeError.
 */
export function padBitmapMasks(m: BitmapMasks, size: [number, number], value = 0): BitmapMasks {
  const [h, w] = size;
  if (m.height === h && m.width === w) return m;
  if (m.height > h || m.width > w) throw new ShapeError(`gt masks ${m.height}x${m.width} are larger than the batch input ${h}x${w}`);
  const out = new Uint8Array(m.count * h * w);
  if (value !== 0) out.fill(value);
  for (let i = 0; i < m.count; i++) {
    for (let y = 0; y < m.height; y++) out.set(m.data.subarray((i * m.height + y) * m.width, (i * m.height + y + 1) * m.width), (i * h + y) * w);
  }
  return { count: m.count, height: h, width: w, data: out };
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

/**
 * Predictions of an image with no instance (mmdet `empty_results` of the SOLO heads): 0 masks at `oriShape`
 * = [h, w], and empty boxes (n*4 = 0), labels and scores.
 */
export function emptyInstances(oriShape: readonly [number, number] | readonly number[]): InstanceData {
  return { bboxes: new Float32Array(0), labels: new Int32Array(0), scores: new Float32Array(0), masks: emptyMasks(oriShape[0], oriShape[1]) };
}

export function numInstances(d: InstanceData | undefined): number {
  if (!d) return 0;
  if (d.labels) return d.labels.length;
  if (d.scores) return d.scores.length;
  if (d.masks) return d.masks.count;
  if (d.bboxes) return d.bboxes.length / 4;
  return 0;
}

/**
 * A float32 array with its shape, row-major (C order): how tensors cross a runtime boundary (an ONNX Runtime
 * output, a tfjs tensor read back, a worker message). Feature maps are NCHW, PyTorch's layout, so the raw outputs
 * of an exported mmdetection graph can be used as they are.
 */
export interface ArrayTensor {
  data: Float32Array;
  shape: number[];
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
