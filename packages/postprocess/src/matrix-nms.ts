// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix NMS (mmdetection `mask_matrix_nms`, SOLOv2), float32 arithmetic in mmdet's order of operations.
 *
 * 1. Sort by score (descending; ties by ascending input index, a deterministic stable sort), keep the top
 *    `nmsPre` (when > 0).
 * 2. IoU_ij = inter_ij / (area_j + area_i − inter_ij) for i < j (i scores higher) and label_i == label_j;
 *    comp_i = max_k IoU_ki (the largest IoU of i with a higher-scoring same-class mask).
 * 3. gaussian: coef_j = min_i exp(−σ·IoU_ij²) / exp(−σ·comp_i²); linear: min_i (1 − IoU_ij) / (1 − comp_i);
 *    score_j ← score_j · coef_j.
 * 4. Keep score ≥ filterThr (when > 0), sort again, keep the top `maxNum` (when > 0).
 * Returns the decayed scores, labels and `keepInds` (indices into the inputs), best first.
 *
 * Intersections are popcounts over bit-packed masks restricted to the overlap of the two masks' bounding boxes
 * and computed for same-label pairs only (other pairs do not influence the result), so memory stays
 * O(n·h·w/8) and no n × HW float matrix is ever built.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, SoloError, type BitmapMasks } from '@solo-ts/core';
import { intersection, packMasks, type PackedMasks } from './packed-masks.js';

export interface MatrixNmsOptions {
  /** Pixel count of every mask (mmdet `mask_area`); computed from the masks when absent. */
  maskArea?: ArrayLike<number>;
  /** Keep the top-scoring `nmsPre` masks before the NMS (≤ 0: all). */
  nmsPre?: number;
  /** Keep at most `maxNum` masks after the NMS (≤ 0: all). */
  maxNum?: number;
  /** Decay kernel. */
  kernel?: 'gaussian' | 'linear';
  /** Gaussian kernel σ (a multiplier: exp(−σ·IoU²)). */
  sigma?: number;
  /** Minimum decayed score (inclusive) when > 0. */
  filterThr?: number;
}

export interface MatrixNmsResult {
  /** Decayed scores, descending. */
  scores: Float32Array;
  labels: Int32Array;
  /** Index of every kept mask in the inputs. */
  keepInds: Int32Array;
}

const emptyResult = (): MatrixNmsResult => ({ scores: new Float32Array(0), labels: new Int32Array(0), keepInds: new Int32Array(0) });

/** Indices sorted by value descending (NaN first, as torch.sort(descending=True)), ties by ascending position. */
export function argsortDescending(values: ArrayLike<number>, idx?: number[]): number[] {
  const order = idx ?? Array.from({ length: values.length }, (_, i) => i);
  const key = (i: number) => (Number.isNaN(values[i]) ? Infinity : values[i]);
  return order
    .map((i, pos) => ({ i, pos, nan: Number.isNaN(values[i]) }))
    .sort((a, b) => {
      if (a.nan !== b.nan) return a.nan ? -1 : 1;
      const d = key(b.i) - key(a.i);
      return d !== 0 && !Number.isNaN(d) ? d : a.pos - b.pos;
    })
    .map((e) => e.i);
}

function validate(count: number, labels: ArrayLike<number>, scores: ArrayLike<number>, opts: MatrixNmsOptions): void {
  if (labels.length !== count || scores.length !== count) {
    throw new ShapeError(`matrixNms: masks, labels and scores must have the same length, got ${count} masks, ${labels.length} labels and ${scores.length} scores`);
  }
  if (opts.maskArea !== undefined && opts.maskArea.length !== count) {
    throw new ShapeError(`matrixNms: maskArea has ${opts.maskArea.length} values for ${count} masks`);
  }
  const kernel = opts.kernel ?? 'gaussian';
  if (kernel !== 'gaussian' && kernel !== 'linear') {
    throw new SoloError(`matrixNms: kernel ${JSON.stringify(kernel)} is not supported`, { code: 'ARGUMENT', expected: "'gaussian' or 'linear'" });
  }
}

