// SPDX-License-Identifier: Apache-2.0
/**
 * `runBench(options)`: the benchmark behind `solo bench` (see docs/benchmarks.md). Builds the detector of a config
 * (random weights unless a checkpoint is given), then in `infer` mode times pre-processing, the network, the
 * post-processing and end-to-end inference (`infer.ts`), in `train` mode the training step and its parts
 * (`train.ts`); counts the network's FLOPs per layer (`countFlops` from @solo-ts/ops) and measures the peak of the
 * same backend on one large conv (`peak.ts`) to report the achieved GFLOP/s against both. Returns one
 * JSON-serialisable object.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { countFlops, fuseForInference, type FlopReport, type LayerFlops } from '@solo-ts/ops';
import { selectBackend, type BackendChoice } from '@solo-ts/backends';
import fs from 'node:fs';
import { buildDetector, defaultOrtThreads, loadOrtNode, type OnnxDetectorModel, type RuntimeChoice } from '@solo-ts/apis';
import type { Compose, ImageU8 } from '@solo-ts/datasets';
import { benchInference, settle, type CandidateInfo } from './infer.js';
import { buildTestPipeline, DEFAULT_IMAGE_SHAPE, loadImageFile, packImage, syntheticImage, syntheticTrainBatch } from './inputs.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { PeakConv, type PeakConvResult } from './peak.js';
import { PhaseRecorder, since, stamp, type PhaseSummary } from './stats.js';
import { benchTraining } from './train.js';

export interface BenchOptions {
  /** Config file. */
  config: string;
  cfgOptions?: string[] | Record<string, unknown>;
  /** Weights (.pth / .safetensors); random initialisation when absent. */
  checkpoint?: string;
  /** Network input size [h, w] before padding (synthetic image). */
  shape?: [number, number];
  /** An image file instead of a synthetic image. */
  image?: string;
  mode?: 'infer' | 'train';
  /** Backend to select first (default: keep the current one). */
  backend?: BackendChoice | null;
  /** WebAssembly threads (default: the backend's default). */
  threads?: number;
  warmup?: number;
  iters?: number;
  /** Images per batch (default 1). */
  batch?: number;
  /** Force this many Matrix NMS candidates per image (inference). */
  candidates?: number;
  /** Measure the peak conv (default true). */
  peak?: boolean;
  /** Peak-conv samples (default: one after each timed iteration, at least 3). */
  peakIters?: number;
  /** Count FLOPs (default true). */
  flops?: boolean;
  /** Keep per-layer FLOPs and per-kernel times in the result. */
  verbose?: boolean;
  /** Runtime of the network in infer mode (default `auto`: ONNX Runtime where it loads; training is always tfjs). */
  runtime?: RuntimeChoice;
  /** ONNX Runtime execution providers (default cpu). */
  executionProviders?: string[];
  /** Fold the model's eval-mode BatchNorms into their convs (`fuseForInference`) before timing. */
  foldBn?: boolean;
  onProgress?: (line: string) => void;
}

export interface BenchResult {
  config: string;
  checkpoint: string | null;
  /** True when no checkpoint was given: weights are the config's random initialisation. */
  randomWeights: boolean;
  model: string;
  backend: { name: string; detail: string };
  /** What ran the network: `tfjs` (on `backend`) or `onnx` (ONNX Runtime; `backend` then runs the post-processing). */
  runtime: { name: 'tfjs' | 'onnx'; detail: string };
  machine: MachineInfo;
  mode: 'infer' | 'train';
  /** BatchNorms folded into convs by `--fold-bn` (0 without it). */
  bnFolded: number;
  input: { source: 'synthetic' | 'image'; image: string | null; imageShape: [number, number]; networkInput: number[]; batch: number };
  warmup: number;
  iters: number;
  /** Inference phases in ms per image (wall and CPU time of this process, all threads). */
  infer?: {
    phases: Record<string, PhaseSummary>;
    candidates: CandidateInfo;
    imagesPerSecond: number;
    postprocessShare: number;
    /**
     * ONNX Runtime from a .onnx file: solo-ts's session against a plain onnxruntime-node session on the same graph
     * (same options, same input), run in alternation after the timed iterations (`pairs` each); `ratio` = median
     * solo-ts / median plain.
     */
    standalone?: { pairs: number; soloTs: PhaseSummary; plain: PhaseSummary; ratio: number };
  };
  /** Training phases in ms per batch. */
  train?: { phases: Record<string, PhaseSummary>; backward: number; stepOverInference: number; lastLoss: number; imagesPerSecond: number };
  /** FLOPs of the network forward (backbone + neck + head) per image. */
  flops?: { network: number; byKind: FlopReport['byKind']; layers?: LayerFlops[] };
  /** Achieved GFLOP/s of the network (per image FLOPs / median wall time), and against the peak conv. */
  gflops?: {
    network: number;
    networkPerCpuSecond: number;
    peak: number | null;
    /** network / peak, both from median wall times. */
    fractionOfPeak: number | null;
    /** The same from median CPU times (steadier on a loaded machine). */
    fractionOfPeakCpu: number | null;
  };
  peak?: PeakConvResult;
  memory: { peakRssMiB: number; tensorBytes: number; numTensors: number; peakTensorBytesForward: number | null };
  /** Kernel times of one profiled network forward (verbose). */
  kernelTimes?: Array<{ name: string; ms: number; calls: number }>;
  /** Kernel times of one profiled training step (verbose, train mode). */
  trainKernelTimes?: Array<{ name: string; ms: number; calls: number }>;
  notes: string[];
}

