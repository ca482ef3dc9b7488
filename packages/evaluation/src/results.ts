// SPDX-License-Identifier: Apache-2.0
/**
 * Predictions -> COCO results: mmdetection's `CocoMetric.results2json` for one image (label -> category id,
 * xyxy -> xywh, scores as JavaScript numbers, RLE masks as `segmentation`). `CocoMetric` and the inference
 * API (`toCocoResults` of the apis package) both build their results JSON here.
 */
import { ShapeError, SoloError } from '@solo-ts/core';
import { toBbox, type CocoResult, type RLE } from '@solo-ts/cocoapi';

/** One image's predictions. Boxes are xyxy (mmdetection); `labels` index the categories (`catIds`). */
export interface CocoPrediction {
  imageId: number;
  labels: Int32Array | readonly number[];
  scores: Float32Array | readonly number[];
  /** One RLE per instance (from `maskUtils.encode`). */
  masks?: readonly RLE[];
  /** n boxes `[x1, y1, x2, y2]` (a flat Float32Array of n*4 is accepted too). */
  bboxes?: readonly (readonly number[])[] | Float32Array;
  /** Mask scores, when they differ from `scores`. */
  maskScores?: Float32Array | readonly number[];
}

export interface CocoResultsOptions {
  /** Also build the `segm` results (the prediction must then have one mask per instance). */
  segm?: boolean;
  /**
   * Per-instance records as the inference API writes them: each `segm` result also carries the 0-based
   * `label` and the `bbox` of its mask (pycocotools `toBbox`), in the order image_id, category_id, label,
   * score, bbox, segmentation.
   */
  instanceRecords?: boolean;
}

/**
 * COCO results of one image: `bbox` results (one per instance, with `bbox` when the prediction has boxes) and,
 * with `segm`, the `segm` results. A label without a category id in `catIds` is an error.
 */
export function predictionToCocoResults(pred: CocoPrediction, catIds: readonly number[], o: CocoResultsOptions = {}): { bbox: CocoResult[]; segm: CocoResult[] } {
  const n = pred.labels.length;
  if (pred.scores.length !== n) throw new ShapeError(`image ${pred.imageId}: ${n} labels but ${pred.scores.length} scores`);
  const cat = (i: number): number => {
    const c = catIds[pred.labels[i]];
    if (c === undefined) throw new SoloError(`image ${pred.imageId}: label ${pred.labels[i]} has no category (${catIds.length} classes)`, { code: 'DATASET' });
    return c;
  };
  const box = (i: number): number[] | undefined => {
    const b = pred.bboxes;
    if (!b) return undefined;
    const [x1, y1, x2, y2] = b instanceof Float32Array ? Array.from(b.subarray(i * 4, i * 4 + 4)) : b[i];
    return [x1, y1, x2 - x1, y2 - y1];
  };
  const bbox: CocoResult[] = [];
  for (let i = 0; i < n; i++) {
    const d: CocoResult = { image_id: pred.imageId, category_id: cat(i), score: Number(pred.scores[i]) };
    const b = box(i);
    if (b) d.bbox = b;
    bbox.push(d);
  }
  const segm: CocoResult[] = [];
  if (!o.segm) return { bbox, segm };
  const masks = pred.masks;
  if (!masks || masks.length !== n) throw new ShapeError(`image ${pred.imageId}: ${n} predictions but ${masks?.length ?? 0} masks`);
  const ms = pred.maskScores ?? pred.scores;
  for (let i = 0; i < n; i++) {
    const score = Number(ms[i]);
    if (o.instanceRecords) {
      const maskBox = toBbox(masks[i]).map((v) => Number(v));
      segm.push({ image_id: pred.imageId, category_id: cat(i), label: pred.labels[i], score, bbox: maskBox, segmentation: masks[i] });
    } else segm.push({ image_id: pred.imageId, category_id: cat(i), score, segmentation: masks[i] });
  }
  return { bbox, segm };
}