/**
 * Matrix NMS on binary masks.
 * @param masks (n, h, w) binary masks (a tensor, non-zero = set, or BitmapMasks).
 * @param labels (n) class labels.
 * @param scores (n) scores.
 */
export async function matrixNms(
  masks: tf.Tensor3D | BitmapMasks,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  opts: MatrixNmsOptions = {},
): Promise<MatrixNmsResult> {
  const isTensor = masks instanceof tf.Tensor;
  const count = isTensor ? (masks as tf.Tensor3D).shape[0] : (masks as BitmapMasks).count;
  validate(count, labels, scores, opts);
  if (count === 0) return emptyResult();
  const { order } = preSort(scores, opts.nmsPre ?? -1);
  let packed: PackedMasks;
  if (isTensor) {
    const t = masks as tf.Tensor3D;
    const [, h, w] = t.shape;
    // all masks kept: download them and pack in sorted order; otherwise gather the top nmsPre first
    const all = order.length === count;
    const sel = tf.tidy(() => {
      const g = all ? tf.clone(t) : tf.gather(t, tf.tensor1d(order, 'int32'));
      return t.dtype === 'bool' ? g : tf.notEqual(g, 0);
    });
    try {
      const data = (await sel.data()) as Uint8Array;
      packed = all ? packMasks(data, count, h, w, order) : packMasks(data, order.length, h, w);
    } finally {
      sel.dispose();
    }
  } else {
    const m = masks as BitmapMasks;
    packed = packMasks(m.data, m.count, m.height, m.width, order);
  }
  return matrixNmsSorted(packed, order, labels, scores, opts);
}

/**
 * Matrix NMS where the caller packs the masks: `pack(order)` must return the masks `order[k]` (input indices,
 * best first, already cut to `nmsPre`) as packed mask k. Used by the post-processor to pack straight from
 * probability maps.
 */
export function matrixNmsWithPacker(
  count: number,
  pack: (order: number[]) => PackedMasks,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  opts: MatrixNmsOptions = {},
): MatrixNmsResult {
  validate(count, labels, scores, opts);
  if (count === 0) return emptyResult();
  const { order } = preSort(scores, opts.nmsPre ?? -1);
  return matrixNmsSorted(pack(order), order, labels, scores, opts);
}

/** Synchronous Matrix NMS on BitmapMasks (same result as `matrixNms`). */
export function matrixNmsSync(masks: BitmapMasks, labels: ArrayLike<number>, scores: ArrayLike<number>, opts: MatrixNmsOptions = {}): MatrixNmsResult {
  validate(masks.count, labels, scores, opts);
  if (masks.count === 0) return emptyResult();
  const { order } = preSort(scores, opts.nmsPre ?? -1);
  return matrixNmsSorted(packMasks(masks.data, masks.count, masks.height, masks.width, order), order, labels, scores, opts);
}

function preSort(scores: ArrayLike<number>, nmsPre: number): { order: number[] } {
  let order = argsortDescending(scores);
  if (nmsPre > 0 && order.length > nmsPre) order = order.slice(0, nmsPre);
  return { order };
}

/**
 * The NMS proper on masks already sorted and packed: `packed` mask k is input mask `order[k]`.
 */
