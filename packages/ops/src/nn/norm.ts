// SPDX-License-Identifier: Apache-2.0
/**
 * Normalisation layers with PyTorch semantics on NHWC tensors.
 *
 * `BatchNorm2d` (state `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`): in eval mode
 * `y = x * a + b'` with `a = weight / sqrt(running_var + eps)`, `b' = bias - running_mean * a` (PyTorch's CPU
 * inference path); in training mode it normalises with the batch mean and the biased batch variance over
 * (N, H, W) and updates the running stats with the unbiased variance (`momentum` 0.1, or a cumulative average
 * when `momentum` is null), incrementing `num_batches_tracked`.
 *
 * `GroupNorm` (state `weight`, `bias`): per sample, mean and biased variance over (C/G, H, W) of each group.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, SoloError, type Parameter } from '@solo-ts/core';
import { groupNorm } from '../functional/group-norm.js';
import { channelAffineOnnx, groupNormOnnx, tensorData } from '../onnx/emit.js';
import type { OnnxGraph, OnnxValue } from '../onnx/graph.js';

/** Options of {@link BatchNorm2d}. */
export interface BatchNorm2dOptions {
  /** Channels. */
  numFeatures: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Running-stat momentum (default 0.1); null = cumulative moving average. */
  momentum?: number | null;
  /** Learnable weight and bias (default true). */
  affine?: boolean;
  /** Whether the affine parameters are trained (mmcv norm_cfg requires_grad, default true). */
  requiresGrad?: boolean;
}

export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  momentum: number | null;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(options: BatchNorm2dOptions) {
    super();
    const c = options.numFeatures;
    this.numFeatures = c;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const affine = options.affine ?? true;
    const rg = options.requiresGrad ?? true;
    this.weight = affine ? this.registerParameter('weight', tf.ones([c]), { requiresGrad: rg }) : null;
    this.bias = affine ? this.registerParameter('bias', tf.zeros([c]), { requiresGrad: rg }) : null;
    this.registerBuffer('running_mean', tf.zeros([c]));
    this.registerBuffer('running_var', tf.ones([c]));
    this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  get runningMean(): tf.Tensor1D {
    return this.buffer('running_mean') as tf.Tensor1D;
  }
  get runningVar(): tf.Tensor1D {
    return this.buffer('running_var') as tf.Tensor1D;
  }
  get numBatchesTracked(): number {
    return this.batchesTracked();
  }

  /** JS copy of `num_batches_tracked` for the tensor it was read from (no device read per training forward). */
  private nbtCache: { tensor: tf.Tensor; value: number } | null = null;

  private batchesTracked(): number {
    const t = this.buffer('num_batches_tracked');
    if (this.nbtCache?.tensor !== t) this.nbtCache = { tensor: t, value: t.dataSync()[0] };
    return this.nbtCache.value;
  }

  private check(x: tf.Tensor4D): void {
    if (x.shape[3] !== this.numFeatures) {
      throw new SoloError(`BatchNorm2d: input has ${x.shape[3]} channels`, { expected: `${this.numFeatures} channels (NHWC)` });
    }
  }

  /** Per-channel scale and shift of the eval-mode affine map (`y = x * scale + shift`). Caller owns them. */
  evalScaleShift(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    return tf.tidy(() => {
      let scale = tf.div(1, tf.sqrt(tf.add(this.runningVar, this.eps))) as tf.Tensor1D;
      if (this.weight) scale = tf.mul(this.weight.variable, scale) as tf.Tensor1D;
      let shift = tf.neg(tf.mul(this.runningMean, scale)) as tf.Tensor1D;
      if (this.bias) shift = tf.add(this.bias.variable, shift) as tf.Tensor1D;
      return { scale, shift };
    });
  }

  /** The eval-mode affine map as plain arrays (for folding into a conv on export). */
  evalScaleShiftData(): { scale: Float32Array; shift: Float32Array } {
    const { scale, shift } = this.evalScaleShift();
    try {
      return { scale: tensorData(scale), shift: tensorData(shift) };
    } finally {
      tf.dispose([scale, shift]);
    }
  }

  /** ONNX: the eval-mode affine map (running statistics) as Mul + Add. */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    const { scale, shift } = this.evalScaleShiftData();
    return channelAffineOnnx(g, x, scale, shift);
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    this.check(x);
    if (!this.training) {
      return tf.tidy(() => {
        const { scale, shift } = this.evalScaleShift();
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    const [n, h, w] = x.shape;
    const count = n * h * w;
    if (count <= 1) throw new SoloError(`BatchNorm2d: expected more than 1 value per channel when training, got input [${x.shape.join(', ')}]`);
    const y = tf.tidy(() => {
      const mean = tf.mean(x, [0, 1, 2]);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), [0, 1, 2]);
      let out: tf.Tensor4D = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight) out = tf.mul(out, this.weight.variable);
      if (this.bias) out = tf.add(out, this.bias.variable);
      this.updateRunningStats(mean, variance, count);
      return out;
    });
    return y;
  }

  private updateRunningStats(mean: tf.Tensor, biasedVar: tf.Tensor, count: number): void {
    const nbt = this.batchesTracked() + 1;
    const m = this.momentum === null ? 1 / nbt : this.momentum;
    const [rm, rv] = tf.tidy(() => {
      const unbiased = tf.mul(biasedVar, count / (count - 1));
      return [
        tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)),
        tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)),
      ];
    });
    this.setBuffer('running_mean', rm);
    this.setBuffer('running_var', rv);
    this.setBuffer('num_batches_tracked', tf.scalar(nbt, 'int32'));
    this.nbtCache = { tensor: this.buffer('num_batches_tracked'), value: nbt };
  }
}

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  numGroups: number;
  numChannels: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable weight and bias (default true). */
  affine?: boolean;
  /** Whether the affine parameters are trained (default true). */
  requiresGrad?: boolean;
}

export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(options: GroupNormOptions) {
    super();
    this.numGroups = options.numGroups;
    this.numChannels = options.numChannels;
    this.eps = options.eps ?? 1e-5;
    if (this.numChannels % this.numGroups !== 0) {
      throw new SoloError(`GroupNorm: num_channels ${this.numChannels} is not divisible by num_groups ${this.numGroups}`);
    }
    const affine = options.affine ?? true;
    const rg = options.requiresGrad ?? true;
    this.weight = affine ? this.registerParameter('weight', tf.ones([this.numChannels]), { requiresGrad: rg }) : null;
    this.bias = affine ? this.registerParameter('bias', tf.zeros([this.numChannels]), { requiresGrad: rg }) : null;
  }

  /** ONNX: group statistics through InstanceNormalization, then the affine map. */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    return groupNormOnnx(g, x, this.numGroups, this.eps, this.weight ? tensorData(this.weight.variable) : null, this.bias ? tensorData(this.bias.variable) : null);
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const c = x.shape[3];
    if (c !== this.numChannels) throw new SoloError(`GroupNorm: input has ${c} channels`, { expected: `${this.numChannels} channels (NHWC)` });
    return groupNorm(x, this.weight ? (this.weight.variable as tf.Tensor1D) : null, this.bias ? (this.bias.variable as tf.Tensor1D) : null,
      this.numGroups, this.eps);
  }
}
