// SPDX-License-Identifier: Apache-2.0
/**
 * The training part of `solo bench --mode train`. Each iteration, on the same synthetic batch:
 * 1. `forward`: `model.loss(input, samples)` in training mode without a gradient tape (forward + target
 *    assignment + losses);
 * 2. `step`: one real optimisation step (`trainStep`: preprocess, forward + backward with `tf.variableGrads`,
 *    gradient clipping, the non-finite check, SGD update with the config's optimizer); its own timings give
 *    `forwardBackward` and `optimizer`, and `backward` = forwardBackward - forward;
 * 3. `inferenceForward`: `model.forwardTensor(input)` in eval mode on the same batch (the reference for the
 *    training step's cost: `stepOverInference` = (forwardBackward + optimizer) / inferenceForward).
 * Times are per batch (not per image).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Registry } from '@solo-ts/core';
import type { Config } from '@solo-ts/config';
import { buildOptimizer, trainStep, type DataBatch, type TrainableDetector } from '@solo-ts/engine';
import { settle } from './infer.js';
import { PhaseRecorder, since, stamp, type PhaseSummary } from './stats.js';

export interface TrainBenchOptions {
  model: TrainableDetector;
  cfg: Config;
  registry: Registry;
  batch: DataBatch;
  warmup: number;
  iters: number;
  /** Profile one extra step with `tf.profile` and return the time per kernel. */
  profile?: boolean;
  /** Called after every timed iteration (e.g. a peak-conv sample under the same load). */
  afterIteration?: () => Promise<void>;
  onProgress?: (line: string) => void;
}

export interface TrainBenchResult {
  /** Per-batch milliseconds (wall and CPU; for `forwardBackward`, `optimizer`, `backward` only wall is split). */
  phases: Record<string, PhaseSummary>;
  /** Median forwardBackward - median forward (wall ms): the backward pass. */
  backward: number;
  /** Median (forwardBackward + optimizer) / median inference forward (wall). */
  stepOverInference: number;
  /** Total loss of the last step (finite: the step ran). */
  lastLoss: number;
  /** Time per kernel of one profiled step (with `profile`), slowest first. */
  kernelTimes?: Array<{ name: string; ms: number; calls: number }>;
}

/** Kernel times of `tf.profile` records, by registered kernel name (op scopes are skipped), slowest first. */
export function aggregateKernelTimes(kernels: ReadonlyArray<{ name: string; kernelTimeMs: unknown }>): Array<{ name: string; ms: number; calls: number }> {
  const backendName = tf.getBackend();
  const times = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    if (!tf.getKernel(k.name, backendName)) continue;
    const t = times.get(k.name) ?? { ms: 0, calls: 0 };
    t.ms += Number(k.kernelTimeMs) || 0;
    t.calls += 1;
    times.set(k.name, t);
  }
  return [...times].map(([name, t]) => ({ name, ...t })).sort((a, b) => b.ms - a.ms);
}

export async function benchTraining(o: TrainBenchOptions): Promise<TrainBenchResult> {
  const { model } = o;
  const n = o.batch.inputs.length;
  const forwardTensor = (model as unknown as { forwardTensor?: (x: tf.Tensor4D) => unknown }).forwardTensor?.bind(model);
  const built = buildOptimizer(o.cfg, model, { registry: o.registry, batchSize: n });
  const params = new Map(model.trainableParameters().map(([name, p]) => [name, p.variable]));
  const rec = new PhaseRecorder();
  let lastLoss = Number.NaN;
  let kernelTimes: TrainBenchResult['kernelTimes'];
  try {
    for (let it = 0; it < o.warmup + o.iters; it++) {
      const timed = it >= o.warmup;
      model.train();
      // 1. forward only
      {
        const { inputs, dataSamples } = model.preprocess(o.batch, true);
        try {
          const t = stamp();
          const losses = model.loss(inputs, dataSamples);
          await settle(losses);
          const s = since(t);
          tf.dispose(losses as unknown as tf.TensorContainer);
          if (timed) rec.add('forward', s);
        } finally {
          inputs.dispose();
        }
      }
      // 2. the real step
      const t = stamp();
      const r = await trainStep(o.batch, { model, optimizer: built.optimizer, params, mults: built.mults, clipGrad: built.clipGrad, checkFinite: true, iter: it });
      await settle(r.losses);
      const step = since(t);
      lastLoss = (await r.losses.loss.data())[0];
      tf.dispose([...Object.values(r.losses), ...(r.gradNorm ? [r.gradNorm] : [])]);
      if (timed) {
        rec.add('step', step);
        rec.add('stepPreprocess', { wall: r.timings.preprocess, cpu: Number.NaN });
        rec.add('forwardBackward', { wall: r.timings.forwardBackward, cpu: Number.NaN });
        rec.add('optimizer', { wall: r.timings.optimizer, cpu: Number.NaN });
      }
      // 3. inference forward of the same batch
      if (forwardTensor) {
        model.eval();
        const { inputs } = model.preprocess(o.batch, false);
        try {
          const t3 = stamp();
          const out = forwardTensor(inputs);
          await settle(out);
          const s = since(t3);
          tf.dispose(out as tf.TensorContainer);
          if (timed) rec.add('inferenceForward', s);
        } finally {
          inputs.dispose();
          model.train();
        }
      }
      if (timed) await o.afterIteration?.();
      o.onProgress?.(`${timed ? 'iter' : 'warmup'} ${timed ? it - o.warmup + 1 : it + 1}/${timed ? o.iters : o.warmup}: step ${step.wall.toFixed(0)} ms, loss ${lastLoss.toFixed(4)}`);
    }
    if (o.profile) {
      model.train();
      const p = await tf.profile(async () => {
        const r = await trainStep(o.batch, { model, optimizer: built.optimizer, params, mults: built.mults, clipGrad: built.clipGrad, checkFinite: true, iter: o.warmup + o.iters });
        tf.dispose([...Object.values(r.losses), ...(r.gradNorm ? [r.gradNorm] : [])]);
      });
      kernelTimes = aggregateKernelTimes(p.kernels);
    }
  } finally {
    built.optimizer.dispose();
    model.eval();
  }
  const phases = rec.summaries();
  const med = (k: string): number => phases[k]?.wall.median ?? Number.NaN;
  // per median: the iterations are not paired reliably on a busy machine
  const backward = med('forwardBackward') - med('forward');
  const stepOverInference = (med('forwardBackward') + med('optimizer')) / med('inferenceForward');
  return { phases, backward, stepOverInference, lastLoss, kernelTimes };
}
