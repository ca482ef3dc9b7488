// SPDX-License-Identifier: Apache-2.0
/**
 * mmdetection's `weight_reduce_loss` / `reduce_loss` contract, shared by every loss of this package.
 *
 * - `weight` multiplies the element-wise loss (broadcasting; shape checks are done by each loss, as in mmdet).
 * - reduction `none` returns the weighted loss, `mean` its mean, `sum` its sum.
 * - With `avgFactor`: `mean` = sum / (avgFactor + float32 eps), `none` returns the weighted loss unchanged, `sum`
 *   is an error (mmdet: ValueError).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';

/** Loss reductions. */
export type Reduction = 'none' | 'mean' | 'sum';
export const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];

/** float32 machine epsilon (`torch.finfo(torch.float32).eps`). */
export const FLOAT32_EPS = 1.1920928955078125e-7;

/** Check a reduction value given by config or by a caller; throws a SoloError naming `where`. */
export function checkReduction(value: unknown, where: string): Reduction {
  if (typeof value === 'string' && (REDUCTIONS as readonly string[]).includes(value)) return value as Reduction;
  throw new SoloError(`${where} must be one of 'none', 'mean', 'sum', got ${JSON.stringify(value) ?? String(value)}`, {
    code: 'ARGUMENT',
    expected: "'none' | 'mean' | 'sum'",
  });
}

/**
 * The effective reduction of one call: `reductionOverride` if given (must be a valid reduction), else the
 * loss's configured one (mmdet: `assert reduction_override in (None, 'none', 'mean', 'sum')`).
 */
export function resolveReduction(configured: Reduction, override: unknown, lossName: string): Reduction {
  if (override === undefined || override === null) return configured;
  return checkReduction(override, `${lossName}: reductionOverride`);
}

/** avg_factor is not allowed with reduction 'sum' (mmdet: ValueError). Call before allocating tensors. */
export function checkAvgFactor(avgFactor: unknown, reduction: Reduction, lossName: string): void {
  if (avgFactor !== undefined && avgFactor !== null && reduction === 'sum') {
    throw new SoloError(`${lossName}: avgFactor can not be used with reduction 'sum'`, {
      code: 'ARGUMENT',
      hint: "use reduction 'mean' (sum / avgFactor) or 'none'",
    });
  }
}

/** Apply element-wise weight, reduction and avg_factor (mmdet `weight_reduce_loss`). Call inside a tidy. */
export function weightReduceLoss(
  loss: tf.Tensor,
  weight: tf.Tensor | undefined,
  reduction: Reduction,
  avgFactor: number | tf.Scalar | undefined,
  lossName: string,
): tf.Tensor {
  let l = loss;
  if (weight !== undefined) l = tf.mul(l, weight);
  if (avgFactor === undefined || avgFactor === null) {
    if (reduction === 'mean') return tf.mean(l);
    if (reduction === 'sum') return tf.sum(l);
    return l;
  }
  if (reduction === 'mean') {
    // mmdet: loss.sum() / (avg_factor + eps), evaluated in float32.
    const denom = typeof avgFactor === 'number' ? tf.scalar(Math.fround(avgFactor + FLOAT32_EPS)) : tf.add(tf.cast(avgFactor, 'float32'), tf.scalar(FLOAT32_EPS));
    return tf.div(tf.sum(l), denom);
  }
  if (reduction === 'none') return l;
  throw new SoloError(`${lossName}: avgFactor can not be used with reduction 'sum'`, {
    code: 'ARGUMENT',
    hint: "use reduction 'mean' (sum / avgFactor) or 'none'",
  });
}

/** Shape as text for messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
