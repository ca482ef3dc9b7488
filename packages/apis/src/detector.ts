// SPDX-License-Identifier: Apache-2.0
/**
 * The inference API: `buildDetector(config, {checkpoint})` and `inferImage(detector, image)`.
 *
 * ```ts
 * const det = await buildDetector('configs/solov2/solov2_r50_fpn_1x_coco.yaml', { checkpoint: 'solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth' });
 * const { instances, results } = await inferImage(det, 'demo.jpg');   // results: COCO results (RLE masks)
 * ```
 * The image goes through the config's test pipeline (its `LoadImageFromFile` replaced by decoding the given file
 * or bytes, `LoadAnnotations` dropped), the data preprocessor and `predict`: masks come back at the original
 * image size. Class names come from the checkpoint's metadata, the config's `metainfo.classes`, the test
 * annotation file, or COCO's 80 names for an 80-class head, in that order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveOptions, snakeToCamel, SoloError, type InstanceData, type Registry } from '@solo-ts/core';
import { loadConfig, type Config } from '@solo-ts/config';
import { atomicWriteFile, fileSha256 } from '@solo-ts/checkpoint';
import { encodeMasks, parseJsonText, type CocoDataset, type CocoResult, type RLE } from '@solo-ts/cocoapi';
import { Compose, decodeImage, LoadImageFromFile, type ColorType, type PackedSample } from '@solo-ts/datasets';
import { selectBackend, type BackendChoice } from '@solo-ts/backends';
import { buildModel, loadConfigPluginsInto, loadWeights, modelNumClasses, type TrainableDetector } from '@solo-ts/engine';
import * as tf from '@tensorflow/tfjs-core';
import { createDefaultRegistry } from './registry.js';
import { exportOnnx, solotsVersion } from './export.js';
import { buildOnnxParts, onnxCachePath, ortNodeAvailable } from './onnx-detector.js';
import { predictionToCocoResults } from '@solo-ts/evaluation';
import { COCO_CATEGORY_IDS, COCO_CLASSES } from './coco-classes.js';

export interface Detector {
  model: TrainableDetector;
  cfg: Config;
  registry: Registry;
  /** Class name per label. */
  classes: string[];
  /** COCO category id per label (for results files). */
  catIds: number[];
  /** The test pipeline after image loading. */
  pipeline: Compose;
  checkpoint?: string;
  /** Which runtime runs the network: `tfjs` (the model above) or `onnx` (an ONNX Runtime session, see onnx-detector.ts). */
  runtime: 'tfjs' | 'onnx';
  /** One line naming the runtime, e.g. `onnxruntime-node 1.30.0 (cpu, 2 threads)` or `tfjs wasm (2 threads)`. */
  runtimeDetail: string;
  dispose(): void;
}

/** `tfjs`, `onnx`, or `auto` (ONNX Runtime where it loads and the model exports, else tfjs). */
export type RuntimeChoice = 'tfjs' | 'onnx' | 'auto';

export interface BuildDetectorOptions {
  checkpoint?: string;
  cfgOptions?: string[] | Record<string, unknown>;
  /** Backend to select first (default: keep the current one). */
  backend?: BackendChoice | null;
  threads?: number;
  registry?: Registry;
  /** Called with a line about tensors the checkpoint had but the model does not (and runtime fallbacks). */
  onWarning?: (line: string) => void;
  /**
   * The runtime of the network (default `tfjs`, `onnx` for a `.onnx` file). `onnx`: ONNX Runtime on the graph exported from the config and
   * checkpoint (cached, see `onnxCacheDir`), or on the `.onnx` file given as the config or the checkpoint.
   */
  runtime?: RuntimeChoice;
  /** ONNX Runtime execution providers (default `['cpu']`; `['cuda', 'cpu']` with the CUDA build, see docs/onnx-runtime.md). */
  executionProviders?: Array<string | Record<string, unknown>>;
  /** Cache directory of exported graphs (default `onnxCacheDir()`; null: export in memory every time). */
  cacheDir?: string | null;
}

/** One instance in COCO results format with its 0-based `label` and the box of its mask (`toCocoResults`). */
export type CocoInstanceResult = CocoResult & { label: number; bbox: number[]; segmentation: RLE };

