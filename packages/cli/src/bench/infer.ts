// SPDX-License-Identifier: Apache-2.0
/**
 * The inference part of `solo bench`. Each iteration, on the same batch:
 * 1. `preprocess`: test pipeline (resize, pack) + data preprocessor (normalise, pad, stack) -> NHWC input;
 * 2. `network`: `model.forwardTensor(input)` (mmdet `_forward`: backbone + neck + head forward, all outputs);
 * 3. `predict`: `model.predict(input, samples)` as users run it, split at the head's first read-back of data to
 *    the CPU (the class scores): `predictNetwork` before it, `postprocess` after it (score threshold, candidate
 *    masks, the post-processor: maskness, Matrix NMS, resizing to the original size, binarising, read-back);
 *    `postProcessor` is the part spent inside the head's post-processor (`SOLOMaskPostProcessor.process`).
 * `endToEnd` = preprocess + predict. Times are per image (batch time / batch size).
 *
 * On ONNX Runtime (an `OnnxDetectorModel` of @solo-ts/apis): `network` is the ONNX Runtime session's `run` alone
 * on the graph input (what a standalone session measures), `inputTransfer` the NHWC -> NCHW read-back of the
 * preprocessed batch; in `predict`, `predictNetwork` = input read-back + `run`, `postprocess` = the head's
 * `predictByFeat` (host post-processing).
 *
 * `candidates: N` calibrates the test config before timing so that N (cell, class) pairs pass `score_thr` (the
 * threshold becomes the (N+1)-th largest score of the first image) and disables `filter_thr`, so Matrix NMS sees N
 * candidates and up to `max_per_img` masks are resized even with random weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetDataSample, InstanceData } from '@solo-ts/core';
import type { Compose, ImageU8 } from '@solo-ts/datasets';
import type { TrainableDetector } from '@solo-ts/engine';
import type { OnnxDetectorModel } from '@solo-ts/apis';
import { packImage } from './inputs.js';
import { PhaseRecorder, since, stamp, summarize, type PhaseSummary, type Stamp, type Summary } from './stats.js';

export interface InferBenchOptions {
  model: TrainableDetector;
  pipeline: Compose;
  /** One batch of images (BGR uint8). */
  images: ImageU8[];
  warmup: number;
  iters: number;
  /** Force this many Matrix NMS candidates per image (see the module doc). */
  candidates?: number;
  /** Called after every timed iteration (e.g. a peak-conv sample under the same load). */
  afterIteration?: () => Promise<void>;
  onProgress?: (line: string) => void;
}

export interface CandidateInfo {
  /** Candidates asked for (`--candidates`), or null. */
  requested: number | null;
  /** The `score_thr` used (calibrated or from the config). */
  scoreThr: number | null;
  /** Whether `filter_thr` was disabled for the calibration. */
  filterThrDisabled: boolean;
  /** Candidates handed to the post-processor per image (median over timed iterations). */
  perImage: number;
  /** Instances returned per image (median). */
  outputsPerImage: number;
}

export interface InferBenchResult {
  /** Per-image milliseconds of each phase (wall and CPU). */
  phases: Record<string, PhaseSummary>;
  /** NHWC network input shape. */
  inputShape: number[];
  candidates: CandidateInfo;
}

interface HeadLike {
  testCfg?: Record<string, unknown> | null;
  postprocessor?: { process: (...a: unknown[]) => Promise<InstanceData> };
}

/** Wait for pending work on asynchronous backends (no-op on wasm, cpu and tensorflow, which run kernels eagerly). */
export async function settle(value: unknown): Promise<void> {
  const name = tf.getBackend();
  if (name === 'wasm' || name === 'cpu' || name === 'tensorflow') return;
  const ts: tf.Tensor[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof tf.Tensor) ts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  if (ts.length === 0) return;
  const s = tf.tidy(() => tf.addN(ts.map((t) => tf.sum(tf.cast(t, 'float32')))));
  await s.data();
  s.dispose();
}

/** Records the first read-back of tensor data to the CPU while installed (`Tensor.data` / `dataSync`). */
export class ReadMarker {
  first: Stamp | null = null;
  captured: Float32Array | null = null;
  capture = false;
  private restoreFns: Array<() => void> = [];

