// SPDX-License-Identifier: Apache-2.0
/**
 * One optimisation step: forward in loss mode, backward, optional gradient clipping, non-finite check, optimizer update.
 *
 * The loss terms stay on the device (`tf.Scalar`s the caller owns); the only read-back is the total loss, used to
 * refuse a non-finite update before it reaches the weights (see `NonFiniteLossError`), read asynchronously. Timings of the forward +
 * backward and of the optimizer are returned separately for the logger and `solo bench`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { clipGradNorm } from '../optim/sgd.js';
import type { Optimizer, ParamGroupMult } from '../optim/optimizer.js';
import type { DataBatch, TrainableDetector } from './types.js';

export class NonFiniteLossError extends SoloError {
  constructor(
    readonly iter: number,
    readonly terms: Record<string, number>,
    /** data-parallel rank whose loss was not finite (undefined: single process) */
    readonly rank?: number,
  ) {
    const bad = Object.entries(terms).filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `${k}=${v}`);
    const where = rank === undefined ? '' : ` on data-parallel rank ${rank}`;
    super(`non-finite loss at iteration ${iter}${where}: ${bad.join(', ') || 'loss'} (all terms: ${Object.entries(terms).map(([k, v]) => `${k}=${v}`).join(', ')})`, {
      hint: 'lower the learning rate, enable optim_wrapper.clip_grad, check the data (check-dataset), or set default_hooks.nan_guard.action=rollback',
    });
    this.name = 'NonFiniteLossError';
  }
}

export interface StepResult {
  /** loss terms plus `loss` (caller owns the tensors) */
  losses: Record<string, tf.Scalar>;
  gradNorm?: tf.Scalar;
  /** milliseconds; `sync` (data-parallel only): parameter broadcast + gradient averaging */
  timings: { preprocess: number; forwardBackward: number; optimizer: number; sync?: number };
}

export interface StepOptions {
  model: TrainableDetector;
  optimizer: Optimizer;
  params: Map<string, tf.Variable>;
  /** per-parameter lr / weight-decay multipliers (paramwise_cfg) */
  mults?: Map<string, ParamGroupMult>;
  clipGrad?: { maxNorm: number; normType?: number };
  /** read the total loss back and refuse non-finite updates */
  checkFinite: boolean;
  iter: number;
}

/** Loss terms, total loss and named gradients of one batch (the caller owns every tensor). */
export interface GradientResult {
  /** the loss terms (keys starting with `loss`) */
  terms: Record<string, tf.Scalar>;
  /** their sum */
  value: tf.Scalar;
  /** gradient per parameter name (parameters the loss does not reach have none) */
  grads: Map<string, tf.Tensor>;
  /** milliseconds */
  timings: { preprocess: number; forwardBackward: number };
}

/**
 * Forward in loss mode and backward on one batch: the part of a step that data-parallel workers run on their
 * shard (`parallel/worker-entry.ts`); `trainStep` = this + `applyGradients`.
 */
export function computeGradients(batch: DataBatch, model: TrainableDetector, params: Map<string, tf.Variable>): GradientResult {
  const t0 = performance.now();
  const { inputs, dataSamples } = model.preprocess(batch, true);
  const t1 = performance.now();
  const varList = [...params.values()];
  const nameOf = new Map([...params].map(([n, v]) => [v.name, n]));
  let terms: Record<string, tf.Scalar> = {};
  let value: tf.Scalar;
  let rawGrads: tf.NamedTensorMap;
  try {
    ({ value, grads: rawGrads } = tf.variableGrads(() => {
      const losses = model.loss(inputs, dataSamples);
      const names = Object.keys(losses).filter((k) => k.startsWith('loss'));
      if (names.length === 0) throw new SoloError('the model returned no loss terms (keys starting with `loss`)');
      terms = Object.fromEntries(names.map((k) => [k, tf.keep(losses[k])]));
      // one term: a copy, so that the total and the term are separate tensors (the caller disposes both)
      return (names.length === 1 ? tf.clone(losses[names[0]]) : tf.addN(names.map((k) => losses[k]))) as tf.Scalar;
    }, varList));
  } finally {
    inputs.dispose();
  }
  const grads = new Map<string, tf.Tensor>();
  for (const [vname, g] of Object.entries(rawGrads)) grads.set(nameOf.get(vname) ?? vname, g);
  return { terms, value, grads, timings: { preprocess: t1 - t0, forwardBackward: performance.now() - t1 } };
}

/** Optional gradient clipping, then the optimizer update. Disposes `grads`; returns the total norm when clipping. */
export function applyGradients(grads: Map<string, tf.Tensor>, o: Pick<StepOptions, 'optimizer' | 'params' | 'mults' | 'clipGrad'>): tf.Scalar | undefined {
  let gradNorm: tf.Scalar | undefined;
  let applied = grads;
  if (o.clipGrad) {
    const c = clipGradNorm(grads, o.clipGrad.maxNorm, o.clipGrad.normType ?? 2);
    gradNorm = c.totalNorm;
    applied = c.grads;
    for (const g of grads.values()) g.dispose();
  }
  o.optimizer.step(o.params, applied, o.mults);
  for (const g of applied.values()) g.dispose();
  return gradNorm;
}

/**
 * One step. Asynchronous because the finiteness check reads the total loss with `data()`: GPU backends (webgpu in
 * Node) cannot read synchronously. With `checkFinite: false` the step reads nothing back from the device.
 */
export async function trainStep(batch: DataBatch, o: StepOptions): Promise<StepResult> {
  const { terms, value, grads, timings } = computeGradients(batch, o.model, o.params);
  const t2 = performance.now();
  if (o.checkFinite) {
    const total = (await value.data())[0];
    if (!Number.isFinite(total)) {
      const vals: Record<string, number> = {};
      for (const [k, t] of Object.entries(terms)) vals[k] = (await t.data())[0];
      for (const g of grads.values()) g.dispose();
      for (const t of Object.values(terms)) t.dispose();
      value.dispose();
      throw new NonFiniteLossError(o.iter, vals);
    }
  }
  const gradNorm = applyGradients(grads, o);
  const t3 = performance.now();
  return {
    losses: { ...terms, loss: value },
    gradNorm,
    timings: { ...timings, optimizer: t3 - t2 },
  };
}
