// SPDX-License-Identifier: Apache-2.0
/**
 * Sigmoid focal loss (mmdetection `FocalLoss`, `use_sigmoid=True`), registry key `FocalLoss` (scope `models`).
 *
 * pred (n, C) logits; target either (n) integer class indices in [0, C] where C is the background (one-hot
 * encoded with C + 1 columns, background column dropped, as mmdet's CPU path) or a (n, C, ...) one-hot / soft
 * target with the same rank as pred. Element-wise (mmdet `py_sigmoid_focal_loss`):
 *   p = σ(x), pt = (1 − p)·t + p·(1 − t), w = (α·t + (1 − α)·(1 − t))·pt^γ,
 *   loss = BCEWithLogits(x, t)·w
 * then the optional weight ((n) per row, or n·C / (n, C) per element), reduction none|mean|sum, avg_factor
 * (mean = sum / (avg_factor + float32 eps)) and × loss_weight. With `activated: true` pred are probabilities
 * and BCE is used instead (mmdet `sigmoid_focal_loss_with_prob`, log clamped at −100 like PyTorch).
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, resolveOptions, ShapeError, SoloError, type BuildContext, type Loss, type LossCallOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { checkAvgFactor, checkReduction, resolveReduction, shapeText, weightReduceLoss, type Reduction } from './reduce.js';

/** The options of {@link FocalLoss} (mmdet `FocalLoss.__init__`), declared once. */
export const focalLossOptions = defineOptions({
  use_sigmoid: { type: 'boolean', default: true, doc: 'must be true: only the sigmoid focal loss is supported' },
  gamma: { type: 'number', default: 2.0, doc: 'focusing parameter gamma' },
  alpha: { type: 'number', default: 0.25, doc: 'weight of the positives (negatives get 1 - alpha)' },
  reduction: { type: 'string', default: 'mean', enum: ['none', 'mean', 'sum'], doc: 'default reduction of the loss' },
  loss_weight: { type: 'number', default: 1.0, doc: 'multiplier of the loss' },
  activated: { type: 'boolean', default: false, doc: 'pred are probabilities already (sigmoid applied)' },
});
/** Resolved options of {@link FocalLoss} (camelCase, defaults filled in). */
export type FocalLossOptions = ResolvedOptions<typeof focalLossOptions>;

/**
 * BCE with logits, element-wise, with PyTorch's formula and PyTorch's gradient ((σ(x) − t)·dy w.r.t. x; the
 * target gets no gradient).
 */
