// SPDX-License-Identifier: Apache-2.0
/**
 * Train-and-evaluate on the synthetic shapes data: the code behind `solo demo` and `solo bench-learn`.
 *
 * Makes the dataset when its annotation files are missing (`makeShapesDataset`, deterministic), trains the
 * config for at most `minutes` (the schedule is the config's; the run stops early at the time limit, after a last
 * validation and checkpoint), evaluates the final weights on the whole val split, draws the predictions of the
 * first val images and the loss curve.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeShapesDataset, SHAPES_CONTENT_DEFAULTS as D } from '@solo-ts/datasets';
import { loadConfig } from '@solo-ts/config';
import { defaultRegistryFactory, resolveClasses, testModel } from '@solo-ts/apis';
import type { BackendChoice } from '@solo-ts/backends';
import { buildRunnerFromConfig, readLogSeries, smooth, writeLineChartPng, type TrainSummary } from '@solo-ts/engine';

export interface ShapesRunOptions {
  config: string;
  /** Where the dataset is (made there when missing); must match the config's data_root. */
  dataDir: string;
  dataset: { numTrain: number; numVal: number; imageSize: [number, number]; seed: number; maxObjects?: number; minSize?: number; maxSizeFrac?: number };
  workDir: string;
  minutes: number;
  backend?: BackendChoice;
  /** WebAssembly threads (per data-parallel worker when `workers` > 1). */
  threads?: number;
  /** Data-parallel workers (`buildRunnerFromConfig`'s `workers`; `auto` = min(cores, 2)); default 1. */
  workers?: number | 'auto';
  cfgOptions?: string[];
  /** Pictures of this many val images into `<workDir>/vis` (0 = none). */
  pictures: number;
  print: (line: string) => void;
  /** Continue a previous run in the work dir. */
  resume?: boolean;
}

export interface ShapesRunResult {
  summary: TrainSummary;
  /** Metrics of the final weights on the val split. */
  metrics: Record<string, number>;
  visDir?: string;
  curvePng?: string;
  minutes: number;
  madeDataset: boolean;
  checkpoint?: string;
  secondsPerIter: number;
  classes: string[];
  /** Data-parallel world size of the run (images per iteration = workers x batch_size). */
  workers: number;
}

/** Make the shapes dataset under `dir` unless its annotation files exist. Returns whether it was made. */
export async function ensureShapesDataset(dir: string, o: ShapesRunOptions['dataset'], print: (l: string) => void): Promise<boolean> {
  const train = path.join(dir, 'annotations', 'instances_train.json');
  const val = path.join(dir, 'annotations', 'instances_val.json');
  if (fs.existsSync(train) && fs.existsSync(val)) {
    const stale = shapesDatasetMismatch(train, val, o);
    if (!stale) return false;
    print(`${dir} holds a different synthetic dataset (${stale}); making it again with this run's settings`);
  }
  print(`making the synthetic shapes dataset in ${dir} (${o.numTrain} train + ${o.numVal} val images, ~${o.imageSize.join('x')}, objects ${o.minSize ?? D.minSize} px and up, at most ${o.maxObjects ?? D.maxObjects} per image, seed ${o.seed}) ...`);
  const r = await makeShapesDataset({ out: dir, numTrain: o.numTrain, numVal: o.numVal, imageSize: o.imageSize, seed: o.seed, maxObjects: o.maxObjects, minSize: o.minSize, maxSizeFrac: o.maxSizeFrac });
  print(`  ${r.numAnnotations.train} train / ${r.numAnnotations.val} val instances of ${r.categories.join(', ')}`);
  return true;
}

/**
 * Why the dataset in the directory is not the one these settings make (the `info` block that `makeShapesDataset`
 * writes), or undefined when it is. Datasets without that block (made by other tools) are taken as they are.
 */
