// SPDX-License-Identifier: Apache-2.0
/**
 * Inference on ONNX Runtime behind the tfjs path's API: `buildOnnxDetector(model.onnx)` returns a `Detector`
 * whose `model` runs the data preprocessor (tfjs, as the tfjs path), the network in an ONNX Runtime session
 * (`OnnxSession` of @solo-ts/onnx over onnxruntime-node) and the head's host post-processing
 * (`predictByFeat`, the head built from the model's metadata through the registry, without weights), so that
 * `inferImage`, `testModel` and `drawInstances` work on it unchanged and give the same COCO results.
 *
 * `buildDetector(config, {checkpoint, runtime: 'onnx'})` gets the graph from the ONNX cache (`onnxCacheDir()`,
 * keyed by the checkpoint's sha256 and a hash of the config's model section), or exports it in memory
 * (`exportOnnx`) and stores it there, written atomically.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Module, SoloError, type DetDataSample, type DetMeta, type InstanceData, type MaskHead, type MaskHeadRawOutputs, type Registry } from '@solo-ts/core';
import { Config } from '@solo-ts/config';
import { Compose } from '@solo-ts/datasets';
import { fileSha256 } from '@solo-ts/checkpoint';
import type { DetDataPreprocessor } from '@solo-ts/detectors';
import { OnnxSession, readOnnxMetadata, type OrtModule, type SoloOnnxMetadata } from '@solo-ts/onnx';
import { loadConfigPluginsInto, type DataBatch } from '@solo-ts/engine';
import { createDefaultRegistry } from './registry.js';

/** The `solo_ts` metadata of an exported model (written by `exportOnnx`, read by `readOnnxMetadata`). */
export type OnnxModelInfo = SoloOnnxMetadata;

/** Phases of the last `predict` in ms (for benchmarks): input read-back, ONNX Runtime, host post-processing. */
export interface OnnxPredictTimings {
  input: number;
  network: number;
  post: number;
}

const PIPELINE_LOADERS = new Set(['LoadImageFromFile', 'LoadAnnotations', 'mmdet.LoadImageFromNDArray', 'LoadImageFromNDArray']);

/**
 * The detector `model` of the ONNX runtime: the TrainableDetector surface (`preprocess`, `predict`) over an ORT
 * session; `loss` refuses (inference only). `maskHead` is the head of the metadata's config, used only for its
 * post-processing (`predictByFeat`), its test config and its post-processor.
 */
export class OnnxDetectorModel extends Module {
  lastTimings: OnnxPredictTimings = { input: 0, network: 0, post: 0 };
  /** Called at the end of each phase of `predict` (benchmarks take their time stamps here). */
  phaseHook?: (phase: keyof OnnxPredictTimings) => void;

  constructor(
    readonly session: OnnxSession,
    readonly maskHead: MaskHead,
    readonly dataPreprocessor: DetDataPreprocessor,
  ) {
    super();
    this.training = false;
  }

  preprocess(batch: DataBatch, _training = false): { inputs: tf.Tensor4D; dataSamples: DetDataSample[] } {
    return this.dataPreprocessor.forward(batch as Parameters<DetDataPreprocessor['forward']>[0], false);
  }

  loss(): Record<string, tf.Scalar> {
    throw new SoloError('an ONNX model is for inference only', { code: 'ARGUMENT', hint: 'train with the config and --runtime tfjs' });
  }

  /** The NHWC batch as the graph's NCHW input array. */
  async inputArray(inputs: tf.Tensor4D): Promise<{ data: Float32Array; shape: number[] }> {
    const nchw = tf.transpose(inputs, [0, 3, 1, 2]);
    try {
      return { data: (await nchw.data()) as Float32Array, shape: nchw.shape.slice() };
    } finally {
      nchw.dispose();
    }
  }

  /** The network alone on an NHWC batch: the head's raw outputs as NCHW arrays. */
  async forwardArrays(inputs: tf.Tensor4D): Promise<MaskHeadRawOutputs> {
    return this.session.run(await this.inputArray(inputs));
  }

  async predict(inputs: tf.Tensor4D, samples: DetDataSample[]): Promise<InstanceData[]> {
    if (samples.length !== inputs.shape[0]) throw new SoloError(`predict: ${samples.length} samples for a batch of ${inputs.shape[0]}`, { code: 'ARGUMENT' });
    const t0 = performance.now();
    const x = await this.inputArray(inputs);
    this.phaseHook?.('input');
    const t1 = performance.now();
    const raw = await this.session.run(x);
    this.phaseHook?.('network');
    const t2 = performance.now();
    const metas: DetMeta[] = samples.map((s) => s.metainfo);
    const res = await this.maskHead.predictByFeat(raw, metas);
    this.phaseHook?.('post');
    this.lastTimings = { input: t1 - t0, network: t2 - t1, post: performance.now() - t2 };
    return res;
  }

