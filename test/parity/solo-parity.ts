// SPDX-License-Identifier: Apache-2.0
/**
 * Shared helpers of the SOLO-family parity tests (heads, detectors, predict-by-feat, backbone-neck): the five
 * golden variants of ../shared/parity, NCHW -> NHWC conversion, checkpoint loading, closeness checks that report
 * the worst element instead of failing on the first, and the comparisons of the Matrix-NMS inputs and of the final
 * predictions with mmdetection's.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { extractStateDict, loadPthFile, type TorchTensor } from '@solo-ts/checkpoint';
import type { DetDataSample, DetMeta, InstanceData, MaskCandidates, MaskPostProcessor, SoloTestCfg } from '@solo-ts/core';
import { SOLOMaskPostProcessor } from '@solo-ts/postprocess';
import { decode } from '@solo-ts/cocoapi';
import { npyFloat32, npyInt32, npyUint8, parityPath, readParity, type NpyArray } from '../helpers/npy.js';
import type { Variant } from './variants.js';

export { VARIANTS, type Variant } from './variants.js';

export interface VariantConfig {
  model: Record<string, unknown> & { mask_head: Record<string, unknown>; test_cfg: Record<string, unknown> };
  head_kind: 'solo' | 'decoupled' | 'solov2';
  image_meta: { img_id: number; ori_shape: [number, number]; img_shape: [number, number]; scale_factor: [number, number]; pad_shape: [number, number]; batch_input_shape: [number, number] };
  nms_candidates: number;
  num_predictions: number;
}

export function variantConfig(v: Variant): VariantConfig {
  const cfg = JSON.parse(readFileSync(parityPath(v, 'config.json'), 'utf8')) as VariantConfig;
  if (!cfg.head_kind) cfg.head_kind = v.startsWith('solov2') ? 'solov2' : v.startsWith('decoupled') ? 'decoupled' : 'solo';
  return cfg;
}

/** NCHW float32 golden -> NHWC tensor. */
export function nhwc(a: NpyArray): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(npyFloat32(a), a.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** A tensor as NCHW data (for comparison with goldens). */
export function toNchwData(t: tf.Tensor4D): Float32Array {
  const n = tf.transpose(t, [0, 3, 1, 2]);
  const d = n.dataSync() as Float32Array;
  n.dispose();
  return d;
}

/** The neck outputs P2..P6 of a variant (NHWC). */
export function neckOutputs(v: Variant): tf.Tensor4D[] {
  return [0, 1, 2, 3, 4].map((i) => nhwc(readParity(v, `neck_out_${i}.npy`)));
}

const sdCache = new Map<string, Map<string, TorchTensor>>();
/** The state dict of a variant's checkpoint.pth (cached per file). */
export async function variantStateDict(v: Variant): Promise<Map<string, TorchTensor>> {
  let sd = sdCache.get(v);
  if (!sd) {
    const obj = await loadPthFile(parityPath(v, 'checkpoint.pth'));
    sd = extractStateDict(obj, { name: `${v}/checkpoint.pth` }).stateDict;
    sdCache.set(v, sd);
  }
  return sd;
}

/** Entries under `prefix.` with the prefix removed. */
export function subStateDict<T>(sd: Map<string, T>, prefix: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, t] of sd) if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), t);
  return out;
}

export interface CloseReport {
  n: number;
  bad: number;
  worst: { index: number; actual: number; expected: number; diff: number };
}

/** Elementwise |a - e| <= max(atol, rtol * |e|); returns a report (worst element by diff / allowed). */
export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): CloseReport {
  if (actual.length !== expected.length) throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  let bad = 0;
  let worst = { index: -1, actual: 0, expected: 0, diff: 0 };
  let worstRatio = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const d = Math.abs(a - e);
    const allowed = Math.max(atol, rtol * Math.abs(e));
    const ratio = Number.isNaN(d) ? Infinity : d / allowed;
    if (ratio > 1) bad++;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { index: i, actual: a, expected: e, diff: d };
    }
  }
  return { n: actual.length, bad, worst };
}

export function describeReport(label: string, r: CloseReport): string {
  return `${label}: ${r.bad}/${r.n} outside tolerance; worst #${r.worst.index}: got ${r.worst.actual}, expected ${r.worst.expected} (|diff| ${r.worst.diff.toExponential(3)})`;
}

/** Expect every element within tolerance ({@link compareClose}); a failure names the worst one. */
export function expectClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): void {
  const r = compareClose(actual, expected, rtol, atol);
  expect(r.bad, describeReport(label, r)).toBe(0);
}

/** The metainfo of the variant's test sample. */
export function variantMeta(cfg: VariantConfig): DetMeta {
  const m = cfg.image_meta;
  return {
    imgId: m.img_id,
    oriShape: m.ori_shape,
    imgShape: m.img_shape,
    padShape: m.pad_shape,
    batchInputShape: m.batch_input_shape,
    scaleFactor: m.scale_factor,
  };
}

/** The loss sample of a variant: gt from loss/gt_*.npy (masks already padded to the input size). */
export function lossSample(v: Variant, cfg: VariantConfig): DetDataSample {
  const b = readParity(v, 'loss/gt_bboxes.npy');
  const l = readParity(v, 'loss/gt_labels.npy');
  const m = readParity(v, 'loss/gt_masks.npy');
  return {
    metainfo: variantMeta(cfg),
    gtInstances: {
      bboxes: Float32Array.from(npyFloat32(b)),
      labels: Int32Array.from(npyInt32(l)),
      masks: { count: m.shape[0], height: m.shape[1], width: m.shape[2], data: Uint8Array.from(npyUint8(m)) },
    },
  };
}

