// SPDX-License-Identifier: Apache-2.0
/**
 * Weight initialisers with mmcv / PyTorch semantics (`normal_init`, `kaiming_init`, `xavier_init`,
 * `constant_init`, and PyTorch's default `Conv2d.reset_parameters`). Fan computation follows PyTorch's
 * `_calculate_fan_in_and_fan_out` on the PyTorch weight `(out, in / groups, kh, kw)`:
 * `fan_in = in/groups * kh * kw`, `fan_out = out * kh * kw`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** How a conv (or linear) layer is initialised. */
export type InitCfg =
  /** Normal(mean, std) weights (mmcv NormalInit; defaults std 0.01, mean 0), constant bias (default 0). */
  | { type: 'normal'; std?: number; mean?: number; bias?: number }
  /** Kaiming (mmcv KaimingInit defaults: mode fan_out, relu, normal distribution, a 0, bias 0). */
  | { type: 'kaiming'; mode?: 'fan_in' | 'fan_out'; nonlinearity?: 'relu' | 'leaky_relu' | 'linear'; distribution?: 'normal' | 'uniform'; a?: number; bias?: number }
  /** Xavier (mmcv XavierInit defaults: gain 1, distribution normal, bias 0). */
  | { type: 'xavier'; distribution?: 'uniform' | 'normal'; gain?: number; bias?: number }
  /** Constant weights and bias. */
  | { type: 'constant'; val: number; bias?: number }
  /** Uniform(-b, b) weights (b = 1/sqrt(fan_in) for PyTorch's default) and bias. */
  | { type: 'uniform'; a: number; b: number; bias?: number };

/** Fans of a weight with HWIO shape `[kh, kw, in/groups, out]`. */
export function convFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const [kh, kw, i, o] = shape;
  return { fanIn: i * kh * kw, fanOut: o * kh * kw };
}

function gainOf(nonlinearity: string, a: number): number {
  if (nonlinearity === 'relu') return Math.SQRT2;
  if (nonlinearity === 'leaky_relu') return Math.sqrt(2 / (1 + a * a));
  return 1;
}

/** A new weight tensor of `shape` (HWIO) per `cfg`; `undefined` = PyTorch's default Conv2d init. */
export function initWeight(shape: number[], cfg: InitCfg | undefined): tf.Tensor {
  const { fanIn, fanOut } = convFans(shape.length === 4 ? shape : [1, 1, shape[0], shape[1]]);
  if (!cfg) {
    // kaiming_uniform_(a=sqrt(5)): bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5)) -> 1 / sqrt(fan_in)
    const b = 1 / Math.sqrt(fanIn);
    return tf.randomUniform(shape, -b, b);
  }
  switch (cfg.type) {
    case 'normal':
      return tf.randomNormal(shape, cfg.mean ?? 0, cfg.std ?? 0.01);
    case 'constant':
      return tf.fill(shape, cfg.val);
    case 'uniform':
      return tf.randomUniform(shape, cfg.a, cfg.b);
    case 'kaiming': {
      const fan = (cfg.mode ?? 'fan_out') === 'fan_out' ? fanOut : fanIn;
      const std = gainOf(cfg.nonlinearity ?? 'relu', cfg.a ?? 0) / Math.sqrt(fan);
      if ((cfg.distribution ?? 'normal') === 'uniform') {
        const b = Math.sqrt(3) * std;
        return tf.randomUniform(shape, -b, b);
      }
      return tf.randomNormal(shape, 0, std);
    }
    case 'xavier': {
      const gain = cfg.gain ?? 1;
      if ((cfg.distribution ?? 'normal') === 'uniform') {
        const b = gain * Math.sqrt(6 / (fanIn + fanOut));
        return tf.randomUniform(shape, -b, b);
      }
      return tf.randomNormal(shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
    }
  }
}

/** A new bias tensor `[n]` per `cfg`; `undefined` = PyTorch's default (U(-1/sqrt(fan_in), 1/sqrt(fan_in))). */
export function initBias(n: number, fanIn: number, cfg: InitCfg | undefined): tf.Tensor {
  if (!cfg) {
    const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    return tf.randomUniform([n], -b, b);
  }
  return tf.fill([n], cfg.bias ?? 0);
}
