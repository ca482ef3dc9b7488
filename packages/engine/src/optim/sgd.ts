// SPDX-License-Identifier: Apache-2.0
/**
 * SGD with PyTorch's semantics (torch.optim.SGD), registry key `SGD` (scope 'optimizers').
 *
 * For each parameter p with gradient g:
 *   d = g + weight_decay * p                (L2 penalty added to the gradient, as PyTorch does)
 *   buf = d                     on the first step, else  buf = momentum * buf + (1 - dampening) * d
 *   d = nesterov ? d + momentum * buf : buf
 *   p = p - lr * d
 * The learning rate is set per step by the parameter schedulers (`setLr`). Momentum buffers are part of the
 * optimizer state saved in checkpoints, so a resumed run continues exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError, defineOptions, resolveOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import type { Optimizer, OptimizerStateRecord, ParamGroupMult } from './optimizer.js';

/** The options of {@link SGD} (torch.optim.SGD), declared once. */
export const sgdOptions = defineOptions({
  lr: { type: 'number', required: true, doc: 'base learning rate' },
  momentum: { type: 'number', default: 0, doc: 'momentum factor' },
  dampening: { type: 'number', default: 0, doc: 'dampening for momentum' },
  weight_decay: { type: 'number', default: 0, doc: 'L2 penalty added to the gradient' },
  nesterov: { type: 'boolean', default: false, doc: 'Nesterov momentum' },
});
/** Resolved options of {@link SGD}. */
export type SGDOptions = ResolvedOptions<typeof sgdOptions>;

export type { OptimizerStateRecord, ParamGroupMult } from './optimizer.js';

export class SGD implements Optimizer {
  static readonly type = 'SGD';
  static readonly description = 'Stochastic gradient descent with momentum and L2 weight decay (PyTorch semantics).';
  static readonly options = sgdOptions;

  readonly typeName = 'SGD';
  readonly baseLr: number;
  lr: number;
  stepCount = 0;
  private readonly buffers = new Map<string, tf.Variable>();
  readonly opts: SGDOptions;

  constructor(options: OptionsInput<typeof sgdOptions>) {
    this.opts = resolveOptions(sgdOptions, options, 'SGD');
    if (!(this.opts.lr >= 0)) throw new SoloError(`SGD: lr must be a non-negative number, got ${this.opts.lr}`);
    if (this.opts.momentum < 0) throw new SoloError(`SGD: momentum must be >= 0, got ${this.opts.momentum}`);
    if (this.opts.nesterov && (this.opts.momentum <= 0 || this.opts.dampening !== 0)) {
      throw new SoloError('SGD: Nesterov momentum requires a momentum > 0 and zero dampening');
    }
    this.baseLr = this.opts.lr;
    this.lr = this.opts.lr;
  }

  setLr(lr: number): void {
    this.lr = lr;
  }

  /**
   * Apply one update. `grads` maps parameter names to gradients (not disposed here); `params` maps names to
   * variables. Parameters without a gradient are skipped (like PyTorch's `p.grad is None`).
   */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, mults?: Map<string, ParamGroupMult>): void {
    const { momentum, dampening, weightDecay, nesterov } = this.opts;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const m = mults?.get(name);
      const lr = this.lr * (m?.lrMult ?? 1);
      const wd = weightDecay * (m?.decayMult ?? 1);
      tf.tidy(() => {
        let d: tf.Tensor = wd !== 0 ? tf.add(g, tf.mul(p, wd)) : g;
        if (momentum !== 0) {
          const buf = this.buffers.get(name);
          let newBuf: tf.Tensor;
          if (!buf) {
            newBuf = tf.clone(d);
            this.buffers.set(name, tf.variable(newBuf, false));
          } else {
            newBuf = tf.add(tf.mul(buf, momentum), dampening !== 0 ? tf.mul(d, 1 - dampening) : d);
            buf.assign(newBuf);
          }
          d = nesterov ? tf.add(d, tf.mul(newBuf, momentum)) : newBuf;
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      });
    }
    this.stepCount++;
  }

  /** Serialisable state (reads buffers back from the device: call at checkpoint time only). */
  async state(): Promise<OptimizerStateRecord> {
    const buffers: OptimizerStateRecord['buffers'] = {};
    for (const [k, v] of this.buffers) buffers[k] = { shape: v.shape, data: (await v.data()) as Float32Array };
    return { type: 'SGD', buffers, lr: this.lr, stepCount: this.stepCount };
  }

  loadState(s: OptimizerStateRecord): void {
    if (s.type !== 'SGD') throw new SoloError(`the checkpoint's optimizer state is for ${String(s.type)}, but this run uses SGD`, { code: 'CHECKPOINT' });
    for (const v of this.buffers.values()) v.dispose();
    this.buffers.clear();
    for (const [k, b] of Object.entries(s.buffers)) this.buffers.set(k, tf.tidy(() => tf.variable(tf.tensor(b.data, b.shape, 'float32'), false)));
    this.lr = s.lr;
    this.stepCount = s.stepCount;
  }

  dispose(): void {
    for (const v of this.buffers.values()) v.dispose();
    this.buffers.clear();
  }
}

/**
 * Clip gradients by their global L2 norm like torch.nn.utils.clip_grad_norm_ (norm_type 2):
 * total = sqrt(sum ||g||^2); coef = max_norm / (total + 1e-6); gradients are scaled by min(coef, 1).
 * Returns the new gradients (caller owns them) and the total norm as a scalar tensor (no data sync).
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number, normType = 2): { grads: Map<string, tf.Tensor>; totalNorm: tf.Scalar } {
  if (normType !== 2) throw new SoloError(`clip_grad.norm_type ${normType} is not supported (only 2)`);
  const names = [...grads.keys()];
  const totalNorm = tf.tidy(() => {
    const sq = names.map((n) => tf.sum(tf.square(grads.get(n)!)));
    return tf.sqrt(sq.length ? tf.addN(sq) : tf.scalar(0)) as tf.Scalar;
  });
  const out = new Map<string, tf.Tensor>();
  const coef = tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalNorm, 1e-6)), 1));
  for (const n of names) out.set(n, tf.mul(grads.get(n)!, coef));
  coef.dispose();
  return { grads: out, totalNorm };
}
