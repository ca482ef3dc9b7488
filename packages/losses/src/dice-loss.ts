// SPDX-License-Identifier: Apache-2.0
/**
 * Dice loss (mmdetection `DiceLoss`), registry key `DiceLoss` (scope `models`).
 *
 * pred (n, ...) logits (`activate: true`, sigmoid applied here) or probabilities (`activate: false`), target
 * (n, ...) 0/1 (any dtype, cast to float32). Per sample, flattened: a = Σ p·t, and
 * - `naive_dice: false` (default): dice = 2a / ((Σ p² + eps) + (Σ t² + eps));
 * - `naive_dice: true`: dice = (2a + eps) / (Σ p + Σ t + eps);
 * loss = loss_weight · weight_reduce_loss(1 − dice) with an optional (n) weight, reduction none|mean|sum and
 * avg_factor. With reduction `none` the result has shape (n).
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, resolveOptions, ShapeError, SoloError, type BuildContext, type Loss, type LossCallOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { checkAvgFactor, checkReduction, resolveReduction, shapeText, weightReduceLoss, type Reduction } from './reduce.js';

/** The options of {@link DiceLoss} (mmdet `DiceLoss.__init__`), declared once. */
export const diceLossOptions = defineOptions({
  use_sigmoid: { type: 'boolean', default: true, doc: 'use sigmoid activation (softmax is not supported)' },
  activate: { type: 'boolean', default: true, doc: 'apply the sigmoid to pred (false: pred are probabilities)' },
  reduction: { type: 'string', default: 'mean', enum: ['none', 'mean', 'sum'], doc: 'default reduction of the loss' },
  naive_dice: { type: 'boolean', default: false, doc: 'V-Net dice: (2a + eps) / (Σp + Σt + eps) instead of 2a / (Σp² + Σt² + 2 eps)' },
  loss_weight: { type: 'number', default: 1.0, doc: 'multiplier of the loss' },
  eps: { type: 'number', default: 1e-3, doc: 'smoothing term of the dice' },
});
/** Resolved options of {@link DiceLoss} (camelCase, defaults filled in). */
export type DiceLossOptions = ResolvedOptions<typeof diceLossOptions>;

export class DiceLoss implements Loss {
  static readonly type = 'DiceLoss';
  static readonly description = 'Dice loss of mmdetection (per-sample 1 − dice over flattened masks)';
  static readonly options = diceLossOptions;

  readonly useSigmoid: boolean;
  readonly activate: boolean;
  readonly reduction: Reduction;
  readonly naiveDice: boolean;
  readonly lossWeight: number;
  readonly eps: number;

  constructor(options: OptionsInput<typeof diceLossOptions> = {}, _ctx?: BuildContext) {
    const o = resolveOptions(diceLossOptions, options, 'DiceLoss');
    this.useSigmoid = o.useSigmoid;
    this.activate = o.activate;
    this.reduction = checkReduction(o.reduction, 'DiceLoss: reduction');
    this.naiveDice = o.naiveDice;
    this.lossWeight = o.lossWeight;
    this.eps = o.eps;
    if (this.activate && !this.useSigmoid) {
      throw new SoloError('DiceLoss: use_sigmoid=false with activate=true is not supported (only the sigmoid activation is implemented)', {
        code: 'CONFIG',
        hint: 'set use_sigmoid: true, or activate: false if pred already holds probabilities',
      });
    }
    if (typeof this.lossWeight !== 'number' || !Number.isFinite(this.lossWeight)) {
      throw new SoloError(`DiceLoss: loss_weight must be a finite number, got ${String(this.lossWeight)}`, { code: 'CONFIG' });
    }
  }

  /** Returns (n) with reduction `none`, else a scalar. The caller owns the result. */
  forward(pred: tf.Tensor, target: tf.Tensor, options: LossCallOptions = {}): tf.Tensor {
    const reduction = resolveReduction(this.reduction, options.reductionOverride, 'DiceLoss');
    const { weight, avgFactor } = options;
    if (pred.rank < 1) throw new ShapeError(`DiceLoss: pred must have a leading sample axis, got shape ${shapeText(pred.shape)}`);
    if (pred.size !== target.size || pred.shape[0] !== target.shape[0]) {
      throw new ShapeError(`DiceLoss: pred ${shapeText(pred.shape)} and target ${shapeText(target.shape)} must have the same number of samples and elements`);
    }
    const n = pred.shape[0];
    checkAvgFactor(avgFactor, reduction, 'DiceLoss');
    if (weight !== undefined) {
      // mmdet: assert weight.ndim == loss.ndim (1) and len(weight) == len(pred)
      if (weight.rank !== 1 || weight.shape[0] !== n) {
        throw new ShapeError(`DiceLoss: weight must have shape [${n}] (one value per sample), got ${shapeText(weight.shape)}`);
      }
    }
    return tf.tidy(() => {
      const p0 = this.activate ? tf.sigmoid(pred) : pred;
      const p = tf.reshape(p0, [n, -1]);
      const t = tf.reshape(tf.cast(target, 'float32'), [n, -1]);
      const a = tf.sum(tf.mul(p, t), 1);
      let d: tf.Tensor;
      if (this.naiveDice) {
        const b = tf.sum(p, 1);
        const c = tf.sum(t, 1);
        d = tf.div(tf.add(tf.mul(2, a), this.eps), tf.add(tf.add(b, c), this.eps));
      } else {
        const b = tf.add(tf.sum(tf.mul(p, p), 1), this.eps);
        const c = tf.add(tf.sum(tf.mul(t, t), 1), this.eps);
        d = tf.div(tf.mul(2, a), tf.add(b, c));
      }
      const loss = tf.sub(1, d);
      const reduced = weightReduceLoss(loss, weight, reduction, avgFactor, 'DiceLoss');
      return tf.mul(reduced, this.lossWeight);
    });
  }
}