/** The config's test pipeline; without `keepLoading`, less the image / annotation loading steps (inference decodes itself). */
export function testPipelineCfg(cfg: Config, keepLoading = false): unknown[] {
  const p = cfg.get<unknown[]>('test_dataloader.dataset.pipeline') ?? cfg.get<unknown[]>('test_pipeline') ?? cfg.get<unknown[]>('val_dataloader.dataset.pipeline');
  if (!Array.isArray(p)) throw new SoloError(`${cfg.filename} has no test pipeline (test_dataloader.dataset.pipeline)`, { code: 'CONFIG' });
  if (keepLoading) return p;
  return p.filter((t) => {
    const type = (t as { type?: unknown }).type;
    return type !== 'LoadImageFromFile' && type !== 'LoadAnnotations' && type !== 'mmdet.LoadImageFromNDArray' && type !== 'LoadImageFromNDArray';
  });
}

/**
 * How the config's test pipeline decodes images: the `color_type` of its `LoadImageFromFile` step (mmcv's imfrombytes
 * flag; default `color`), so that `inferImage` sees the image a dataset run would.
 */
export function testColorType(cfg: Config): ColorType {
  const load = testPipelineCfg(cfg, true).find((t) => (t as { type?: unknown }).type === 'LoadImageFromFile') as Record<string, unknown> | undefined;
  if (!load) return 'color';
  const { type: _type, ...rest } = load;
  const input = Object.fromEntries(Object.entries(rest).map(([k, v]) => [snakeToCamel(k), v]));
  return resolveOptions(LoadImageFromFile.options, input, `${cfg.filename}: test pipeline LoadImageFromFile`).colorType as ColorType;
}

function classesFromMeta(meta: unknown): string[] | undefined {
  const m = meta as { dataset_meta?: { classes?: unknown }; CLASSES?: unknown; classes?: unknown } | undefined;
  const c = m?.classes ?? m?.dataset_meta?.classes ?? m?.CLASSES;
  return Array.isArray(c) && c.every((x) => typeof x === 'string') ? (c as string[]) : undefined;
}

/** Class names and category ids of a model (see the module doc for the order of sources). */
export function resolveClasses(cfg: Config, numClasses: number | undefined, checkpointMeta?: unknown): { classes: string[]; catIds: number[] } {
  const fromCfg = cfg.get<string[]>('test_dataloader.dataset.metainfo.classes') ?? cfg.get<string[]>('train_dataloader.dataset.metainfo.classes');
  let classes = classesFromMeta(checkpointMeta) ?? (Array.isArray(fromCfg) ? fromCfg : undefined);
  let catIds: number[] | undefined;
  const ds = cfg.get<Record<string, unknown>>('test_dataloader.dataset');
  const ann = ds && typeof ds.ann_file === 'string' ? (ds.data_root && !path.isAbsolute(ds.ann_file) ? path.join(String(ds.data_root), ds.ann_file) : ds.ann_file) : undefined;
  if (ann && fs.existsSync(ann)) {
    try {
      const cats = (parseJsonText(fs.readFileSync(ann, 'utf8'), ann) as CocoDataset).categories ?? [];
      const byName = new Map(cats.map((c) => [c.name, c.id]));
      classes ??= cats.map((c) => c.name as string);
      const ids = classes.map((n) => byName.get(n));
      if (ids.every((x): x is number => x !== undefined)) catIds = ids;
    } catch {
      /* unreadable: fall through to the defaults */
    }
  }
  if (!classes && numClasses === 80) classes = [...COCO_CLASSES];
  classes ??= Array.from({ length: numClasses ?? 0 }, (_, i) => `class_${i}`);
  if (!catIds && classes.length === 80 && classes.every((c, i) => c === COCO_CLASSES[i])) catIds = [...COCO_CATEGORY_IDS];
  catIds ??= classes.map((_, i) => i + 1);
  return { classes, catIds };
}

const isOnnxPath = (p: unknown): p is string => typeof p === 'string' && /\.onnx$/i.test(p);

async function onnxDetector(model: string | Uint8Array, cfg: Config | undefined, o: BuildDetectorOptions, source: string, checkpoint?: string): Promise<Detector> {
  const p = await buildOnnxParts(model, { cfg, threads: o.threads, executionProviders: o.executionProviders, registry: o.registry }, source);
  return { ...p, checkpoint: checkpoint ?? (typeof model === 'string' ? model : undefined), runtime: 'onnx', dispose: () => p.model.dispose() };
}

/**
 * Build a detector from a config (path or loaded) and load its weights (`.pth` or `.safetensors`); or, with
 * `runtime: 'onnx'` (or a `.onnx` file as the config or the checkpoint), a detector on ONNX Runtime with the same
 * surface (see onnx-detector.ts).
 */
