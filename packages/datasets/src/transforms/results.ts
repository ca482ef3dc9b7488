// SPDX-License-Identifier: Apache-2.0
/**
 * The record that flows through a data pipeline (mmdetection's `results` dict, keys in camelCase), and the
 * packed sample PackDetInputs produces.
 */
import type { DetDataSample } from '@solo-ts/core';
import type { CocoInstance } from '../coco/types.js';
import type { ImageU8 } from '@solo-ts/ops';
import type { AnyMasks } from './masks.js';

export type FlipDirection = 'horizontal' | 'vertical' | 'diagonal';

export interface PipelineResults {
  /** Image file (set by the dataset). */
  imgPath?: string;
  imgId?: number;
  /** Image size declared in the annotation file. */
  height?: number;
  width?: number;
  /** Raw instances of the image (set by the dataset). */
  instances?: CocoInstance[];
  /** The image, uint8 HWC, BGR like cv2 (LoadImageFromFile). */
  img?: ImageU8;
  /** [h, w] of `img` now. */
  imgShape?: [number, number];
  /** [h, w] as loaded. */
  oriShape?: [number, number];
  /** (n*4) xyxy boxes, float32 (LoadAnnotations with_bbox). */
  gtBboxes?: Float32Array;
  /** (n) labels (LoadAnnotations with_label). */
  gtBboxesLabels?: Int32Array;
  /** (n) 1 = ignored (crowd or unusable mask). */
  gtIgnoreFlags?: Uint8Array;
  /** Instance masks (LoadAnnotations with_mask): bitmaps, or polygons with `poly2mask: false`. */
  gtMasks?: AnyMasks;
  /** COCO annotation id per gt instance (for messages). */
  gtAnnIds?: Int32Array;
  /** Target scale [w, h] of the last Resize (mmcv `scale`). */
  scale?: [number, number];
  /** [w_scale, h_scale] of the last Resize. */
  scaleFactor?: [number, number];
  keepRatio?: boolean;
  scaleIdx?: number;
  flip?: boolean;
  flipDirection?: FlipDirection | null;
  [key: string]: unknown;
}

/** The network input of one sample: the uint8 image (BGR, HWC) and its size. */
export interface PackedInputs {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
  /** Channel order of `data` (mmdet keeps cv2's BGR; the data preprocessor converts with `bgr_to_rgb`). */
  channelOrder: 'bgr' | 'rgb' | 'gray';
}

/** What PackDetInputs returns: one training/test sample. */
export interface PackedSample {
  inputs: PackedInputs;
  dataSample: DetDataSample;
}
