// SPDX-License-Identifier: Apache-2.0
/**
 * What the runner needs from an optimizer (SGD, Adam, AdamW): a learning rate set per step by the schedulers, an
 * update from a map of named gradients (with per-parameter lr / weight-decay multipliers), and a serialisable
 * state (per-parameter buffers) so that a resumed run continues exactly.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Per-parameter overrides (mmengine paramwise_cfg resolved to multipliers). */
export interface ParamGroupMult {
  lrMult: number;
  decayMult: number;
}

export interface OptimizerStateRecord {
  /** optimizer type (`SGD`, `Adam`, `AdamW`) */
  type: string;
  /** buffers by key (`<param>` for SGD momentum, `<param>.exp_avg` / `<param>.exp_avg_sq` for Adam), float32, our layout */
  buffers: Record<string, { shape: number[]; data: Float32Array }>;
  lr: number;
  stepCount: number;
}

export interface Optimizer {
  /** registry key of the optimizer */
  readonly typeName: string;
  /** the lr of the config (after auto scaling): the schedulers' factors multiply it */
  readonly baseLr: number;
  lr: number;
  stepCount: number;
  setLr(lr: number): void;
  /** Apply one update; `grads` are not disposed; parameters without a gradient are skipped. */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, mults?: Map<string, ParamGroupMult>): void;
  /** Serialisable state (reads buffers back from the device). */
  state(): Promise<OptimizerStateRecord>;
  loadState(s: OptimizerStateRecord): void;
  dispose(): void;
}

export function isOptimizer(o: unknown): o is Optimizer {
  const x = o as Optimizer;
  return typeof x === 'object' && x !== null && typeof x.step === 'function' && typeof x.setLr === 'function' && typeof x.state === 'function' && typeof x.loadState === 'function';
}
