// SPDX-License-Identifier: Apache-2.0
/**
 * mmcv `ConvModule`: conv -> norm -> activation. State-dict children: `conv` (a `Conv2d`, or a deformable conv
 * per `convCfg`), the norm named `bn` or `gn` per `normCfg` (absent without a norm). `bias: 'auto'` means a bias
 * only when there is no norm. Activation ReLU unless `actCfg` is null. NHWC in, NHWC out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@solo-ts/core';
import { applyActivation, buildConvLayer, buildNormLayer, type ActCfg, type ConvCfg, type NormCfg } from './builders.js';
import type { Conv2d, ConvGeometryOptions } from './conv2d.js';
import { convNormAct, convNormActOnnx } from './fused.js';
import { activationOnnx } from '../onnx/emit.js';
import type { OnnxGraph, OnnxValue } from '../onnx/graph.js';
import type { DeformConv2dPack, ModulatedDeformConv2dPack } from './dcn.js';
import type { InitCfg } from './init.js';
import type { BatchNorm2d, GroupNorm } from './norm.js';

/** Options of {@link ConvModule}. */
export interface ConvModuleOptions extends ConvGeometryOptions {
  /** true / false / 'auto' (= no bias when a norm follows). Default 'auto'. */
  bias?: boolean | 'auto';
  /** Conv type (default plain Conv2d). */
  convCfg?: ConvCfg | null;
  /** Norm after the conv (default none). */
  normCfg?: NormCfg | null;
  /** Activation (default ReLU; null = none). */
  actCfg?: ActCfg | null;
  /** Conv weight init (default mmcv ConvModule's: Kaiming fan_out normal, bias 0; deformable convs keep theirs). */
  init?: InitCfg;
}

export class ConvModule extends Module {
  readonly conv: Conv2d | ModulatedDeformConv2dPack | DeformConv2dPack;
  readonly norm: BatchNorm2d | GroupNorm | null;
  readonly normName: string | null;
  readonly actCfg: ActCfg | null;

  constructor(options: ConvModuleOptions) {
    super();
    const normCfg = options.normCfg ?? null;
    const bias = options.bias === undefined || options.bias === 'auto' ? !normCfg : options.bias;
    const act = options.actCfg === undefined ? { type: 'ReLU' as const } : options.actCfg;
    this.actCfg = act;
    const nonlinearity = act?.type === 'LeakyReLU' ? 'leaky_relu' : 'relu';
    const a = act?.type === 'LeakyReLU' ? (act.negative_slope ?? 0.01) : 0;
    this.conv = this.registerModule(
      'conv',
      buildConvLayer(options.convCfg, {
        inChannels: options.inChannels,
        outChannels: options.outChannels,
        kernelSize: options.kernelSize,
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
        groups: options.groups,
        bias,
        init: options.init ?? { type: 'kaiming', mode: 'fan_out', nonlinearity, a, distribution: 'normal', bias: 0 },
      }),
    );
    if (normCfg) {
      const [name, norm] = buildNormLayer(normCfg, options.outChannels);
      this.normName = name;
      this.norm = this.registerModule(name, norm);
    } else {
      this.normName = null;
      this.norm = null;
    }
  }

  /** ONNX: conv (BatchNorm folded in), norm, activation. */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    const relu = this.actCfg?.type === 'ReLU';
    const y = convNormActOnnx(g, x, this.conv, this.norm, relu, ['conv', this.normName ?? 'norm']);
    return this.actCfg && !relu ? activationOnnx(g, y, this.actCfg) : y;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      if (this.actCfg === null || this.actCfg.type === 'ReLU') return convNormAct(x, this.conv, this.norm, this.actCfg !== null);
      let y = this.conv.forward(x);
      if (this.norm) y = this.norm.forward(y);
      if (this.actCfg) y = applyActivation(y, this.actCfg);
      return y;
    });
  }
}