/** Losses recorded by mmdetection for the variant. */
export function variantLosses(v: Variant): { loss_mask: number; loss_cls: number } {
  return (JSON.parse(readFileSync(parityPath(v, 'loss/losses.json'), 'utf8')) as { losses: { loss_mask: number; loss_cls: number } }).losses;
}

/** COCO results written by mmdetection's CocoMetric for the variant. */
export function variantPredictions(v: Variant): Array<{ score: number; category_id: number; segmentation: { size: [number, number]; counts: string } }> {
  return JSON.parse(readFileSync(parityPath(v, 'predictions.segm.json'), 'utf8'));
}

/** Class index -> COCO category id of the parity image (README "Categories"). */
export const CATEGORY_IDS = [1, 3, 6, 9, 16, 17, 18, 44];

/** IoU of two row-major binary masks of the same size. */
export function maskIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/**
 * mmdetection's Matrix-NMS inputs computed from recorded candidates (the area filter and maskness of `_predict_by_feat_single`, plain JS):
 * area = #(prob > mask_thr), keep area > stride, score = cls_score * (sum(prob * mask) / area).
 */
export function nmsInputsFromCandidates(c: { probs: Float32Array; n: number; hw: number; scores: Float32Array; labels: Int32Array; strides: Float32Array }, maskThr: number): { scores: number[]; labels: number[]; areas: number[] } {
  const out = { scores: [] as number[], labels: [] as number[], areas: [] as number[] };
  for (let i = 0; i < c.n; i++) {
    let area = 0;
    let sum = 0;
    for (let p = 0; p < c.hw; p++) {
      const v = c.probs[i * c.hw + p];
      if (v > maskThr) {
        area++;
        sum += v;
      }
    }
    if (!(area > c.strides[i])) continue;
    out.scores.push(c.scores[i] * (sum / area));
    out.labels.push(c.labels[i]);
    out.areas.push(area);
  }
  return out;
}

/** The candidates a head handed to its post-processor (maskProbs read back). */
export interface RecordedCandidates {
  probs: Float32Array;
  n: number;
  hw: number;
  scores: Float32Array;
  labels: Int32Array;
  strides: Float32Array;
}

/** Records the candidates the head hands over, then runs the real SOLOMaskPostProcessor (key `test.RecordingPostProcessor`). */
export class RecordingPostProcessor implements MaskPostProcessor {
  static readonly type = 'test.RecordingPostProcessor';
  static last: RecordedCandidates | undefined;
  private readonly inner = new SOLOMaskPostProcessor({});
  async process(c: MaskCandidates, meta: DetMeta, cfg: SoloTestCfg): Promise<InstanceData> {
    const [n, h, w] = c.maskProbs.shape;
    RecordingPostProcessor.last = { probs: (await c.maskProbs.data()) as Float32Array, n, hw: h * w, scores: c.clsScores, labels: c.labels, strides: c.strides };
    return this.inner.process(c, meta, cfg);
  }
}

/**
 * The Matrix-NMS inputs of the candidates the last {@link RecordingPostProcessor} saw, against post/nms_in_*.npy:
 * labels and areas exact, scores within 1e-4 relative / 1e-5 absolute.
 */
export function expectNmsInputsMatch(v: Variant, cfg: VariantConfig): void {
  const rec = RecordingPostProcessor.last;
  expect(rec, 'the post-processor was called').toBeDefined();
  const nmsIn = nmsInputsFromCandidates(rec!, cfg.model.test_cfg.mask_thr as number);
  expect(nmsIn.labels).toEqual(Array.from(npyInt32(readParity(v, 'post', 'nms_in_labels.npy'))));
  expect(nmsIn.areas).toEqual(Array.from(npyFloat32(readParity(v, 'post', 'nms_in_areas.npy'))));
  expectClose(`${v} nms_in_scores`, nmsIn.scores, npyFloat32(readParity(v, 'post', 'nms_in_scores.npy')));
}

/**
 * Final predictions against mmdetection's: the same count (`num_predictions`), labels exact, scores within 1e-3
 * (or `scoreAtol`)
 * (pred_*.npy), and per prediction the COCO category id, mask IoU >= 0.99 against predictions.segm.json and the
 * mask area within 1% of pred_mask_areas.npy.
 */
export function expectPredictionsMatch(v: Variant, cfg: VariantConfig, res: InstanceData, scoreAtol = 1e-3): void {
  const labels = npyInt32(readParity(v, 'pred_labels.npy'));
  expect(labels.length).toBe(cfg.num_predictions);
  expect(res.scores!.length).toBe(labels.length);
  expect(Array.from(res.labels!)).toEqual(Array.from(labels));
  expectClose(`${v} pred_scores`, res.scores!, npyFloat32(readParity(v, 'pred_scores.npy')), 0, scoreAtol);
  const [H, W] = cfg.image_meta.ori_shape;
  const hw = H * W;
  const areas = npyInt32(readParity(v, 'pred_mask_areas.npy'));
  const coco = variantPredictions(v);
  expect(coco.length).toBe(labels.length);
  coco.forEach((p, i) => {
    expect(p.category_id).toBe(CATEGORY_IDS[res.labels![i]]);
    const ref = decode(p.segmentation);
    expect([ref.height, ref.width]).toEqual([H, W]);
    const ours = res.masks!.data.subarray(i * hw, (i + 1) * hw);
    expect(maskIoU(ours, ref.data), `${v} prediction ${i}: mask IoU`).toBeGreaterThanOrEqual(0.99);
    let area = 0;
    for (const b of ours) area += b;
    expect(Math.abs(area - areas[i]) / Math.max(1, areas[i]), `${v} prediction ${i}: area`).toBeLessThan(0.01);
  });
}
