// SPDX-License-Identifier: Apache-2.0
/**
 * mmdetection 3.x `CocoMetric` (registry key `CocoMetric`, prefix `coco`): collects per-image predictions,
 * converts them to COCO results (`results2json`, see `results.ts`: label -> category id, xyxy -> xywh), and runs
 * COCOeval with mmdetection's parameters: all gt images, the categories of `classes` (or all), `maxDets =
 * proposal_nums = [100, 300, 1000]`. Keys: `coco/segm_mAP`, `coco/segm_mAP_50`, `_75`, `_s`, `_m`, `_l`
 * (stats[0..5] rounded to 3 decimals; stats[0] is at maxDets 100, stats[1..5] at 1000, as in mmdetection),
 * `coco/bbox_*` likewise, `coco/AR@100`... for `proposal`, and `coco/<class>_precision` with `classwise`.
 *
 * The package has no file access: pass the ground truth to `computeMetrics(gt)` or `setGroundTruth(gt)`
 * (`annFile` is kept for the caller that loads it). An empty prediction set is evaluated (zeros, -1 where a
 * range has no gt); mmdetection logs an error and reports nothing there.
 */
import { defineOptions, resolveOptions, SoloError, typed, type DetDataSample, type Metric, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { encodeMasks, type CocoAnnotation, type CocoDataset, type CocoResult } from '@solo-ts/cocoapi';
import { classwiseResults, classwiseTable } from './classwise.js';
import { COCO } from './coco.js';
import { evaluateDetections } from './evaluate-detections.js';
import { formatFixed, linspace, roundPy } from './numpy.js';
import { predictionToCocoResults, type CocoPrediction } from './results.js';

/** The options of {@link CocoMetric} (mmdet `CocoMetric.__init__`), declared once. */
export const cocoMetricOptions = defineOptions({
  ann_file: { type: 'string', doc: 'COCO annotation file (loaded by the engine)' },
  metric: typed<string | string[]>()({ type: 'any', default: 'bbox', doc: "'bbox', 'segm', 'proposal' or a list of them" }),
  classwise: { type: 'boolean', default: false, doc: 'also report per-class AP' },
  proposal_nums: { type: 'array', items: 'integer', default: [100, 300, 1000], doc: 'maxDets used by COCOeval' },
  iou_thrs: typed<number | number[]>()({ type: 'any', nullable: true, doc: 'IoU thresholds (default 0.50:0.05:0.95)' }),
  metric_items: { type: 'array', items: 'string', nullable: true, doc: 'stats to report (mAP, mAP_50, ..., AR@100, ...)' },
  format_only: { type: 'boolean', default: false, doc: 'only format the results' },
  outfile_prefix: { type: 'string', nullable: true, doc: 'prefix of result files: not supported (must be null; `solo infer --out` writes COCO results)' },
  prefix: { type: 'string', nullable: true, doc: "metric key prefix (default 'coco')" },
  sort_categories: { type: 'boolean', default: false, doc: 'sort categories by id' },
  collect_device: { type: 'string', default: 'cpu', enum: ['cpu', 'gpu'], doc: 'where mmengine collects distributed results (single process: no effect)' },
  backend_args: typed<{ backend?: string }>()({ type: 'object', nullable: true, doc: 'file backend settings; local files only' }),
  file_client_args: typed<{ backend?: string }>()({ type: 'object', nullable: true, doc: 'deprecated file client settings; local disk only' }),
});
/** Resolved options of {@link CocoMetric}. */
export type CocoMetricOptions = ResolvedOptions<typeof cocoMetricOptions>;
/** What code passes to `new CocoMetric(...)`: the options, and optionally the class names and ground truth. */
export type CocoMetricInput = OptionsInput<typeof cocoMetricOptions> & {
  /** Class names (mmdetection's `dataset_meta['classes']`): label i = i-th category with one of these names. */
  classes?: string[];
  /** Ground truth, if already loaded. */
  gt?: COCO | CocoDataset;
};

const STAT_INDEX: Record<string, number> = {
  mAP: 0,
  mAP_50: 1,
  mAP_75: 2,
  mAP_s: 3,
  mAP_m: 4,
  mAP_l: 5,
  'AR@100': 6,
  'AR@300': 7,
  'AR@1000': 8,
  'AR_s@1000': 9,
  'AR_m@1000': 10,
  'AR_l@1000': 11,
};

export class CocoMetric implements Metric {
  static readonly type = 'CocoMetric';
  static readonly description = "mmdetection's COCO metric (pycocotools-identical COCOeval)";
  static readonly options = cocoMetricOptions;

  readonly annFile?: string;
  readonly metrics: string[];
  readonly classwise: boolean;
  readonly proposalNums: number[];
  readonly iouThrs: number[];
  readonly metricItems?: string[];
  readonly formatOnly: boolean;
  readonly prefix: string;
  /** mmdetection's `dataset_meta` (the engine sets `classes` from the dataset). */
  datasetMeta: { classes?: string[] } = {};
  /** Receives the summary lines, the classwise table and the copypaste line. */
  log: (line: string) => void = () => {};
  /** The COCO results built by the last `computeMetrics`, by metric (`bbox`, `segm`). */
  resultsJson: Record<string, CocoAnnotation[]> = {};
  private predictions: CocoPrediction[] = [];
  private gt?: COCO;
  private readonly sortCategories: boolean;

  constructor(input: CocoMetricInput = {}, _ctx?: unknown) {
    const { classes, gt, ...rest } = input;
    const options = resolveOptions(cocoMetricOptions, rest, 'CocoMetric');
    this.annFile = options.annFile;
    this.metrics = Array.isArray(options.metric) ? [...options.metric] : [options.metric];
    for (const m of this.metrics) {
      if (!['bbox', 'segm', 'proposal', 'proposal_fast'].includes(m)) {
        throw new SoloError(`CocoMetric: metric should be one of 'bbox', 'segm', 'proposal', 'proposal_fast', but got ${m}`, { code: 'CONFIG' });
      }
      if (m === 'proposal_fast') throw new SoloError("CocoMetric: metric 'proposal_fast' is not implemented", { code: 'CONFIG' });
    }
    this.classwise = options.classwise;
    this.proposalNums = [...options.proposalNums];
    const it = options.iouThrs;
    this.iouThrs = it === undefined || it === null ? linspace(0.5, 0.95, 10) : typeof it === 'number' ? [it] : [...it];
    if (options.metricItems) {
      for (const item of options.metricItems) {
        if (!(item in STAT_INDEX)) throw new SoloError(`CocoMetric: metric item "${item}" is not supported`, { code: 'CONFIG' });
      }
      this.metricItems = [...options.metricItems];
    }
    this.formatOnly = options.formatOnly;
    this.prefix = options.prefix ?? 'coco';
    this.sortCategories = options.sortCategories;
    if (options.outfilePrefix != null) {
      throw new SoloError('CocoMetric: outfile_prefix is not supported (result files are not written); set it to null', {
        code: 'CONFIG',
        hint: '`solo infer --out FILE` writes COCO results JSON; the metric keeps them in `resultsJson`',
      });
    }
    const backend = options.backendArgs?.backend;
    if (backend && backend !== 'local') throw new SoloError(`CocoMetric: backend_args.backend "${backend}" is not supported (local files only)`, { code: 'CONFIG' });
    const client = options.fileClientArgs?.backend;
    if (client && client !== 'disk' && client !== 'local') throw new SoloError(`CocoMetric: file_client_args.backend "${client}" is not supported (local disk only)`, { code: 'CONFIG' });
    if (classes) this.datasetMeta.classes = [...classes];
    if (gt) this.setGroundTruth(gt);
  }

  setGroundTruth(gt: COCO | CocoDataset): void {
    this.gt = gt instanceof COCO ? gt : new COCO(gt, this.annFile ?? 'ground truth');
    if (this.sortCategories && this.gt.dataset.categories) {
      this.gt.dataset.categories = [...this.gt.dataset.categories].sort((a, b) => a.id - b.id);
      this.gt.createIndex();
    }
  }

  /** Add predictions: `CocoPrediction`s or `DetDataSample`s with `predInstances` (masks are RLE-encoded here). */
  process(samples: readonly (CocoPrediction | DetDataSample)[]): void {
    for (const s of samples) {
      if ('metainfo' in s) {
        const p = s.predInstances ?? {};
        const m = p.masks;
        const bb = p.bboxes;
        const pred: CocoPrediction = {
          imageId: s.metainfo.imgId,
          labels: p.labels ?? new Int32Array(0),
          scores: p.scores ?? new Float32Array(0),
        };
        if (m) pred.masks = encodeMasks(m.data, m.count, m.height, m.width);
        if (bb) pred.bboxes = bb;
        if (p.mask_scores instanceof Float32Array) pred.maskScores = p.mask_scores;
        this.predictions.push(pred);
      } else this.predictions.push(s);
    }
  }

  reset(): void {
    this.predictions = [];
  }

  /** The predictions processed since `reset` (RLE-encoded; distributed evaluation gathers them across ranks). */
  get predictionsSoFar(): readonly CocoPrediction[] {
    return this.predictions;
  }

  /** mmdetection's `results2json`: COCO results for `bbox` and (when predictions have masks) `segm`. */
  toResultsJson(catIds: readonly number[]): Record<string, CocoAnnotation[]> {
    const bbox: CocoResult[] = [];
    const segm: CocoResult[] = [];
    const hasMasks = this.predictions.length > 0 && this.predictions[0].masks !== undefined;
    for (const r of this.predictions) {
      const res = predictionToCocoResults(r, catIds, { segm: hasMasks });
      bbox.push(...res.bbox);
      segm.push(...res.segm);
    }
    return hasMasks ? { bbox, segm } : { bbox };
  }

  computeMetrics(gtIn?: COCO | CocoDataset): Record<string, number> {
    if (gtIn) this.setGroundTruth(gtIn);
    const gt = this.gt;
    if (!gt) {
      throw new SoloError('CocoMetric: no ground truth: pass it to computeMetrics(gt) or setGroundTruth(gt)', {
        code: 'RUNTIME',
        hint: this.annFile ? `load ${this.annFile} and pass the parsed JSON` : undefined,
      });
    }
    const classes = this.datasetMeta.classes;
    const catIds = classes ? gt.getCatIds({ catNms: classes }) : gt.getCatIds();
    const imgIds = gt.getImgIds();
    this.resultsJson = this.toResultsJson(catIds);
    const results: Record<string, number> = {};
    if (this.formatOnly) return results;
    for (const metric of this.metrics) {
      const iouType = metric === 'proposal' ? 'bbox' : (metric as 'bbox' | 'segm');
      const dets = this.resultsJson[metric === 'proposal' ? 'bbox' : metric];
      if (!dets) throw new SoloError(`CocoMetric: ${metric} is not in results (predictions carry no masks)`, { code: 'DATASET' });
      if (iouType === 'bbox' && dets.some((d) => !d.bbox)) {
        throw new SoloError(`CocoMetric: metric '${metric}' needs predicted bboxes`, { code: 'DATASET' });
      }
      this.log(`Evaluating ${metric}...`);
      const r = evaluateDetections({
        gt,
        dt: dets,
        iouType,
        useCats: metric === 'proposal' ? 0 : 1,
        maxDets: this.proposalNums,
        iouThrs: this.iouThrs,
        imgIds,
        catIds,
        log: this.log,
      });
      const stats = r.stats;
      if (metric === 'proposal') {
        for (const item of this.metricItems ?? ['AR@100', 'AR@300', 'AR@1000', 'AR_s@1000', 'AR_m@1000', 'AR_l@1000']) {
          results[item] = Number(formatFixed(stats[STAT_INDEX[item]], 3));
        }
        continue;
      }
      if (this.classwise) {
        const rows = classwiseResults(r.eval, r.cocoEval._paramsEval!.catIds, gt);
        for (const row of rows) results[`${row.name}_precision`] = roundPy(row.mAP, 3);
        this.log(`\n${classwiseTable(rows)}`);
      }
      for (const item of this.metricItems ?? ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l']) {
        results[`${metric}_${item}`] = roundPy(stats[STAT_INDEX[item]], 3);
      }
      this.log(`${metric}_mAP_copypaste: ${stats.slice(0, 6).map((v) => formatFixed(v, 3)).join(' ')}`);
    }
    const prefixed: Record<string, number> = {};
    for (const [k, v] of Object.entries(results)) prefixed[this.prefix ? `${this.prefix}/${k}` : k] = v;
    return prefixed;
  }
}
