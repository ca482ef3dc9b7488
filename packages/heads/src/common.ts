// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers shared by the SOLO-family heads: option specs, feature resizing (`resize_feats`), the test config,
 * ground-truth preparation for the grid assigner, candidate selection after `score_thr`, empty results, and
 * one-hot selection matrices (differentiable gathers that need no `UnsortedSegmentSum` kernel).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SoloError,
  emptyMasks,
  type BitmapMasks,
  type DetDataSample,
  type GridAssignInput,
  type InstanceData,
  type OptionSpecs,
  type SoloTestCfg,
} from '@solo-ts/core';
import { interpolate } from '@solo-ts/ops';

/** Options shared by every SOLO-family head (mmdetection `SOLOHead.__init__`). */
export function soloHeadOptionSpecs(defaults: { lossMask: Record<string, unknown>; initCfg: unknown[] }): OptionSpecs {
  return {
    num_classes: { type: 'integer', required: true, doc: 'number of categories excluding the background' },
    in_channels: { type: 'integer', required: true, doc: 'channels of each input feature level (the detector passes the neck output channels)' },
    feat_channels: { type: 'integer', default: 256, doc: 'channels of the tower convs' },
    stacked_convs: { type: 'integer', default: 4, doc: 'number of convs in each tower' },
    strides: { type: 'array', default: [4, 8, 16, 32, 64], doc: 'effective stride of each level (after resize_feats), used by the area filter at test time' },
    scale_ranges: {
      type: 'array',
      default: [
        [8, 32],
        [16, 64],
        [32, 128],
        [64, 256],
        [128, 512],
      ],
      doc: '[lower, upper] of sqrt(gt box area) in input pixels assigned to each level (both inclusive)',
    },
    pos_scale: { type: 'number', default: 0.2, doc: 'size of the positive centre region relative to the gt box' },
    num_grids: { type: 'array', default: [40, 36, 24, 16, 12], doc: 'grid size G of each level' },
    cls_down_index: { type: 'integer', default: 0, doc: 'index of the cls tower conv before which the feature is resized to G x G' },
    loss_mask: { type: 'config', default: defaults.lossMask, doc: 'mask loss config (scope models), called per positive with reduction none' },
    loss_cls: {
      type: 'config',
      default: { type: 'FocalLoss', use_sigmoid: true, gamma: 2.0, alpha: 0.25, loss_weight: 1.0 },
      doc: 'classification loss config (scope models), called with avg_factor = num_pos + 1',
    },
    norm_cfg: { type: 'object', nullable: true, default: { type: 'GN', num_groups: 32, requires_grad: true }, doc: 'norm of the tower convs (mmcv norm_cfg)' },
    train_cfg: { type: 'any', nullable: true, doc: 'training settings (unused by the SOLO family; set by the detector)' },
    test_cfg: {
      type: 'object',
      nullable: true,
      doc: 'test settings: nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img (set by the detector)',
    },
    init_cfg: { type: 'any', nullable: true, default: defaults.initCfg, doc: 'mmengine init_cfg (list of Normal inits with overrides)' },
    assigner: {
      type: 'config',
      default: { type: 'SOLOGridAssigner' },
      doc: 'grid assigner (scope task_utils); receives num_classes, num_grids, scale_ranges, pos_scale, strides, mode',
    },
    postprocessor: {
      type: 'config',
      default: { type: 'SOLOMaskPostProcessor' },
      doc: 'mask post-processor (scope task_utils): area filter, maskness, Matrix NMS, resize to the original size',
    },
  };
}

/** Defaults of SOLOHead's init_cfg with the names of the prior-probability layers. */
export function soloInitCfg(priorLayers: string[]): unknown[] {
  return [{ type: 'Normal', layer: 'Conv2d', std: 0.01 }, ...priorLayers.map((name) => ({ type: 'Normal', std: 0.01, bias_prob: 0.01, override: { name } }))];
}