const bceWithLogits = tf.customGrad(((x: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
  // PyTorch: (1 - t)·x + m + log(exp(−m) + exp(−x − m)), m = max(−x, 0)
  const m = tf.relu(tf.neg(x));
  const value = tf.add(tf.add(tf.mul(tf.sub(1, t), x), m), tf.log(tf.add(tf.exp(tf.neg(m)), tf.exp(tf.sub(tf.neg(x), m)))));
  save([x, t]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, st] = saved;
      return [tf.mul(dy, tf.sub(tf.sigmoid(sx as tf.Tensor), st as tf.Tensor)), tf.zerosLike(st as tf.Tensor)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, t: tf.Tensor) => tf.Tensor;

export class FocalLoss implements Loss {
  static readonly type = 'FocalLoss';
  static readonly description = 'Sigmoid focal loss of mmdetection (RetinaNet / SOLO classification)';
  static readonly options = focalLossOptions;

  readonly useSigmoid: boolean;
  readonly gamma: number;
  readonly alpha: number;
  readonly reduction: Reduction;
  readonly lossWeight: number;
  readonly activated: boolean;

  constructor(options: OptionsInput<typeof focalLossOptions> = {}, _ctx?: BuildContext) {
    const o = resolveOptions(focalLossOptions, options, 'FocalLoss');
    this.useSigmoid = o.useSigmoid;
    this.gamma = o.gamma;
    this.alpha = o.alpha;
    this.reduction = checkReduction(o.reduction, 'FocalLoss: reduction');
    this.lossWeight = o.lossWeight;
    this.activated = o.activated;
    if (this.useSigmoid !== true) {
      throw new SoloError('FocalLoss: only the sigmoid focal loss is supported (use_sigmoid must be true)', { code: 'CONFIG' });
    }
    for (const [k, v] of [['gamma', this.gamma], ['alpha', this.alpha], ['loss_weight', this.lossWeight]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new SoloError(`FocalLoss: ${k} must be a finite number, got ${String(v)}`, { code: 'CONFIG' });
    }
  }

  /**
   * pred (n, C, ...) logits (probabilities with `activated`); target (n) int labels in [0, C] (C = background) or
   * a float target of pred's shape. Returns pred's shape with reduction `none`, else a scalar.
   */
  forward(pred: tf.Tensor, target: tf.Tensor, options: LossCallOptions = {}): tf.Tensor {
    const reduction = resolveReduction(this.reduction, options.reductionOverride, 'FocalLoss');
    const { weight, avgFactor } = options;
    checkAvgFactor(avgFactor, reduction, 'FocalLoss');
    if (pred.rank < 2) throw new ShapeError(`FocalLoss: pred must be (n, num_classes, ...), got shape ${shapeText(pred.shape)}`);
    const oneHot = target.rank !== pred.rank || this.activated;
    if (oneHot) {
      if (pred.rank !== 2 || target.rank !== 1 || target.shape[0] !== pred.shape[0]) {
        throw new ShapeError(
          `FocalLoss: with class-index targets pred must be (n, num_classes) and target (n), got pred ${shapeText(pred.shape)} and target ${shapeText(target.shape)}`,
        );
      }
    } else if (!tf.util.arraysEqual(pred.shape, target.shape)) {
      throw new ShapeError(`FocalLoss: target ${shapeText(target.shape)} must be class indices (n) or have pred's shape ${shapeText(pred.shape)}`);
    }
    const lossShape = pred.shape;
    let weightShape: number[] | undefined;
    if (weight !== undefined) {
      // mmdet py_sigmoid_focal_loss: a (n) weight becomes (n, 1); a flattened per-element weight is viewed as (n, -1).
      weightShape = weight.shape;
      if (!tf.util.arraysEqual(weight.shape, lossShape)) {
        if (weight.shape[0] === lossShape[0]) weightShape = [weight.size, 1];
        else if (weight.size === pred.size) weightShape = [lossShape[0], pred.size / lossShape[0]];
        else throw new ShapeError(`FocalLoss: weight ${shapeText(weight.shape)} does not fit the loss ${shapeText(lossShape)} (expected (n), n*C elements or the loss shape)`);
      }
      if (weightShape.length !== lossShape.length) {
        throw new ShapeError(`FocalLoss: weight viewed as ${shapeText(weightShape)} must have the loss rank ${lossShape.length} (loss ${shapeText(lossShape)})`);
      }
      try {
        tf.broadcast_util.assertAndGetBroadcastShape(weightShape, lossShape);
      } catch {
        throw new ShapeError(`FocalLoss: weight viewed as ${shapeText(weightShape)} does not broadcast to the loss ${shapeText(lossShape)}`);
      }
    }
    return tf.tidy(() => {
      let t: tf.Tensor;
      if (oneHot) {
        const c = pred.shape[1] as number;
        const n = pred.shape[0] as number;
        t = tf.slice(tf.oneHot(tf.cast(target, 'int32'), c + 1), [0, 0], [n, c]);
        t = tf.cast(t, 'float32');
      } else {
        t = tf.cast(target, 'float32');
      }
      const p = this.activated ? pred : tf.sigmoid(pred);
      const pt = tf.add(tf.mul(tf.sub(1, p), t), tf.mul(p, tf.sub(1, t)));
      const focalWeight = tf.mul(tf.add(tf.mul(this.alpha, t), tf.mul(1 - this.alpha, tf.sub(1, t))), tf.pow(pt, this.gamma));
      let bce: tf.Tensor;
      if (this.activated) {
        // PyTorch binary_cross_entropy: −(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100))
        const logP = tf.maximum(tf.log(p), -100);
        const log1mP = tf.maximum(tf.log(tf.sub(1, p)), -100);
        bce = tf.neg(tf.add(tf.mul(t, logP), tf.mul(tf.sub(1, t), log1mP)));
      } else {
        bce = bceWithLogits(pred, t);
      }
      const loss = tf.mul(bce, focalWeight);
      const w = weight !== undefined && weightShape !== undefined ? tf.reshape(weight, weightShape) : undefined;
      const reduced = weightReduceLoss(loss, w, reduction, avgFactor, 'FocalLoss');
      return tf.mul(reduced, this.lossWeight);
    });
  }
}
