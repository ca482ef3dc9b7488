// SPDX-License-Identifier: Apache-2.0
/**
 * Adam and AdamW with PyTorch's semantics (torch.optim.Adam / AdamW, amsgrad off), registry keys `Adam`, `AdamW`
 * (scope 'optimizers').
 *
 * For each parameter p with gradient g, at step t (1-based):
 *   Adam:  g = g + weight_decay * p                       (L2 penalty in the gradient)
 *   AdamW: p = p * (1 - lr * weight_decay)                 (decoupled weight decay)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * `t` counts the updates of that parameter (PyTorch keeps one step per parameter). The buffers `m` (`exp_avg`)
 * and `v` (`exp_avg_sq`) and the step counts are the optimizer state saved in checkpoints.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError, defineOptions, resolveOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import type { Optimizer, OptimizerStateRecord, ParamGroupMult } from './optimizer.js';

/** The options of {@link Adam} (torch.optim.Adam), declared once. */
export const adamOptions = defineOptions({
  lr: { type: 'number', default: 0.001, doc: 'base learning rate' },
  betas: { type: 'array', items: 'number', default: [0.9, 0.999], doc: 'coefficients of the running averages of the gradient and its square' },
  eps: { type: 'number', default: 1e-8, doc: 'added to the denominator' },
  weight_decay: { type: 'number', default: 0, doc: 'weight decay (L2 in the gradient for Adam, decoupled for AdamW)' },
  amsgrad: { type: 'boolean', default: false, doc: 'AMSGrad variant (not supported: must be false)' },
});
/** The options of {@link AdamW} (torch.optim.AdamW): Adam's, with its own default weight decay. */
export const adamWOptions = defineOptions({
  ...adamOptions,
  weight_decay: { type: 'number', default: 0.01, doc: 'weight decay (L2 in the gradient for Adam, decoupled for AdamW)' },
});
/** Resolved options of {@link Adam} and {@link AdamW}. */
export type AdamOptions = ResolvedOptions<typeof adamOptions>;

class AdamBase implements Optimizer {
  readonly baseLr: number;
  lr: number;
  stepCount = 0;
  readonly opts: AdamOptions;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly steps = new Map<string, number>();

  constructor(
    readonly typeName: 'Adam' | 'AdamW',
    private readonly decoupled: boolean,
    options: AdamOptions,
  ) {
    this.opts = options;
    const { lr, betas, eps, amsgrad } = this.opts;
    if (!(lr >= 0)) throw new SoloError(`${typeName}: lr must be a non-negative number, got ${lr}`, { code: 'CONFIG' });
    if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => b >= 0 && b < 1)) throw new SoloError(`${typeName}: betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`, { code: 'CONFIG' });
    if (!(eps >= 0)) throw new SoloError(`${typeName}: eps must be >= 0, got ${eps}`, { code: 'CONFIG' });
    if (amsgrad) throw new SoloError(`${typeName}: amsgrad is not supported`, { code: 'CONFIG' });
    this.baseLr = lr;
    this.lr = lr;
  }

  setLr(lr: number): void {
    this.lr = lr;
  }

  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, mults?: Map<string, ParamGroupMult>): void {
    const [b1, b2] = this.opts.betas;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const mult = mults?.get(name);
      const lr = this.lr * (mult?.lrMult ?? 1);
      const wd = this.opts.weightDecay * (mult?.decayMult ?? 1);
      const t = (this.steps.get(name) ?? 0) + 1;
      this.steps.set(name, t);
      tf.tidy(() => {
        let grad: tf.Tensor = g;
        let param: tf.Tensor = p;
        if (wd !== 0 && this.decoupled) param = tf.mul(p, 1 - lr * wd);
        else if (wd !== 0) grad = tf.add(g, tf.mul(p, wd));
        let m = this.m.get(name);
        let v = this.v.get(name);
        const newM = m ? tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1)) : tf.mul(grad, 1 - b1);
        const newV = v ? tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2)) : tf.mul(tf.square(grad), 1 - b2);
        if (!m) this.m.set(name, (m = tf.variable(newM, false)));
        else m.assign(newM);
        if (!v) this.v.set(name, (v = tf.variable(newV, false)));
        else v.assign(newV);
        const stepSize = lr / (1 - b1 ** t);
        const denom = tf.add(tf.div(tf.sqrt(newV), Math.sqrt(1 - b2 ** t)), this.opts.eps);
        p.assign(tf.sub(param, tf.mul(tf.div(newM, denom), stepSize)));
      });
    }
    this.stepCount++;
  }

  async state(): Promise<OptimizerStateRecord> {
    const buffers: OptimizerStateRecord['buffers'] = {};
    for (const [k, b] of this.m) buffers[`${k}.exp_avg`] = { shape: b.shape, data: (await b.data()) as Float32Array };
    for (const [k, b] of this.v) buffers[`${k}.exp_avg_sq`] = { shape: b.shape, data: (await b.data()) as Float32Array };
    for (const [k, t] of this.steps) buffers[`${k}.step`] = { shape: [], data: Float32Array.of(t) };
    return { type: this.typeName, buffers, lr: this.lr, stepCount: this.stepCount };
  }

  loadState(s: OptimizerStateRecord): void {
    if (s.type !== this.typeName) throw new SoloError(`the checkpoint's optimizer state is for ${String(s.type)}, but this run uses ${this.typeName}`, { code: 'CHECKPOINT' });
    this.dispose();
    for (const [k, b] of Object.entries(s.buffers)) {
      const i = k.lastIndexOf('.');
      const name = k.slice(0, i);
      const kind = k.slice(i + 1);
      if (kind === 'step') this.steps.set(name, b.data[0]);
      else if (kind === 'exp_avg') this.m.set(name, tf.tidy(() => tf.variable(tf.tensor(b.data, b.shape, 'float32'), false)));
      else if (kind === 'exp_avg_sq') this.v.set(name, tf.tidy(() => tf.variable(tf.tensor(b.data, b.shape, 'float32'), false)));
      else throw new SoloError(`unknown ${this.typeName} state buffer ${k}`, { code: 'CHECKPOINT' });
    }
    this.lr = s.lr;
    this.stepCount = s.stepCount;
  }

  dispose(): void {
    for (const b of [...this.m.values(), ...this.v.values()]) b.dispose();
    this.m.clear();
    this.v.clear();
    this.steps.clear();
  }
}

export class Adam extends AdamBase {
  static readonly type = 'Adam';
  static readonly description = 'Adam with L2 weight decay in the gradient (PyTorch semantics).';
  static readonly options = adamOptions;
  constructor(options: OptionsInput<typeof adamOptions> = {}) {
    super('Adam', false, resolveOptions(adamOptions, options, 'Adam'));
  }
}

export class AdamW extends AdamBase {
  static readonly type = 'AdamW';
  static readonly description = 'Adam with decoupled weight decay (PyTorch semantics).';
  static readonly options = adamWOptions;
  constructor(options: OptionsInput<typeof adamWOptions> = {}) {
    super('AdamW', true, resolveOptions(adamWOptions, options, 'AdamW'));
  }
}