  override dispose(): void {
    // the head's weights were freed when it was built (buildOnnxParts); only the session holds memory
    void this.session.release();
  }
}

let ortNode: Promise<OrtModule> | undefined;

/** onnxruntime-node, loaded once; a SoloError when it is missing or cannot load on this platform. */
export async function loadOrtNode(): Promise<OrtModule> {
  ortNode ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: OrtModule }).default?.InferenceSession ? (m as { default: OrtModule }).default : (m as unknown as OrtModule)),
    (e: unknown) => {
      ortNode = undefined;
      throw new SoloError(`ONNX Runtime (onnxruntime-node) cannot be loaded: ${(e as Error).message}`, { code: 'BACKEND', hint: 'reinstall with `npm ci`, or use --runtime tfjs', cause: e });
    },
  );
  return ortNode;
}

/** Whether onnxruntime-node loads here. */
export async function ortNodeAvailable(): Promise<boolean> {
  try {
    await loadOrtNode();
    return true;
  } catch {
    return false;
  }
}

/**
 * The `solo_ts` metadata of an exported model; one SoloError for bytes that are not ONNX (or truncated), an ONNX
 * model not exported by solo-ts, or unreadable metadata (`readOnnxMetadata`).
 */
export function onnxModelInfo(bytes: Uint8Array, source: string): OnnxModelInfo {
  return readOnnxMetadata(bytes, source);
}

/** Keys of a model section that do not change the exported graph (training, initialisation, host-side settings). */
const NOT_IN_GRAPH = new Set(['init_cfg', 'train_cfg', 'test_cfg', 'loss_mask', 'loss_cls', 'data_preprocessor', 'pretrained']);

