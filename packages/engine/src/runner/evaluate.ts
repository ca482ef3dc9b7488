// SPDX-License-Identifier: Apache-2.0
/**
 * One pass of a model over an evaluation loader (the validation loop of training and `solo test`): preprocess,
 * predict, hand each batch's predictions to the evaluator (and to `onBatch`, e.g. to draw them), then compute
 * the metrics. A progress bar (or periodic lines when the output is not a terminal) shows how far it is.
 *
 * Distributed (`collective` with several ranks; each rank's loader yields its shard of every batch): each rank
 * predicts its shard and keeps its results (`Evaluator.collect`); the results are gathered onto rank 0, merged in
 * the order one process would have seen them (`Evaluator.merge`) and the metric computed there; every rank returns
 * rank 0's metrics (mmengine's `collect_results` then `broadcast_object_list`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createProgress, SoloError, type DetDataSample } from '@solo-ts/core';
import type { Evaluator } from '../build/evaluator.js';
import type { EpochLoader, TrainableDetector } from './types.js';
import type { Collective } from '../parallel/collective.js';

export interface EvaluateOptions {
  /** Label of the progress bar, e.g. `val` or `test`. */
  label?: string;
  /** Progress output (default stderr; null = none). */
  progress?: { write(text: string): void; isTTY: boolean } | null;
  /** Called with each batch's samples, predictions attached (`predInstances`). */
  onBatch?: (samples: DetDataSample[]) => void | Promise<void>;
  /** Stop after this many batches (quick checks). */
  maxBatches?: number;
  /** distributed evaluation: this rank's shard; results gathered onto rank 0 (see the module doc) */
  collective?: Collective;
}

export interface EvaluateResult {
  metrics: Record<string, number>;
  images: number;
  seconds: number;
  /** mean predict time per image (s), preprocessing excluded */
  predictSeconds: number;
}

export async function evaluateModel(model: TrainableDetector, loader: EpochLoader, evaluator: Evaluator | undefined, o: EvaluateOptions = {}): Promise<EvaluateResult> {
  const wasTraining = model.training;
  model.eval();
  evaluator?.reset();
  const out = o.progress === null ? null : (o.progress ?? { write: (s: string) => process.stderr.write(s), isTTY: Boolean(process.stderr.isTTY) });
  const total = o.maxBatches !== undefined ? Math.min(o.maxBatches, loader.length) : loader.length;
  const bar = out ? createProgress({ write: (s) => out.write(s), isTTY: out.isTTY, total, label: o.label ?? 'eval', unit: 'batch', columns: process.stderr.columns ?? 80 }) : null;
  const t0 = performance.now();
  let images = 0;
  let predictMs = 0;
  let batches = 0;
  try {
    for await (const batch of loader.iterate(0, 0)) {
      if (batch.inputs.length === 0) {
        // distributed: this rank's share of a short last batch
        bar?.tick(1);
        if (++batches >= total) break;
        continue;
      }
      const { inputs, dataSamples } = model.preprocess(batch, false);
      let preds;
      const tp = performance.now();
      try {
        preds = await model.predict(inputs, dataSamples);
      } finally {
        inputs.dispose();
      }
      predictMs += performance.now() - tp;
      const samples = dataSamples.map((s, i) => ({ ...s, predInstances: preds[i] }));
      evaluator?.process(samples);
      if (o.onBatch) await o.onBatch(samples);
      images += samples.length;
      batches++;
      bar?.tick(1);
      if (batches >= total) break;
    }
  } finally {
    bar?.finish();
    if (wasTraining) model.train();
  }
  const c = o.collective;
  let metrics: Record<string, number> = {};
  if (c && c.worldSize > 1) {
    if (evaluator && (!evaluator.collect || !evaluator.merge)) throw new SoloError('this evaluator cannot gather results across ranks (no collect / merge): evaluate with one process', { code: 'CONFIG' });
    const parts = await c.allGather({ state: evaluator?.collect?.(), images, predictMs });
    images = parts.reduce((a, p) => a + p.images, 0);
    predictMs = parts.reduce((a, p) => a + p.predictMs, 0);
    if (evaluator && c.rank === 0) {
      evaluator.merge!(parts.map((p) => p.state));
      metrics = await evaluator.compute();
    }
    metrics = await c.broadcastObject(metrics, 0);
  } else if (evaluator) metrics = await evaluator.compute();
  return { metrics, images, seconds: (performance.now() - t0) / 1000, predictSeconds: images ? predictMs / 1000 / images : 0 };
}

/** Live tensors (for leak checks). */
export function numTensors(): number {
  return tf.memory().numTensors;
}