export function shapesDatasetMismatch(trainAnn: string, valAnn: string, o: ShapesRunOptions['dataset']): string | undefined {
  const want: Record<string, unknown> = { seed: o.seed, image_size: o.imageSize, max_objects: o.maxObjects ?? D.maxObjects, min_size: o.minSize ?? D.minSize, max_size_frac: o.maxSizeFrac ?? D.maxSizeFrac };
  for (const [file, n] of [[trainAnn, o.numTrain], [valAnn, o.numVal]] as const) {
    let info: Record<string, unknown> | undefined;
    try {
      info = (JSON.parse(fs.readFileSync(file, 'utf8')) as { info?: Record<string, unknown> }).info;
    } catch {
      return `${file} cannot be read as JSON`;
    }
    if (!info || !String(info.description ?? '').startsWith('solo-ts synthetic shapes')) return undefined;
    const have: Record<string, unknown> = { ...info, max_objects: info.max_objects ?? D.maxObjects, min_size: info.min_size ?? D.minSize, max_size_frac: info.max_size_frac ?? D.maxSizeFrac };
    if (info.num_images !== undefined && info.num_images !== n) return `${path.basename(file)}: ${String(info.num_images)} images, expected ${n}`;
    for (const [k, v] of Object.entries(want)) {
      if (JSON.stringify(have[k]) !== JSON.stringify(v)) return `${path.basename(file)}: ${k} ${JSON.stringify(have[k])}, expected ${JSON.stringify(v)}`;
    }
  }
  return undefined;
}

export async function runShapes(o: ShapesRunOptions): Promise<ShapesRunResult> {
  const t0 = performance.now();
  const made = await ensureShapesDataset(o.dataDir, o.dataset, o.print);
  const cfgOptions = [`data_root=${o.dataDir.endsWith('/') ? o.dataDir : `${o.dataDir}/`}`, `val_evaluator.ann_file=${path.join(o.dataDir, 'annotations', 'instances_val.json')}`, `test_evaluator.ann_file=${path.join(o.dataDir, 'annotations', 'instances_val.json')}`, ...(o.cfgOptions ?? [])];
  const cfg = loadConfig(o.config, { cfgOptions });
  // the dataloaders' data_root are YAML aliases of the top-level one in the shipped configs; set them explicitly
  for (const k of ['train_dataloader', 'val_dataloader', 'test_dataloader']) {
    const ds = cfg.get<Record<string, unknown>>(`${k}.dataset`);
    if (ds) ds.data_root = o.dataDir.endsWith('/') ? o.dataDir : `${o.dataDir}/`;
  }
  const run = await buildRunnerFromConfig(cfg, { registry: defaultRegistryFactory, workDir: o.workDir, backend: o.backend, threads: o.threads, workers: o.workers, maxMinutes: o.minutes, print: o.print, resume: o.resume ? true : undefined });
  const summary = await run.train();
  const checkpoint = summary.lastCheckpoint;
  // final metrics on the whole val split: those of the last validation when it ran on the final weights
  let metrics = summary.metrics ?? {};
  let visDir: string | undefined;
  if (checkpoint && (o.pictures > 0 || !summary.metrics)) {
    visDir = o.pictures > 0 ? path.join(o.workDir, 'vis') : undefined;
    const t = await testModel(cfg, { checkpoint, backend: null, showDir: visDir, maxImages: summary.metrics ? o.pictures : undefined, evaluate: !summary.metrics, progress: null, log: () => undefined });
    if (!summary.metrics) metrics = t.metrics;
  }
  let curvePng: string | undefined;
  try {
    const { series } = readLogSeries(summary.logDir);
    const keys = ['loss', 'loss_mask', 'loss_cls'].filter((k) => series.has(k));
    if (keys.length) {
      curvePng = path.join(o.workDir, 'loss_curve.png');
      const window = Math.max(1, Math.round((series.get('loss')?.length ?? 0) / 50));
      await writeLineChartPng(curvePng, keys.map((k) => ({ name: k, points: smooth(series.get(k)!, window) })), { title: `training loss (moving average of ${window} iterations)` });
    }
  } catch {
    curvePng = undefined;
  }
  const iterSeconds = summary.history.length ? summary.history.reduce((a, h) => a + h.time, 0) / summary.history.length : 0;
  const classes = resolveClasses(cfg, undefined).classes;
  return { summary, metrics, visDir, curvePng, minutes: (performance.now() - t0) / 60000, madeDataset: made, checkpoint, secondsPerIter: iterSeconds, classes, workers: run.parallel?.worldSize ?? 1 };
}
