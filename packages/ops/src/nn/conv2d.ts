// SPDX-License-Identifier: Apache-2.0
/**
 * `Conv2d`: PyTorch `nn.Conv2d` over NHWC tensors. State: `weight` (HWIO here, OIHW in PyTorch checkpoints:
 * torchLayout 'conv'), `bias` (when `bias`). Forward `[n, h, w, in] -> [n, ho, wo, out]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, SoloError, type Parameter } from '@solo-ts/core';
import { conv2d, pair, type Pair } from '../functional/conv.js';
import { convFans, initBias, initWeight, type InitCfg } from './init.js';
import { convOnnx, hwioToOihw, tensorData } from '../onnx/emit.js';
import type { OnnxGraph, OnnxValue } from '../onnx/graph.js';

/** The geometry every conv layer takes (PyTorch `nn.Conv2d`'s first arguments). */
export interface ConvGeometryOptions {
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Kernel size (square, or [kh, kw]). */
  kernelSize: Pair;
  /** Stride (default 1). */
  stride?: Pair;
  /** Symmetric zero padding (default 0). */
  padding?: Pair;
  /** Dilation (default 1). */
  dilation?: Pair;
  /** Groups (default 1). */
  groups?: number;
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions extends ConvGeometryOptions {
  /** Learnable bias (default true). */
  bias?: boolean;
  /** Initialisation (default: PyTorch's Conv2d default). */
  init?: InitCfg;
}

/** A conv layer's geometry with PyTorch's defaults, sizes as pairs (the attributes of `nn.Conv2d`). */
export abstract class ConvBase extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  /** @param name the layer type, for the error when the channels are not divisible by `groups` */
  constructor(options: ConvGeometryOptions, name: string) {
    super();
    this.inChannels = options.inChannels;
    this.outChannels = options.outChannels;
    this.kernelSize = pair(options.kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (this.inChannels % this.groups !== 0 || this.outChannels % this.groups !== 0) {
      throw new SoloError(`${name}: in_channels ${this.inChannels} and out_channels ${this.outChannels} must be divisible by groups ${this.groups}`);
    }
  }
}

export class Conv2d extends ConvBase {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(options: Conv2dOptions) {
    super(options, 'Conv2d');
    const shape = [this.kernelSize[0], this.kernelSize[1], this.inChannels / this.groups, this.outChannels];
    this.weight = this.registerParameter('weight', initWeight(shape, options.init), { torchLayout: 'conv' });
    this.bias = options.bias ?? true ? this.registerParameter('bias', initBias(this.outChannels, convFans(shape).fanIn, options.init)) : null;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.forwardFused(x, 'linear');
  }

  /** ONNX: the conv (NCHW), with the per-channel affine map `scale`/`shift` folded into it and an optional ReLU. */
  toOnnx(g: OnnxGraph, x: OnnxValue, fold: { scale: Float32Array; shift: Float32Array } | null = null, relu = false): OnnxValue {
    const w = hwioToOihw(this.weight.variable);
    let b = this.bias ? tensorData(this.bias.variable) : null;
    if (fold) {
      const per = w.data.length / this.outChannels;
      for (let o = 0; o < this.outChannels; o++) for (let k = 0; k < per; k++) w.data[o * per + k] = Math.fround(w.data[o * per + k] * fold.scale[o]);
      b = Float32Array.from(fold.shift, (s, o) => (b ? b[o] * fold.scale[o] + s : s));
    }
    const y = convOnnx(g, x, w, b, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
    return relu ? g.op('Relu', [y]) : y;
  }

  /** Conv + bias + activation in one call (fused where the backend supports it). */
  forwardFused(x: tf.Tensor4D, activation: 'linear' | 'relu'): tf.Tensor4D {
    return conv2d(x, this.weight.variable as tf.Tensor4D, this.bias ? (this.bias.variable as tf.Tensor1D) : null, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      activation,
    });
  }
}
