// SPDX-License-Identifier: Apache-2.0
/**
 * Small synthetic ground truth for contract tests: `DetDataSample`s with rectangle or ellipse instances at the
 * (already padded) input size, and feature pyramids of given sizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BitmapMasks, DetDataSample, DetMeta } from '@solo-ts/core';
import { seededNormal } from './tensors.js';

/** One ground-truth instance: an xyxy box in input pixels, a 0-based label and the mask shape inside the box. */
export interface SampleInstance {
  box: [number, number, number, number];
  label: number;
  /** Mask drawn inside the box (default `ellipse`). */
  shape?: 'rect' | 'ellipse';
}

export interface MakeSampleOptions {
  /** Input size [h, w] (after resize and padding: the gt masks have this size). */
  inputSize: [number, number];
  instances?: SampleInstance[];
  imgId?: number;
  /** Original image size (default: the input size, scale factor 1). Predictions come back at this size. */
  oriShape?: [number, number];
  /** Resized image size before padding (default: the input size). */
  imgShape?: [number, number];
}

/** Rasterise instances into BitmapMasks of size `[h, w]`. */
export function instanceMasks(instances: SampleInstance[], size: [number, number]): BitmapMasks {
  const [h, w] = size;
  const data = new Uint8Array(instances.length * h * w);
  instances.forEach((inst, i) => {
    const [x1, y1, x2, y2] = inst.box;
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const rx = Math.max((x2 - x1) / 2, 0.5);
    const ry = Math.max((y2 - y1) / 2, 0.5);
    for (let y = Math.max(0, Math.floor(y1)); y < Math.min(h, Math.ceil(y2)); y++) {
      for (let x = Math.max(0, Math.floor(x1)); x < Math.min(w, Math.ceil(x2)); x++) {
        const inside = inst.shape === 'rect' || ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1;
        if (inside) data[(i * h + y) * w + x] = 1;
      }
    }
  });
  return { count: instances.length, height: h, width: w, data };
}

/** A `DetDataSample` with ground truth (boxes, labels, masks) and complete meta information. */
export function makeSample(options: MakeSampleOptions): DetDataSample {
  const inputSize = options.inputSize;
  const instances = options.instances ?? [];
  const imgShape = options.imgShape ?? inputSize;
  const oriShape = options.oriShape ?? imgShape;
  const metainfo: DetMeta = {
    imgId: options.imgId ?? 0,
    oriShape,
    imgShape,
    padShape: inputSize,
    batchInputShape: inputSize,
    scaleFactor: [imgShape[1] / oriShape[1], imgShape[0] / oriShape[0]],
    flip: false,
    flipDirection: null,
  };
  return {
    metainfo,
    gtInstances: {
      bboxes: Float32Array.from(instances.flatMap((i) => i.box)),
      labels: Int32Array.from(instances.map((i) => i.label)),
      masks: instanceMasks(instances, inputSize),
    },
  };
}

/** A sample without ground truth instances. */
export function emptySample(inputSize: [number, number], imgId = 0): DetDataSample {
  return makeSample({ inputSize, instances: [], imgId });
}

/**
 * A sample with one instance: an ellipse covering the middle of the image (about half of each side), label
 * `label`. Its sqrt(area) is about half the image side.
 */
export function oneInstanceSample(inputSize: [number, number], label = 0, imgId = 0): DetDataSample {
  const [h, w] = inputSize;
  return makeSample({ inputSize, imgId, instances: [{ box: [w * 0.25, h * 0.25, w * 0.75, h * 0.75], label }] });
}

/** A sample with `n` instances of different sizes and labels spread over the image. */
export function manyInstancesSample(inputSize: [number, number], n: number, numClasses: number, imgId = 0): DetDataSample {
  const [h, w] = inputSize;
  const instances: SampleInstance[] = [];
  for (let i = 0; i < n; i++) {
    const f = 0.2 + (0.6 * (i + 1)) / (n + 1);
    const bw = w * f * 0.8;
    const bh = h * f * 0.7;
    const x1 = ((w - bw) * ((i * 37) % 11)) / 10;
    const y1 = ((h - bh) * ((i * 53) % 7)) / 6;
    instances.push({ box: [x1, y1, x1 + bw, y1 + bh], label: i % numClasses, shape: i % 2 ? 'rect' : 'ellipse' });
  }
  return makeSample({ inputSize, imgId, instances });
}

/**
 * A seeded NHWC feature pyramid: level l is `[batch, ceil(H / strides[l]), ceil(W / strides[l]), channels[l]]`.
 * The caller owns the tensors.
 */
export function featurePyramid(inputSize: [number, number], strides: number[], channels: number | number[], batch = 1, seed = 1): tf.Tensor4D[] {
  return strides.map((s, l) => {
    const c = Array.isArray(channels) ? channels[l] : channels;
    return seededNormal([batch, Math.ceil(inputSize[0] / s), Math.ceil(inputSize[1] / s), c], seed + l) as tf.Tensor4D;
  });
}