  install(): void {
    const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const data = proto.data;
    const dataSync = proto.dataSync;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    proto.data = async function patchedData(this: tf.Tensor, ...a: unknown[]) {
      const v = (await data.apply(this, a)) as ArrayLike<number>;
      self.hit(v);
      return v;
    };
    proto.dataSync = function patchedDataSync(this: tf.Tensor, ...a: unknown[]) {
      const v = dataSync.apply(this, a) as ArrayLike<number>;
      self.hit(v);
      return v;
    };
    this.restoreFns = [() => (proto.data = data), () => (proto.dataSync = dataSync)];
  }

  private hit(v: ArrayLike<number>): void {
    if (this.first) return;
    this.first = stamp();
    if (this.capture) this.captured = Float32Array.from(v);
  }

  reset(capture = false): void {
    this.first = null;
    this.captured = null;
    this.capture = capture;
  }

  uninstall(): void {
    for (const r of this.restoreFns) r();
    this.restoreFns = [];
  }
}

/** The (n+1)-th largest value of `scores` (so that exactly n values are strictly greater, without ties). */
export function thresholdForCount(scores: ArrayLike<number>, n: number): number {
  const s = Float32Array.from(scores).sort().reverse();
  if (n >= s.length) return -Infinity;
  return s[n];
}

const median = (xs: number[]): number => (xs.length ? summarize(xs).median : 0);

/** The model as an ONNX Runtime detector model, or null for a tfjs one. */
function onnxModel(m: unknown): OnnxDetectorModel | null {
  const x = m as Partial<OnnxDetectorModel>;
  return typeof x.forwardArrays === 'function' && typeof x.inputArray === 'function' && x.session ? (m as OnnxDetectorModel) : null;
}