export function matrixNmsSorted(
  packed: PackedMasks,
  order: number[],
  labelsIn: ArrayLike<number>,
  scoresIn: ArrayLike<number>,
  opts: MatrixNmsOptions = {},
): MatrixNmsResult {
  const n = order.length;
  const kernel = opts.kernel ?? 'gaussian';
  const sigma = opts.sigma ?? 2.0;
  const filterThr = opts.filterThr ?? -1;
  const maxNum = opts.maxNum ?? -1;
  const labels = new Float64Array(n);
  const scores = new Float32Array(n);
  const area = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    labels[k] = labelsIn[order[k]];
    scores[k] = scoresIn[order[k]];
    area[k] = opts.maskArea !== undefined ? opts.maskArea[order[k]] : packed.areas[k];
  }
  // Decay IoU of same-label pairs i < j, stored per column j as (i, D_ij). Pairs of different labels have
  // D = IoU·0, which is 0 unless the IoU is NaN/inf, i.e. unless area_i + area_j − inter == 0.
  const colI: number[][] = Array.from({ length: n }, () => []);
  const colD: number[][] = Array.from({ length: n }, () => []);
  const comp = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let cmax = 0;
    for (let i = 0; i < j; i++) {
      const sumArea = Math.fround(area[j] + area[i]);
      let d: number;
      if (labels[i] === labels[j]) {
        const inter = intersection(packed, i, j);
        d = Math.fround(inter / Math.fround(sumArea - inter));
      } else {
        // zero denominator possible only if sumArea is an integer within [0, min pixel count]
        const maxInter = Math.min(packed.areas[i], packed.areas[j]);
        if (sumArea >= 0 && sumArea <= maxInter && Number.isInteger(sumArea) && Math.fround(sumArea - intersection(packed, i, j)) === 0) d = NaN;
        else continue;
      }
      if (d === 0) continue;
      colI[j].push(i);
      colD[j].push(d);
    }
    // comp_j = max over the column (NaN propagates, like torch.max)
    for (const d of colD[j]) {
      if (Number.isNaN(d) || Number.isNaN(cmax)) cmax = NaN;
      else if (d > cmax) cmax = d;
    }
    comp[j] = cmax;
  }
  const negSigma = Math.fround(-1 * sigma);
  const compTerm = new Float32Array(n); // gaussian: exp(−σ·comp²); linear: 1 − comp
  for (let i = 0; i < n; i++) {
    compTerm[i] = kernel === 'gaussian' ? Math.fround(Math.exp(Math.fround(negSigma * Math.fround(comp[i] * comp[i])))) : Math.fround(1 - comp[i]);
  }
  // coef_j = min over every row i; rows with D_ij = 0 contribute 1 / compTerm_i (gaussian, exp(0) = 1) or
  // 1 / compTerm_i (linear, 1 − 0 = 1) — the same value; the row minimum over those is found by scanning.
  const zeroTerm = new Float32Array(n);
  for (let i = 0; i < n; i++) zeroTerm[i] = Math.fround(1 / compTerm[i]);
  const inCol = new Int32Array(n).fill(-1);
  const decayed = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let coef = Infinity;
    let nan = false;
    const is = colI[j];
    const ds = colD[j];
    for (let k = 0; k < is.length; k++) {
      const i = is[k];
      const d = ds[k];
      inCol[i] = j;
      const num = kernel === 'gaussian' ? Math.fround(Math.exp(Math.fround(negSigma * Math.fround(d * d)))) : Math.fround(1 - d);
      const t = Math.fround(num / compTerm[i]);
      if (Number.isNaN(t)) nan = true;
      else if (t < coef) coef = t;
    }
    for (let i = 0; i < n && !nan; i++) {
      if (inCol[i] === j) continue;
      const t = zeroTerm[i];
      if (Number.isNaN(t)) nan = true;
      else if (t < coef) coef = t;
    }
    decayed[j] = nan ? NaN : Math.fround(scores[j] * coef);
  }
  // filter, sort, max_num
  let kept: number[] = [];
  if (filterThr > 0) {
    const thr = Math.fround(filterThr);
    for (let k = 0; k < n; k++) if (decayed[k] >= thr) kept.push(k);
    if (kept.length === 0) return emptyResult();
  } else {
    kept = Array.from({ length: n }, (_, k) => k);
  }
  let final = argsortDescending(decayed, kept);
  if (maxNum > 0 && final.length > maxNum) final = final.slice(0, maxNum);
  const out: MatrixNmsResult = {
    scores: new Float32Array(final.length),
    labels: new Int32Array(final.length),
    keepInds: new Int32Array(final.length),
  };
  final.forEach((k, r) => {
    out.scores[r] = decayed[k];
    out.labels[r] = labels[k];
    out.keepInds[r] = order[k];
  });
  return out;
}