/** Camel-cased options common to the heads (as the registry hands them over). */
export interface SOLOHeadOptions {
  numClasses: number;
  inChannels: number;
  featChannels?: number;
  stackedConvs?: number;
  strides?: number[];
  scaleRanges?: Array<[number, number]>;
  posScale?: number;
  numGrids?: number[];
  clsDownIndex?: number;
  lossMask?: Record<string, unknown>;
  lossCls?: Record<string, unknown>;
  normCfg?: Record<string, unknown> | null;
  trainCfg?: unknown;
  testCfg?: Record<string, unknown> | null;
  initCfg?: unknown;
  assigner?: Record<string, unknown>;
  postprocessor?: Record<string, unknown>;
}

/**
 * mmdet `SOLOHead.resize_feats`: P2 bilinear x0.5 (`scale_factor`), P6 bilinear to P5's size, others unchanged.
 * Returns new tensors (the caller owns them).
 */
export function resizeFeats(x: tf.Tensor4D[]): tf.Tensor4D[] {
  return x.map((f, i) => {
    if (i === 0) return interpolate(f, { scaleFactor: 0.5, mode: 'bilinear' });
    if (i === x.length - 1) return interpolate(f, { size: [x[i - 1].shape[1], x[i - 1].shape[2]], mode: 'bilinear' });
    return tf.clone(f);
  });
}