export async function benchInference(o: InferBenchOptions): Promise<InferBenchResult> {
  const model = o.model;
  const onnx = onnxModel(model);
  const head = (model as unknown as { maskHead?: HeadLike }).maskHead;
  const forwardTensor = (model as unknown as { forwardTensor?: (x: tf.Tensor4D) => unknown }).forwardTensor?.bind(model);
  const batch = o.images.length;
  const marker = new ReadMarker();
  const rec = new PhaseRecorder();
  const candidateCounts: number[] = [];
  const outputCounts: number[] = [];
  let postCalls: { cand: number; out: number }[] = [];
  const postSpan = { wall: 0, cpu: 0 };
  const pp = head?.postprocessor;
  const origProcess = pp?.process;
  const testCfgBefore = head?.testCfg ?? null;
  let scoreThr: number | null = typeof testCfgBefore?.score_thr === 'number' ? testCfgBefore.score_thr : null;
  let inputShape: number[] = [];

  const prepare = async (): Promise<{ inputs: tf.Tensor4D; dataSamples: DetDataSample[] }> => {
    const packed = [];
    for (let i = 0; i < batch; i++) packed.push(await packImage(o.pipeline, o.images[i], i));
    const r = model.preprocess({ inputs: packed.map((p) => p.inputs), dataSamples: packed.map((p) => p.dataSample) }, false);
    await settle(r.inputs);
    return r;
  };

  marker.install();
  try {
    if (pp && origProcess) {
      pp.process = async (...args: unknown[]) => {
        const t = stamp();
        const cand = (args[0] as { clsScores?: ArrayLike<number> })?.clsScores?.length ?? 0;
        try {
          const r = await origProcess.apply(pp, args);
          postCalls.push({ cand, out: r.scores?.length ?? 0 });
          return r;
        } finally {
          const s = since(t);
          postSpan.wall += s.wall;
          postSpan.cpu += s.cpu;
        }
      };
    }
    if (o.candidates !== undefined && head) {
      // calibration: one untimed predict that captures the class scores of the first read-back
      const { inputs, dataSamples } = await prepare();
      try {
        if (onnx) {
          // the first read-back inside predictByFeat is the class scores, as in the tfjs head's predict
          const raw = await onnx.forwardArrays(inputs);
          marker.reset(true);
          await onnx.maskHead.predictByFeat(raw, dataSamples.map((s) => s.metainfo));
        } else {
          marker.reset(true);
          await model.predict(inputs, dataSamples);
        }
      } finally {
        inputs.dispose();
      }
      const scores = marker.captured;
      const numClasses = (head as { numClasses?: number }).numClasses;
      if (scores && scores.length % batch === 0 && (!numClasses || (scores.length / batch) % numClasses === 0)) {
        const first = scores.subarray(0, scores.length / batch);
        const thr = thresholdForCount(first, o.candidates);
        scoreThr = Number.isFinite(thr) ? thr : 0;
        head.testCfg = { ...(testCfgBefore ?? {}), score_thr: scoreThr, filter_thr: -1 };
        delete (head.testCfg as Record<string, unknown>).scoreThr;
        delete (head.testCfg as Record<string, unknown>).filterThr;
      } else {
        o.onProgress?.('warning: could not read the class scores to calibrate --candidates; using the config test_cfg');
      }
    }
    for (let it = 0; it < o.warmup + o.iters; it++) {
      const timed = it >= o.warmup;
      const t0 = stamp();
      const { inputs, dataSamples } = await prepare();
      const pre = since(t0);
      inputShape = inputs.shape;
      try {
        if (onnx) {
          const t1 = stamp();
          const x = await onnx.inputArray(inputs);
          const transfer = since(t1);
          const t2 = stamp();
          await onnx.session.run(x);
          const net = since(t2);
          if (timed) {
            rec.add('inputTransfer', transfer, batch);
            rec.add('network', net, batch);
          }
        } else if (forwardTensor) {
          const t1 = stamp();
          const out = forwardTensor(inputs);
          await settle(out);
          const net = since(t1);
          tf.dispose(out as tf.TensorContainer);
          if (timed) rec.add('network', net, batch);
        }
        postSpan.wall = 0;
        postSpan.cpu = 0;
        postCalls = [];
        marker.reset();
        let networkDone: Stamp | null = null;
        if (onnx) onnx.phaseHook = (phase) => void (phase === 'network' && (networkDone = stamp()));
        const t2 = stamp();
        try {
          await model.predict(inputs, dataSamples);
        } finally {
          if (onnx) onnx.phaseHook = undefined;
        }
        const end = stamp();
        const predict = since(t2, end);
        const firstRead = (onnx ? networkDone : marker.first) ?? end;
        const predictNet = since(t2, firstRead);
        const post = since(firstRead, end);
        if (timed) {
          rec.add('preprocess', pre, batch);
          rec.add('predict', predict, batch);
          rec.add('predictNetwork', predictNet, batch);
          rec.add('postprocess', post, batch);
          rec.add('postProcessor', postSpan, batch);
          rec.add('postCandidates', { wall: post.wall - postSpan.wall, cpu: post.cpu - postSpan.cpu }, batch);
          rec.add('endToEnd', { wall: pre.wall + predict.wall, cpu: pre.cpu + predict.cpu }, batch);
          for (const c of postCalls) {
            candidateCounts.push(c.cand);
            outputCounts.push(c.out);
          }
          // images without any candidate above score_thr never reach the post-processor
          for (let i = postCalls.length; i < batch; i++) {
            candidateCounts.push(0);
            outputCounts.push(0);
          }
        }
        if (timed) await o.afterIteration?.();
        o.onProgress?.(`${timed ? 'iter' : 'warmup'} ${timed ? it - o.warmup + 1 : it + 1}/${timed ? o.iters : o.warmup}: end-to-end ${((pre.wall + predict.wall) / batch).toFixed(0)} ms/image`);
      } finally {
        inputs.dispose();
      }
    }
  } finally {
    marker.uninstall();
    if (pp && origProcess) pp.process = origProcess;
    if (head && o.candidates !== undefined) head.testCfg = testCfgBefore;
  }
  return {
    phases: rec.summaries(),
    inputShape,
    candidates: {
      requested: o.candidates ?? null,
      scoreThr,
      filterThrDisabled: o.candidates !== undefined,
      perImage: median(candidateCounts),
      outputsPerImage: median(outputCounts),
    },
  };
}

export type { Summary };
