// SPDX-License-Identifier: Apache-2.0
/**
 * Evaluators for the validation and test loops: a config's `val_evaluator` / `test_evaluator` (usually
 * `CocoMetric`) built through the registry, with the ground truth read from its `ann_file` (or, when it has
 * none, the dataset's annotation file) and the class names taken from the dataset, as mmengine's runner does.
 * Predictions are RLE-encoded batch by batch (`process`), so full-resolution masks are never all held at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SoloError, type DetDataSample, type Registry } from '@solo-ts/core';
import { COCO_INSTANCES, parseJsonText, type CocoAnnotation, type CocoDataset as CocoJson } from '@solo-ts/cocoapi';
import { CocoMetric, type CocoPrediction } from '@solo-ts/evaluation';

/** What the runner's validation / test loops call. */
export interface Evaluator {
  reset(): void;
  /** Samples with `predInstances` (one batch). */
  process(samples: DetDataSample[]): void;
  compute(): Promise<Record<string, number>> | Record<string, number>;
  /** Lines logged by the metric (COCOeval summary). */
  onLog?: (line: string) => void;
  /** COCO results of the last compute, by iou type (`segm`, `bbox`). */
  results?(): Record<string, CocoAnnotation[]>;
  /** Distributed evaluation: what this rank processed since `reset` (structured-clonable). */
  collect?(): unknown;
  /** Distributed evaluation (rank 0): replace the processed results by the ranks' `collect()`s, in rank order. */
  merge?(parts: unknown[]): void;
}

/** Read a COCO annotation file as JSON, with a `SoloError` naming it. */
export function readCocoJson(file: string): CocoJson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SoloError(`cannot read the evaluation ground truth ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, {
      code: 'FILE',
      hint: 'set val_evaluator.ann_file / test_evaluator.ann_file to the COCO annotation file of the split',
    });
  }
  return parseJsonText(text, file, COCO_INSTANCES) as CocoJson;
}

/**
 * CocoMetric with its ground truth. When only part of the annotation file's images were predicted (a dataset
 * `indices` subset, `solo test --max-images`), the ground truth is restricted to those images, so the metric
 * describes what was evaluated (mmdetection would count the other images' objects as missed).
 */
export class CocoEvaluator implements Evaluator {
  onLog?: (line: string) => void;
  private readonly seen = new Set<number>();
  constructor(
    readonly metric: CocoMetric,
    private readonly gt: CocoJson,
  ) {
    metric.log = (line) => this.onLog?.(line);
  }
  reset(): void {
    this.metric.reset();
    this.seen.clear();
    this.batchSizes = [];
  }
  private batchSizes: number[] = [];
  process(samples: DetDataSample[]): void {
    for (const s of samples) this.seen.add(s.metainfo.imgId);
    this.metric.process(samples);
    this.batchSizes.push(samples.length);
  }
  /** The predictions (RLE-encoded) and batch sizes processed since `reset`. */
  collect(): { predictions: CocoPrediction[]; batchSizes: number[] } {
    return { predictions: [...this.metric.predictionsSoFar], batchSizes: [...this.batchSizes] };
  }
  /**
   * The ranks' predictions, batch by batch in rank order (rank 0's share of batch 0, rank 1's, ..., then batch 1):
   * the order of one process, since each rank's loader yields its contiguous share of each global batch.
   */
  merge(parts: unknown[]): void {
    this.reset();
    const ps = parts as Array<ReturnType<CocoEvaluator['collect']>>;
    const starts = ps.map(() => 0);
    const batches = Math.max(0, ...ps.map((p) => p.batchSizes.length));
    for (let b = 0; b < batches; b++) {
      ps.forEach((p, r) => {
        const n = p.batchSizes[b] ?? 0;
        const chunk = p.predictions.slice(starts[r], starts[r] + n);
        starts[r] += n;
        for (const pred of chunk) this.seen.add(pred.imageId);
        this.metric.process(chunk);
        this.batchSizes.push(n);
      });
    }
  }
  compute(): Record<string, number> {
    const images = this.gt.images ?? [];
    if (this.seen.size > 0 && this.seen.size < images.length) {
      this.onLog?.(`evaluating the ${this.seen.size} predicted images of the ${images.length} in the annotation file`);
      const gt = { ...this.gt, images: images.filter((i) => this.seen.has(i.id)), annotations: (this.gt.annotations ?? []).filter((a) => this.seen.has(a.image_id)) };
      return this.metric.computeMetrics(gt);
    }
    return this.metric.computeMetrics(this.gt);
  }
  results(): Record<string, CocoAnnotation[]> {
    return this.metric.resultsJson;
  }
}

export interface BuildEvaluatorOptions {
  registry: Registry;
  /** Config path for messages (`val_evaluator`). */
  path: string;
  /** The split's dataset: its annotation file is the default ground truth, its classes the metric's. */
  dataset?: { annFile?: string; metainfo?: { classes: string[] } };
  /** Directory relative `ann_file`s are resolved against (the current directory, as in mmdetection). */
  cwd?: string;
}

/** Build `val_evaluator` / `test_evaluator` (a map, or a list with one metric). */
export function buildEvaluator(cfg: unknown, o: BuildEvaluatorOptions): Evaluator {
  let c = cfg;
  if (Array.isArray(c)) {
    if (c.length !== 1) throw new SoloError(`\`${o.path}\`: exactly one metric is supported, got ${c.length}`, { code: 'CONFIG' });
    c = c[0];
  }
  const metric = o.registry.build<unknown>('metrics', c, o.path);
  if (!(metric instanceof CocoMetric)) {
    const m = metric as { process?: unknown; computeMetrics?: unknown };
    if (typeof m.process !== 'function' || typeof m.computeMetrics !== 'function') {
      throw new SoloError(`\`${o.path}\` is not a metric (process + computeMetrics)`, { code: 'CONFIG' });
    }
    const gm = m as { process(s: DetDataSample[]): void; computeMetrics(): Record<string, number> | Promise<Record<string, number>>; reset?(): void };
    return { reset: () => gm.reset?.(), process: (s) => gm.process(s), compute: () => gm.computeMetrics() };
  }
  const annFile = metric.annFile ?? o.dataset?.annFile;
  if (!annFile) throw new SoloError(`\`${o.path}\` has no ann_file and the dataset names none`, { code: 'CONFIG' });
  const file = path.resolve(o.cwd ?? process.cwd(), annFile);
  const gt = readCocoJson(file);
  if (o.dataset?.metainfo?.classes && !metric.datasetMeta.classes) metric.datasetMeta = { classes: [...o.dataset.metainfo.classes] };
  return new CocoEvaluator(metric, gt);
}