/** Read the test config (snake_case as in YAML, or camelCase) into the post-processor's form. */
export function toSoloTestCfg(raw: Record<string, unknown> | null | undefined, where: string): SoloTestCfg {
  if (!raw) throw new ConfigError(`${where}: predict needs a test_cfg (nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img)`);
  const get = (snake: string, camel: string, dflt?: unknown): unknown => raw[snake] ?? raw[camel] ?? dflt;
  const num = (snake: string, camel: string, dflt?: number): number => {
    const v = get(snake, camel, dflt);
    if (typeof v !== 'number') throw new ConfigError(`${where}: test_cfg.${snake} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const kernel = get('kernel', 'kernel', 'gaussian');
  if (kernel !== 'gaussian' && kernel !== 'linear') throw new ConfigError(`${where}: test_cfg.kernel must be 'gaussian' or 'linear', got ${JSON.stringify(kernel)}`);
  return {
    nmsPre: num('nms_pre', 'nmsPre', -1),
    scoreThr: num('score_thr', 'scoreThr'),
    maskThr: num('mask_thr', 'maskThr'),
    filterThr: num('filter_thr', 'filterThr', -1),
    kernel,
    sigma: num('sigma', 'sigma', 2.0),
    maxPerImg: num('max_per_img', 'maxPerImg', -1),
  };
}

/** Check the per-level list options against each other. */
export function checkLevelOptions(type: string, o: { strides: number[]; scaleRanges: Array<[number, number]>; numGrids: number[] }): void {
  const n = o.numGrids.length;
  if (o.strides.length !== n || o.scaleRanges.length !== n) {
    throw new ConfigError(`${type}: strides (${o.strides.length}), scale_ranges (${o.scaleRanges.length}) and num_grids (${n}) must have one entry per level`);
  }
  for (const r of o.scaleRanges) {
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number') {
      throw new ConfigError(`${type}: every scale_ranges entry must be [lower, upper], got ${JSON.stringify(r)}`);
    }
  }
}

/** Zero-pad masks at the bottom/right to `size` (no copy when already that size). */
export function padMasks(m: BitmapMasks, size: [number, number]): BitmapMasks {
  const [h, w] = size;
  if (m.height === h && m.width === w) return m;
  if (m.height > h || m.width > w) {
    throw new SoloError(`gt masks are ${m.height}x${m.width}, larger than the batch input ${h}x${w}`, { code: 'SHAPE' });
  }
  const out = new Uint8Array(m.count * h * w);
  for (let i = 0; i < m.count; i++) {
    for (let y = 0; y < m.height; y++) {
      const src = (i * m.height + y) * m.width;
      out.set(m.data.subarray(src, src + m.width), (i * h + y) * w);
    }
  }
  return { count: m.count, height: h, width: w, data: out };
}

/** The assigner input of one sample: gt boxes, labels and masks padded to the batch input size. */
export function gtAssignInput(sample: DetDataSample, featmapSizes: Array<[number, number]>, inputSize: [number, number]): GridAssignInput {
  const gt = sample.gtInstances ?? {};
  const labels = gt.labels ?? new Int32Array(0);
  const n = labels.length;
  const bboxes = gt.bboxes ?? new Float32Array(0);
  if (bboxes.length !== n * 4) throw new SoloError(`sample ${sample.metainfo.imgId}: ${n} gt labels but ${bboxes.length / 4} gt boxes`, { code: 'DATASET' });
  const size = (sample.metainfo.batchInputShape ?? inputSize) as [number, number];
  const masks = gt.masks ?? emptyMasks(size[0], size[1]);
  if (masks.count !== n) throw new SoloError(`sample ${sample.metainfo.imgId}: ${n} gt labels but ${masks.count} gt masks`, { code: 'DATASET' });
  return { gtBboxes: bboxes, gtLabels: labels, gtMasks: padMasks(masks, size), featmapSizes };
}

/** Masks (P, h, w) as a float32 tensor (0/1). */
export function masksToTensor(m: BitmapMasks): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(m.data), [m.count, m.height, m.width], 'float32');
}

/** One-hot selection matrix (rows x cols) with a 1 at (idx[k], k) (`transpose` -> (k, idx[k])). */
export function oneHotColumns(idx: ArrayLike<number>, rows: number, transpose = false): tf.Tensor2D {
  const k = idx.length;
  const data = new Float32Array(rows * k);
  for (let j = 0; j < k; j++) data[transpose ? j * rows + idx[j] : idx[j] * k + j] = 1;
  return tf.tensor2d(data, transpose ? [k, rows] : [rows, k]);
}

/** Candidates of one image after `score_thr`: (cell, class) pairs in row-major order of the (cells x C) matrix. */
export interface ScoreCandidates {
  cells: Int32Array;
  labels: Int32Array;
  scores: Float32Array;
}

/** mmdet `score_mask = cls_scores > score_thr; inds = score_mask.nonzero()` on a flat (cells x C) array. */
export function selectCandidates(scores: Float32Array, numClasses: number, scoreThr: number): ScoreCandidates {
  const cells: number[] = [];
  const labels: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > scoreThr) {
      cells.push(Math.floor(i / numClasses));
      labels.push(i % numClasses);
      vals.push(scores[i]);
    }
  }
  return { cells: Int32Array.from(cells), labels: Int32Array.from(labels), scores: Float32Array.from(vals) };
}

/** Level of each flat cell index, and the first flat index of each level. */
export function levelStarts(numGrids: number[]): number[] {
  const starts = [0];
  for (const g of numGrids) starts.push(starts[starts.length - 1] + g * g);
  return starts;
}

export function levelOfCell(cell: number, starts: number[]): number {
  for (let l = 0; l < starts.length - 1; l++) if (cell < starts[l + 1]) return l;
  throw new RangeError(`cell index ${cell} beyond the last level`);
}

/** mmdet `empty_results`: no instances, masks (0, H0, W0), boxes (0, 4). */
export function emptyResult(oriShape: [number, number]): InstanceData {
  return {
    bboxes: new Float32Array(0),
    labels: new Int32Array(0),
    scores: new Float32Array(0),
    masks: emptyMasks(oriShape[0], oriShape[1]),
  };
}

/** Sum of tensors' elements times 0: keeps every parameter connected to a loss that is zero (mmdet's trick). */
export function zeroLike(ts: tf.Tensor[]): tf.Scalar {
  // (+ 0 turns the -0 of a negative sum into +0, as mmdet's sum over an empty selection gives)
  return tf.add(tf.mul(tf.addN(ts.map((t) => tf.sum(t))), 0), 0) as tf.Scalar;
}