function firstDifference(a: unknown, b: unknown, where: string): string | null {
  if (a === b) return null;
  if (typeof a === 'number' && typeof b === 'number' && a === b) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${where}: the ONNX model has ${JSON.stringify(a)}, the config ${JSON.stringify(b)}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${where}.${i}`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !NOT_IN_GRAPH.has(k)));
    for (const k of [...keys].sort()) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return `${where}: the ONNX model has ${JSON.stringify(a) ?? 'nothing'}, the config ${JSON.stringify(b) ?? 'nothing'}`;
}

/** Throws when the exported model's network (backbone, neck, head, detector type) is not the config's. */
export function checkOnnxMatchesConfig(info: OnnxModelInfo, cfg: Config, source: string): void {
  const model = cfg.get<Record<string, unknown>>('model');
  if (!model) throw new SoloError(`${cfg.filename} has no model section`, { code: 'CONFIG' });
  const pick = (m: Record<string, unknown>) => ({ type: m.type, backbone: m.backbone, neck: m.neck, mask_head: m.mask_head });
  const d = firstDifference(JSON.parse(JSON.stringify(pick(info.model))), JSON.parse(JSON.stringify(pick(model))), 'model');
  if (d) throw new SoloError(`${source} was exported from a different model than ${cfg.filename}: ${d}`, { code: 'CONFIG', hint: 'give the config the model was exported from, or export this config again (`solo export`)' });
}

/** A config made of an exported model's metadata (model, test pipeline, classes), named after the file. */
export function configFromOnnxInfo(info: OnnxModelInfo, filename: string): Config {
  const model = { ...info.model, test_cfg: info.test_cfg ?? (info.model.test_cfg as Record<string, unknown> | undefined) ?? null };
  const plugins = info.custom_imports ? { custom_imports: info.custom_imports } : {};
  return new Config({ model, test_pipeline: info.test_pipeline, metainfo: { classes: info.classes }, ...plugins } as never, path.resolve(filename));
}

export interface BuildOnnxDetectorOptions {
  /** Check the model against this config and use its test pipeline and test_cfg (default: the metadata's). */
  cfg?: Config;
  /** ONNX Runtime intra-op threads (default: the number of cores). */
  threads?: number;
  executionProviders?: Array<string | Record<string, unknown>>;
  /** An ONNX Runtime module (default onnxruntime-node). */
  ort?: OrtModule;
  registry?: Registry;
  /** Extra ORT session options. */
  sessionOptions?: Record<string, unknown>;
}

/** The number of cores (ONNX Runtime's default intra-op threads here). */
export function defaultOrtThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** What `buildOnnxDetector` returns: a `Detector` (see detector.ts) whose model is an `OnnxDetectorModel`. */
export interface OnnxDetectorParts {
  model: OnnxDetectorModel;
  cfg: Config;
  registry: Registry;
  classes: string[];
  catIds: number[];
  pipeline: Compose;
  info: OnnxModelInfo;
  /** e.g. `onnxruntime-node 1.30.0 (cpu, 2 threads)`. */
  runtimeDetail: string;
}

/** Build the parts of an ONNX Runtime detector from an exported model (bytes or a .onnx path). */
export async function buildOnnxParts(model: string | Uint8Array, o: BuildOnnxDetectorOptions = {}, sourceName?: string): Promise<OnnxDetectorParts> {
  const source = sourceName ?? (typeof model === 'string' ? model : 'the ONNX model');
  let bytes: Uint8Array;
  if (typeof model === 'string') {
    try {
      bytes = fs.readFileSync(model);
    } catch (e) {
      throw new SoloError(`cannot read ${model}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, { code: 'FILE' });
    }
  } else bytes = model;
  const info = onnxModelInfo(bytes, source);
  if (o.cfg) checkOnnxMatchesConfig(info, o.cfg, source);
  const cfg = o.cfg ?? configFromOnnxInfo(info, typeof model === 'string' ? model : 'model.onnx');
  const ort = o.ort ?? (await loadOrtNode());
  const threads = o.threads ?? defaultOrtThreads();
  const session = await OnnxSession.create(ort, bytes, { threads, executionProviders: o.executionProviders, source, outputs: info.outputs, sessionOptions: o.sessionOptions });
  try {
    const registry = o.registry ?? createDefaultRegistry();
    // a plugin head (custom_imports) is rebuilt from its own package, as buildDetector does
    await loadConfigPluginsInto(cfg, registry);
    const modelCfg = cfg.get<Record<string, unknown>>('model')!;
    const testCfg = cfg.get<Record<string, unknown>>('model.test_cfg') ?? info.test_cfg ?? null;
    const neckOut = (modelCfg.neck as { out_channels?: number } | undefined)?.out_channels;
    const head = registry.build<MaskHead>('models', modelCfg.mask_head, 'mask_head', { testCfg, trainCfg: null, ...(neckOut !== undefined ? { inChannels: neckOut } : {}) });
    head.eval();
    // the network runs in ONNX Runtime: the head's own (freshly initialised) weights are never used; free them
    head.dispose();
    const dp = modelCfg.data_preprocessor ? registry.build<DetDataPreprocessor>('models', modelCfg.data_preprocessor, 'model.data_preprocessor') : registry.build<DetDataPreprocessor>('models', { type: 'DetDataPreprocessor' }, 'model.data_preprocessor');
    const pipeCfg = (cfg.get<unknown[]>('test_dataloader.dataset.pipeline') ?? cfg.get<unknown[]>('test_pipeline') ?? info.test_pipeline).filter((t) => !PIPELINE_LOADERS.has(String((t as { type?: unknown }).type)));
    const pipeline = Compose.build(pipeCfg, registry.context('test_pipeline'), 'test_pipeline');
    const providers = (o.executionProviders ?? ['cpu']).map((p) => (typeof p === 'string' ? p : String((p as { name?: unknown }).name))).join(', ');
    return {
      model: new OnnxDetectorModel(session, head, dp),
      cfg,
      registry,
      classes: info.classes,
      catIds: info.cat_ids?.length === info.classes.length ? info.cat_ids : info.classes.map((_, i) => i + 1),
      pipeline,
      info,
      runtimeDetail: `${session.runtimeName} (${providers}, ${threads} thread${threads === 1 ? '' : 's'})`,
    };
  } catch (e) {
    await session.release();
    throw e;
  }
}

// ---- the ONNX cache ------------------------------------------------------------------------------------------

/** Where exported graphs are cached: `$SOLO_CACHE_DIR`, else `$XDG_CACHE_HOME/solo-ts`, else `~/.cache/solo-ts`. */
export function onnxCacheDir(): string {
  const base = process.env.SOLO_CACHE_DIR || (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'solo-ts') : path.join(os.homedir(), '.cache', 'solo-ts'));
  return path.join(base, 'onnx');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * The cache file of a (checkpoint, config) pair: checkpoint sha256, config model-section hash, solo-ts version.
 * `checkpointSha256` skips hashing the checkpoint when it is already known.
 */
export async function onnxCachePath(checkpoint: string, cfg: Config, version: string, dir = onnxCacheDir(), checkpointSha256?: string): Promise<string> {
  const ckpt = checkpointSha256 ?? fileSha256(checkpoint);
  const model = cfg.get<Record<string, unknown>>('model') ?? {};
  const cfgHash = crypto.createHash('sha256').update(stableJson({ ...model, test_cfg: null })).digest('hex');
  return path.join(dir, `${ckpt.slice(0, 16)}-${cfgHash.slice(0, 16)}-${version}.onnx`);
}