function positiveInt(v: number | undefined, name: string, dflt: number, min = 1): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min) throw new SoloError(`${name} must be an integer >= ${min}, got ${String(v)}`, { code: 'ARGUMENT' });
  return x;
}

/** See `BenchResult.infer.standalone`. */
async function pairedStandalone(model: OnnxDetectorModel, file: string, threads: number, pipeline: Compose, images: ImageU8[], iters: number): Promise<{ pairs: number; soloTs: PhaseSummary; plain: PhaseSummary; ratio: number }> {
  const ort = (await loadOrtNode()) as unknown as {
    InferenceSession: { create(b: Uint8Array, o: Record<string, unknown>): Promise<{ inputNames: string[]; run(f: Record<string, unknown>): Promise<unknown>; release(): Promise<void> }> };
    Tensor: new (t: string, d: Float32Array, s: number[]) => unknown;
  };
  const plain = await ort.InferenceSession.create(fs.readFileSync(file), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    const packed = [];
    for (let i = 0; i < images.length; i++) packed.push(await packImage(pipeline, images[i], i));
    const { inputs } = model.preprocess({ inputs: packed.map((p) => p.inputs), dataSamples: packed.map((p) => p.dataSample) }, false);
    const x = await model.inputArray(inputs);
    inputs.dispose();
    const rec = new PhaseRecorder();
    const plainRun = async () => void (await plain.run({ [plain.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) }));
    await plainRun(); // warm-up of the new session
    for (let i = 0; i < iters; i++) {
      // alternate the order so that neither side always runs second
      for (const side of i % 2 ? ['plain', 'soloTs'] : ['soloTs', 'plain']) {
        const t = stamp();
        if (side === 'plain') await plainRun();
        else await model.session.run(x);
        rec.add(side, since(t), images.length);
      }
    }
    const s = rec.summaries();
    return { pairs: iters, soloTs: s.soloTs, plain: s.plain, ratio: s.soloTs.wall.median / s.plain.wall.median };
  } finally {
    await plain.release();
  }
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const mode = o.mode ?? 'infer';
  if (mode !== 'infer' && mode !== 'train') throw new SoloError(`unknown bench mode '${String(mode)}'`, { code: 'ARGUMENT', expected: 'infer or train' });
  const warmup = positiveInt(o.warmup, '--warmup', 1, 0);
  const iters = positiveInt(o.iters, '--iters', 5);
  const batch = positiveInt(o.batch, '--batch', 1);
  if (o.candidates !== undefined) positiveInt(o.candidates, '--candidates', 1, 0);
  if (o.shape && o.image) throw new SoloError('give either --shape or --image, not both', { code: 'ARGUMENT' });
  const progress = o.onProgress ?? (() => undefined);
  const notes: string[] = [];
  const machine = machineInfo();

  let backendDetail = tf.getBackend();
  if (o.backend) backendDetail = (await selectBackend(o.backend, { threads: o.threads, quiet: true })).detail;
  progress(`backend: ${backendDetail}`);
  const onnxInput = /\.onnx$/i.test(o.config) || /\.onnx$/i.test(o.checkpoint ?? '');
  const runtime: RuntimeChoice = mode === 'train' ? 'tfjs' : (o.runtime ?? 'auto');
  if (mode === 'train' && (o.runtime === 'onnx' || onnxInput)) throw new SoloError('--mode train runs on tfjs: give a config (and a .pth / .safetensors checkpoint) and no --runtime onnx', { code: 'ARGUMENT' });
  const det = await buildDetector(o.config, { checkpoint: o.checkpoint, cfgOptions: o.cfgOptions, onWarning: (l) => notes.push(l), runtime, threads: o.threads, cacheDir: null, executionProviders: o.executionProviders });
  progress(`runtime: ${det.runtimeDetail}`);
  if (!o.checkpoint && !/\.onnx$/i.test(o.config)) notes.push('no checkpoint: random weights (timings are representative; predictions are not)');
  const model = det.model;
  const modelType = det.runtime === 'onnx' ? String(det.cfg.get('model.type') ?? 'model') : ((model.constructor as { type?: string }).type ?? model.constructor.name);
  const forwardTensor = (model as unknown as { forwardTensor?: (x: tf.Tensor4D) => unknown }).forwardTensor?.bind(model);
  const bnFolded = o.foldBn ? fuseForInference(model) : 0;
  // the peak conv is sampled after each timed iteration, so that both see the same machine load
  const peakOn = (o.peak ?? true) && det.runtime === 'tfjs';
  if (det.runtime === 'onnx') {
    if (o.peak ?? true) notes.push('no peak-conv measurement on ONNX Runtime (it measures the tfjs backend)');
    if (o.foldBn) notes.push('--fold-bn has no effect on ONNX Runtime (its graph optimisation folds BatchNorms)');
  }
  const peakRef: { conv: PeakConv | null } = { conv: null };
  const peakConv = async (): Promise<PeakConv> => {
    if (!peakRef.conv) {
      peakRef.conv = new PeakConv();
      await peakRef.conv.sample(false);
    }
    return peakRef.conv;
  };
  const afterIteration = async (): Promise<void> => {
    if (!peakOn) return;
    const p = await peakConv();
    if (o.peakIters === undefined || p.samples < o.peakIters) await p.sample();
  };
  try {
    // images
    const images = [];
    if (o.image) {
      const img = await loadImageFile(o.image);
      for (let i = 0; i < batch; i++) images.push(img);
    } else {
      const [h, w] = o.shape ?? DEFAULT_IMAGE_SHAPE;
      for (let i = 0; i < batch; i++) images.push(syntheticImage(h, w, i).img);
    }
    const pipeline = o.shape ? buildTestPipeline(det.cfg, det.registry, o.shape) : det.pipeline;
    const first = await packImage(pipeline, images[0], 0);
    const netShape: [number, number] = [first.inputs.height, first.inputs.width];
    const result: BenchResult = {
      config: o.config,
      checkpoint: o.checkpoint ?? null,
      randomWeights: !o.checkpoint,
      model: modelType,
      backend: { name: tf.getBackend(), detail: backendDetail },
      runtime: { name: det.runtime, detail: det.runtimeDetail },
      machine,
      mode,
      bnFolded,
      input: { source: o.image ? 'image' : 'synthetic', image: o.image ?? null, imageShape: [images[0].height, images[0].width], networkInput: [], batch },
      warmup,
      iters,
      memory: { peakRssMiB: 0, tensorBytes: 0, numTensors: 0, peakTensorBytesForward: null },
      notes,
    };

    if (mode === 'infer') {
      const r = await benchInference({ model, pipeline, images, warmup, iters, candidates: o.candidates, afterIteration, onProgress: progress });
      result.input.networkInput = r.inputShape;
      const e2e = r.phases.endToEnd.wall.median;
      result.infer = {
        phases: r.phases,
        candidates: r.candidates,
        imagesPerSecond: 1000 / e2e,
        postprocessShare: r.phases.postprocess.wall.median / e2e,
      };
      if (o.candidates === undefined && r.candidates.perImage === 0) {
        notes.push('no candidate passed score_thr: post-processing did almost nothing; pass --candidates N (e.g. 500) for a representative post-processing time');
      }
    } else {
      const tb = syntheticTrainBatch(netShape[0], netShape[1], batch);
      const r = await benchTraining({ model, cfg: det.cfg, registry: det.registry, batch: tb, warmup, iters, profile: o.verbose, afterIteration, onProgress: progress });
      if (r.kernelTimes) result.trainKernelTimes = r.kernelTimes;
      const { inputs } = model.preprocess(tb, false);
      result.input.networkInput = inputs.shape;
      inputs.dispose();
      result.train = { phases: r.phases, backward: r.backward, stepOverInference: r.stepOverInference, lastLoss: r.lastLoss, imagesPerSecond: (1000 * batch) / r.phases.step.wall.median };
      notes.push('training batches are synthetic shapes images at the network input size (no random resize / flip)');
    }

    // peak memory of the run itself (before the FLOP count, which builds a tfjs model on ONNX Runtime)
    result.memory.peakRssMiB = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
    const onnxFile = /\.onnx$/i.test(o.config) ? o.config : /\.onnx$/i.test(o.checkpoint ?? '') ? o.checkpoint : undefined;
    if (mode === 'infer' && det.runtime === 'onnx' && onnxFile && result.infer) {
      progress('standalone: solo-ts session vs a plain onnxruntime-node session on the same graph, in alternation');
      result.infer.standalone = await pairedStandalone(model as unknown as OnnxDetectorModel, onnxFile, o.threads ?? defaultOrtThreads(), pipeline, images, iters);
    }
    // FLOPs of one network forward on the batch (eval mode), with the peak tensor memory and kernel times
    const flopsDet = (o.flops ?? true) && det.runtime === 'onnx' && !onnxInput ? await buildDetector(o.config, { checkpoint: o.checkpoint, cfgOptions: o.cfgOptions, runtime: 'tfjs' }) : null;
    if ((o.flops ?? true) && onnxInput) notes.push('no FLOP count for a .onnx file (give the config and checkpoint)');
    const flopsModel = flopsDet?.model ?? model;
    const flopsForward = flopsDet ? (flopsDet.model as unknown as { forwardTensor: (x: tf.Tensor4D) => unknown }).forwardTensor.bind(flopsDet.model) : forwardTensor;
    try {
      if ((o.flops ?? true) && flopsForward) {
      flopsModel.eval();
      const packed = [];
      for (let i = 0; i < batch; i++) packed.push(await packImage(pipeline, images[i], i));
      const { inputs } = flopsModel.preprocess({ inputs: packed.map((p) => p.inputs), dataSamples: packed.map((p) => p.dataSample) }, false);
      try {
        const { report, result: out } = await countFlops(flopsModel, async () => {
          const y = flopsForward(inputs);
          await settle(y);
          return y;
        });
        tf.dispose(out as tf.TensorContainer);
        result.flops = { network: report.total / batch, byKind: report.byKind, layers: o.verbose ? report.layers : undefined };
        if (!flopsDet) result.memory.peakTensorBytesForward = report.peakBytes;
        if (o.verbose && !flopsDet) result.kernelTimes = report.kernelTimes;
      } finally {
        inputs.dispose();
      }
      }
    } finally {
      flopsDet?.dispose();
    }
    if (peakOn) {
      // more samples when the run had few iterations
      const p = await peakConv();
      const want = o.peakIters ?? Math.max(3, iters);
      if (p.samples < want) progress('peak: more samples of one large conv on the same backend');
      while (p.samples < want) await p.sample();
      result.peak = p.result();
    }
    const netPhase = mode === 'infer' ? result.infer?.phases.network : result.train?.phases.inferenceForward;
    if (result.flops && netPhase) {
      const perImage = mode === 'infer' ? 1 : batch;
      const flops = result.flops.network * perImage;
      const network = flops / netPhase.wall.median / 1e6;
      result.gflops = {
        network,
        networkPerCpuSecond: flops / netPhase.cpu.median / 1e6,
        peak: result.peak?.gflops ?? null,
        fractionOfPeak: result.peak ? network / result.peak.gflops : null,
        fractionOfPeakCpu: result.peak ? flops / netPhase.cpu.median / 1e6 / result.peak.gflopsPerCpuSecond : null,
      };
    }
    const mem = tf.memory();
    result.memory.tensorBytes = mem.numBytes;
    result.memory.numTensors = mem.numTensors;
    if (machine.loadAverage > machine.logicalCores * 0.75) {
      notes.push(`the machine was busy (load average ${machine.loadAverage} on ${machine.logicalCores} cores): wall times are inflated; CPU times are more stable`);
    }
    return result;
  } finally {
    peakRef.conv?.dispose();
    det.dispose();
  }
}