export async function buildDetector(config: Config | string, o: BuildDetectorOptions = {}): Promise<Detector> {
  const runtime = o.runtime ?? 'tfjs';
  if (!['tfjs', 'onnx', 'auto'].includes(runtime)) throw new SoloError(`unknown runtime '${String(runtime)}'`, { code: 'ARGUMENT', expected: 'onnx, tfjs or auto' });
  if (isOnnxPath(config) || isOnnxPath(o.checkpoint)) {
    if (o.runtime === 'tfjs') throw new SoloError('the tfjs runtime needs a config and a checkpoint (.pth or .safetensors), not a .onnx file', { code: 'ARGUMENT', hint: 'use --runtime onnx (the default) for a .onnx file' });
    if (isOnnxPath(config) && o.checkpoint) throw new SoloError(`${config} holds its weights: give no checkpoint with it`, { code: 'ARGUMENT' });
    if (o.backend) await selectBackend(o.backend, { threads: o.threads, quiet: true });
    if (isOnnxPath(config)) return onnxDetector(config, undefined, o, config);
    const cfg = typeof config === 'string' ? loadConfig(config, { cfgOptions: o.cfgOptions }) : config;
    return onnxDetector(o.checkpoint!, cfg, o, o.checkpoint!);
  }
  const cfg = typeof config === 'string' ? loadConfig(config, { cfgOptions: o.cfgOptions }) : config;
  const selected = o.backend ? await selectBackend(o.backend, { threads: o.threads, quiet: true }) : undefined;
  if (runtime !== 'tfjs') {
    if (runtime === 'auto' && !(await ortNodeAvailable())) {
      o.onWarning?.('ONNX Runtime (onnxruntime-node) is not available here: running on tfjs');
    } else {
      const sha = o.checkpoint ? fileSha256(o.checkpoint) : null;
      const cacheFile = o.checkpoint && sha && o.cacheDir !== null ? await onnxCachePath(o.checkpoint, cfg, solotsVersion(), o.cacheDir ?? undefined, sha) : undefined;
      if (cacheFile && fs.existsSync(cacheFile)) return onnxDetector(cacheFile, cfg, o, cacheFile, o.checkpoint);
      const det = await buildDetector(cfg, { ...o, runtime: 'tfjs', backend: null });
      let bytes: Uint8Array;
      try {
        bytes = exportOnnx(det, { checkpointSha256: sha }).bytes;
      } catch (e) {
        if (runtime === 'auto') {
          // the default runtime: a model the exporter does not cover yet still runs, on tfjs, with a line saying why
          o.onWarning?.(`this model does not export to ONNX (${(e as Error).message}): running on tfjs`);
          return det;
        }
        det.dispose();
        throw e;
      }
      det.dispose();
      if (cacheFile) {
        try {
          fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
          await atomicWriteFile(cacheFile, bytes, 'ONNX cache file');
        } catch (e) {
          o.onWarning?.(`cannot write the ONNX cache ${cacheFile}: ${(e as Error).message}`);
        }
      }
      return onnxDetector(bytes, cfg, o, cacheFile ?? 'the exported model', o.checkpoint);
    }
  }
  const registry = o.registry ?? createDefaultRegistry();
  await loadConfigPluginsInto(cfg, registry);
  const model = buildModel(cfg, { registry });
  let meta: unknown;
  try {
    if (o.checkpoint) {
      const r = await loadWeights(model, o.checkpoint);
      meta = r.meta;
      if (r.report.unexpected.length && o.onWarning) o.onWarning(`${o.checkpoint}: ${r.report.unexpected.length} tensors not used by the model (${r.report.unexpected.slice(0, 5).join(', ')}${r.report.unexpected.length > 5 ? ', ...' : ''})`);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  const { classes, catIds } = resolveClasses(cfg, modelNumClasses(model), meta);
  const pipeline = Compose.build(testPipelineCfg(cfg), registry.context('test_pipeline'), 'test_pipeline');
  const detail = selected?.detail ?? tf.getBackend();
  return { model, cfg, registry, classes, catIds, pipeline, checkpoint: o.checkpoint, runtime: 'tfjs', runtimeDetail: `tfjs ${detail}`, dispose: () => model.dispose() };
}

export interface InferResult {
  /** Predictions at the original image size (masks, labels, scores, boxes). */
  instances: InstanceData;
  /** COCO results, one per instance above the threshold. */
  results: CocoInstanceResult[];
  /** The decoded image (uint8, BGR as cv2 gives it) for drawing. */
  image: { data: Uint8Array; width: number; height: number; channels: number };
  seconds: { preprocess: number; predict: number };
}

/** Keep the instances with score >= thr. */
export function filterInstances(inst: InstanceData, thr: number): InstanceData {
  const n = inst.scores?.length ?? 0;
  const keep = [...Array(n).keys()].filter((i) => inst.scores![i] >= thr);
  if (keep.length === n) return inst;
  const m = inst.masks;
  const out: InstanceData = { scores: Float32Array.from(keep, (i) => inst.scores![i]) };
  if (inst.labels) out.labels = Int32Array.from(keep, (i) => inst.labels![i]);
  if (inst.bboxes) out.bboxes = Float32Array.from(keep.flatMap((i) => Array.from(inst.bboxes!.subarray(4 * i, 4 * i + 4))));
  if (m) {
    const hw = m.height * m.width;
    const data = new Uint8Array(keep.length * hw);
    keep.forEach((i, j) => data.set(m.data.subarray(i * hw, (i + 1) * hw), j * hw));
    out.masks = { count: keep.length, height: m.height, width: m.width, data };
  }
  return out;
}

/**
 * COCO results of one image's instances (evaluation's `predictionToCocoResults` with per-instance records):
 * RLE masks, the 0-based `label`, boxes from the masks, category ids from `catIds` (`label + 1` for a label
 * past them, as `resolveClasses` numbers classes it has no ids for).
 */
export function toCocoResults(inst: InstanceData, imageId: number, catIds: readonly number[]): CocoInstanceResult[] {
  const n = inst.scores?.length ?? 0;
  const m = inst.masks;
  if (!m || m.count !== n) throw new SoloError(`toCocoResults: ${n} scores but ${m?.count ?? 0} masks`, { code: 'SHAPE' });
  const labels = inst.labels ?? new Int32Array(n);
  const numIds = labels.reduce((k, l) => Math.max(k, l + 1), catIds.length);
  const ids = Array.from({ length: numIds }, (_, l) => catIds[l] ?? l + 1);
  const pred = { imageId, labels, scores: inst.scores ?? new Float32Array(0), masks: encodeMasks(m.data, n, m.height, m.width) };
  return predictionToCocoResults(pred, ids, { segm: true, instanceRecords: true }).segm as CocoInstanceResult[];
}

/** Run the detector on one image (a file path or encoded bytes). `scoreThr` filters the results (default: keep all). */
export async function inferImage(det: Detector, image: string | Uint8Array, o: { scoreThr?: number; imageId?: number } = {}): Promise<InferResult> {
  const t0 = performance.now();
  let bytes: Uint8Array;
  if (typeof image === 'string') {
    try {
      bytes = fs.readFileSync(image);
    } catch (e) {
      throw new SoloError(`cannot read image ${image}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, { code: 'FILE' });
    }
  } else bytes = image;
  let img;
  try {
    img = await decodeImage(bytes, testColorType(det.cfg));
  } catch (e) {
    throw new SoloError(`cannot decode image${typeof image === 'string' ? ` ${image}` : ''}: ${(e as Error).message}`, { code: 'FILE', cause: e });
  }
  const imageId = o.imageId ?? 0;
  const packed = await det.pipeline.run<PackedSample>({ img, imgShape: [img.height, img.width], oriShape: [img.height, img.width], imgId: imageId, imgPath: typeof image === 'string' ? image : undefined, instances: [] });
  if (!packed) throw new SoloError('the test pipeline dropped the image', { code: 'RUNTIME' });
  const { inputs, dataSamples } = det.model.preprocess({ inputs: [packed.inputs], dataSamples: [packed.dataSample] }, false);
  const t1 = performance.now();
  let preds: InstanceData[];
  try {
    preds = await det.model.predict(inputs, dataSamples);
  } finally {
    inputs.dispose();
  }
  const t2 = performance.now();
  const instances = o.scoreThr !== undefined ? filterInstances(preds[0], o.scoreThr) : preds[0];
  return { instances, results: toCocoResults(instances, imageId, det.catIds), image: img, seconds: { preprocess: (t1 - t0) / 1000, predict: (t2 - t1) / 1000 } };
}

/**
 * The picture style a config's `visualizer` (mmdet `DetLocalVisualizer`) asks for: `alpha` (mask opacity) and
 * `line_width`, for {@link drawInstances}. Empty when the config has no visualizer or leaves them unset.
 */
export function pictureStyle(det: Pick<Detector, 'cfg' | 'registry'>): { alpha?: number; lineWidth?: number } {
  const vis = det.cfg.get<unknown>('visualizer');
  if (vis === undefined || vis === null) return {};
  const v = det.registry.build<{ alpha?: number; lineWidth?: number }>('visualizers', vis, 'visualizer');
  return { alpha: v.alpha, lineWidth: v.lineWidth };
}
