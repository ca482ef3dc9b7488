// SPDX-License-Identifier: Apache-2.0
/**
 * One-call COCO evaluation: `evaluateDetections({gt, dt, iouType})` runs loadRes + COCOeval (evaluate,
 * accumulate, summarize) the way mmdetection and detectron2 do, and `runEval` adds the input checks and output
 * shape behind `solo eval` (so the command is testable without a CLI and without files).
 *
 * For `segm` the detections' `bbox` is dropped before loadRes (mmdetection/detectron2), so detection areas come
 * from the masks; `keepBbox: true` keeps pycocotools' plain behaviour (box area used for the area ranges).
 * An empty detections list is valid: it is evaluated as a results set with no annotations (pycocotools'
 * `loadRes([])` raises); AP/AR are then 0 where gt exists and -1 where a range has no gt.
 */
import type { CocoAnnotation, CocoDataset } from '@solo-ts/cocoapi';
import { SoloError } from '@solo-ts/core';
import { classwiseResults, classwiseTable, type ClasswiseRow } from './classwise.js';
import { COCO } from './coco.js';
import { COCOeval } from './cocoeval.js';
import type { EvalResult } from './accumulate.js';
import type { IouType } from './params.js';
import { validateDetections, validateGroundTruth } from './validate.js';

export interface EvaluateDetectionsOptions {
  /** Ground truth: a COCO object or a parsed COCO dataset. */
  gt: COCO | CocoDataset;
  /** Detections in COCO results format, or a results COCO (from `gt.loadRes`). */
  dt: readonly CocoAnnotation[] | COCO;
  /** Default `segm`. */
  iouType?: IouType;
  /** Also compute the per-category AP table. */
  classwise?: boolean;
  /** Evaluate per category (default true); false = pycocotools `useCats = 0`. */
  useCats?: boolean | number;
  /** `params.maxDets` (default `[1, 10, 100]`; mmdetection's CocoMetric uses `[100, 300, 1000]`). */
  maxDets?: number[];
  /** `params.iouThrs` (default `np.linspace(.5, .95, 10)`). */
  iouThrs?: number[];
  /** `params.imgIds` (default all gt images). */
  imgIds?: number[];
  /** `params.catIds` (default all gt categories). */
  catIds?: number[];
  /** segm only: keep the detections' `bbox` (pycocotools then uses the box area for the area ranges). */
  keepBbox?: boolean;
  /** Receives pycocotools' summary lines. */
  log?: (line: string) => void;
  /** Names for error messages. */
  gtSource?: string;
  dtSource?: string;
}

export interface EvaluateDetectionsResult {
  /** The 12 COCOeval stats, pycocotools order. */
  stats: number[];
  /** pycocotools' summary printout, one line per stat. */
  summary: string[];
  classwise?: ClasswiseRow[];
  eval: EvalResult;
  cocoEval: COCOeval;
}

export function evaluateDetections(opts: EvaluateDetectionsOptions): EvaluateDetectionsResult {
  const iouType = opts.iouType ?? 'segm';
  const gt = opts.gt instanceof COCO ? opts.gt : new COCO(opts.gt, opts.gtSource ?? 'ground truth');
  let dt: COCO;
  if (opts.dt instanceof COCO) dt = opts.dt;
  else {
    const dets =
      iouType === 'segm' && !opts.keepBbox
        ? opts.dt.map((d) => {
            const { bbox: _drop, ...rest } = d;
            return rest as CocoAnnotation;
          })
        : opts.dt;
    dt = gt.loadRes(dets, opts.dtSource ?? 'detections');
  }
  const E = new COCOeval(gt, dt, iouType);
  if (opts.useCats !== undefined) E.params.useCats = typeof opts.useCats === 'boolean' ? (opts.useCats ? 1 : 0) : opts.useCats;
  if (opts.maxDets) E.params.maxDets = [...opts.maxDets];
  if (opts.iouThrs) E.params.iouThrs = [...opts.iouThrs];
  if (opts.imgIds) E.params.imgIds = [...opts.imgIds];
  if (opts.catIds) E.params.catIds = [...opts.catIds];
  if (opts.log) E.log = opts.log;
  E.evaluate();
  // evaluated categories, before accumulate() replaces them by [-1] when useCats = 0
  const catIds = [...E.params.catIds];
  E.accumulate();
  const stats = E.summarize();
  const result: EvaluateDetectionsResult = { stats, summary: E.summaryLines, eval: E.eval!, cocoEval: E };
  if (opts.classwise && E.params.useCats) result.classwise = classwiseResults(E.eval!, catIds, gt);
  return result;
}

/** Names of the stats for the given maxDets (`AR1`, `AR10`, `AR100` with the defaults). */
export function statNames(maxDets: readonly number[] = [1, 10, 100]): string[] {
  const [m0, m1, m2] = maxDets;
  return ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', `AR${m0}`, `AR${m1}`, `AR${m2}`, 'ARs', 'ARm', 'ARl'];
}

export interface RunEvalOptions {
  /** Parsed ground-truth JSON. */
  gt: unknown;
  /** Parsed detections JSON. */
  dt: unknown;
  /** File names for messages. */
  gtFile?: string;
  dtFile?: string;
  iouType?: IouType | string;
  classwise?: boolean;
  /** 1 (default) or 0. */
  useCats?: boolean | number | string;
}

export interface RunEvalResult {
  iouType: IouType;
  /** 12 numbers, pycocotools order. */
  stats: number[];
  /** The stats by name (`AP`, `AP50`, ... `ARl`) and mmdetection's keys (`segm_mAP`, `segm_mAP_50`, ...). */
  metrics: Record<string, number>;
  summary: string[];
  classwise?: ClasswiseRow[];
  classwiseTable?: string;
}

/** Validate, evaluate and shape the result of `solo eval`. Throws `SoloError` naming the file and annotation. */
export function runEval(opts: RunEvalOptions): RunEvalResult {
  const gtFile = opts.gtFile ?? 'ground truth';
  const dtFile = opts.dtFile ?? 'detections';
  const iouType = String(opts.iouType ?? 'segm');
  if (iouType !== 'segm' && iouType !== 'bbox') {
    throw argError(`unknown --iou-type '${iouType}'`, "'segm' or 'bbox'");
  }
  let useCats = 1;
  if (opts.useCats !== undefined) {
    const u = String(typeof opts.useCats === 'boolean' ? Number(opts.useCats) : opts.useCats);
    if (u !== '0' && u !== '1') throw argError(`--use-cats must be 0 or 1, got '${u}'`, '0 or 1');
    useCats = Number(u);
  }
  const dataset = validateGroundTruth(opts.gt, gtFile, iouType);
  const gt = new COCO(dataset, gtFile);
  const dets = validateDetections(opts.dt, dtFile, new Set(gt.imgs.keys()), iouType);
  const r = evaluateDetections({ gt, dt: dets, iouType, classwise: opts.classwise, useCats, gtSource: gtFile, dtSource: dtFile });
  const metrics: Record<string, number> = {};
  const names = statNames(r.cocoEval.params.maxDets);
  r.stats.forEach((v, i) => (metrics[names[i]] = v));
  ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'].forEach((k, i) => (metrics[`${iouType}_${k}`] = r.stats[i]));
  const out: RunEvalResult = { iouType, stats: r.stats, metrics, summary: r.summary };
  if (r.classwise) {
    out.classwise = r.classwise;
    out.classwiseTable = classwiseTable(r.classwise);
  }
  return out;
}

function argError(message: string, expected: string): SoloError {
  return new SoloError(message, { code: 'ARGUMENT', expected });
}
