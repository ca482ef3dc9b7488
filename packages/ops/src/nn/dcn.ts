// SPDX-License-Identifier: Apache-2.0
/**
 * Deformable convolutions with mmcv's module layout (config types `DCNv2` and `DCN`).
 *
 * `ModulatedDeformConv2dPack` (DCNv2): state `weight` (HWIO; OIHW `(out, in/groups, kh, kw)` in checkpoints),
 * `bias` (when `bias`), `conv_offset.weight`, `conv_offset.bias`. `conv_offset` is a regular conv with the same
 * kernel, stride, padding and dilation producing `3 * deformGroups * kh * kw` channels, zero-initialised; its
 * output is split into three equal chunks `o1, o2, m`: `offset = cat(o1, o2)` ((delta h, delta w) pairs per
 * tap, taps row-major), `mask = sigmoid(m)`.
 *
 * `DeformConv2dPack` (DCNv1): the same without the mask (`conv_offset` has `2 * deformGroups * kh * kw` channels).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError, type Parameter } from '@solo-ts/core';
import { modulatedDeformConv2d } from '../functional/deform-conv.js';
import { Conv2d, ConvBase, type ConvGeometryOptions } from './conv2d.js';
import { initBias, initWeight, type InitCfg } from './init.js';
import { hwioToOihw, tensorData } from '../onnx/emit.js';
import { attr, type OnnxGraph, type OnnxValue } from '../onnx/graph.js';

/** The first default-domain opset with `DeformConv`. */
export const DEFORM_CONV_OPSET = 19;

/** Options of {@link ModulatedDeformConv2dPack} / {@link DeformConv2dPack}. */
export interface DeformConvOptions extends ConvGeometryOptions {
  /** Deformable groups (mmcv `deform_groups`, default 1). */
  deformGroups?: number;
  /** Learnable bias on the main conv (default true, as mmcv). */
  bias?: boolean;
  /** Main weight init (default mmcv's: U(-1/sqrt(in * kh * kw), +...), bias 0). */
  init?: InitCfg;
}

export abstract class DeformConvBase extends ConvBase {
  readonly deformGroups: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly convOffset: Conv2d;

  constructor(options: DeformConvOptions, offsetChannelsPerTap: number) {
    super(options, 'deformable conv');
    this.deformGroups = options.deformGroups ?? 1;
    if (this.inChannels % this.deformGroups !== 0) {
      throw new SoloError(`deformable conv: in_channels ${this.inChannels} must be divisible by deform_groups ${this.deformGroups}`);
    }
    const [kh, kw] = this.kernelSize;
    const shape = [kh, kw, this.inChannels / this.groups, this.outChannels];
    // mmcv ModulatedDeformConv2d.init_weights: uniform(-stdv, stdv), stdv = 1/sqrt(in_channels * kh * kw); bias 0
    const stdv = 1 / Math.sqrt(this.inChannels * kh * kw);
    const init: InitCfg = options.init ?? { type: 'uniform', a: -stdv, b: stdv, bias: 0 };
    this.weight = this.registerParameter('weight', initWeight(shape, init), { torchLayout: 'conv' });
    this.bias = options.bias ?? true ? this.registerParameter('bias', initBias(this.outChannels, 0, init)) : null;
    this.convOffset = this.registerModule(
      'conv_offset',
      new Conv2d({
        inChannels: this.inChannels,
        outChannels: this.deformGroups * offsetChannelsPerTap * kh * kw,
        kernelSize: this.kernelSize,
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        bias: true,
        init: { type: 'constant', val: 0, bias: 0 },
      }),
    );
  }

  /** Offsets `[n, ho, wo, 2 dg K]` and modulation mask `[n, ho, wo, dg K]` predicted from `x`. */
  abstract offsetsAndMask(x: tf.Tensor4D): { offset: tf.Tensor4D; mask: tf.Tensor4D };

  /** Whether the offset conv also predicts the modulation mask (DCNv2). */
  protected abstract readonly modulated: boolean;

  /**
   * ONNX: `conv_offset` (a regular Conv), its channels split into the offsets (first `2 dg K`, the (dh, dw) pairs
   * per tap as mmcv orders them, which is ONNX's order) and the mask logits (DCNv2: sigmoid), then `DeformConv`
   * (opset 19). The bias and the main weight are initializers; the BatchNorm that follows is not folded.
   */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    if (g.opset < DEFORM_CONV_OPSET) {
      throw new SoloError(`ONNX export: deformable convolutions need opset >= ${DEFORM_CONV_OPSET} (DeformConv), the export targets opset ${g.opset}`, {
        code: 'CONFIG',
        hint: `export with --opset ${DEFORM_CONV_OPSET} (or leave --opset out)`,
      });
    }
    const [kh, kw] = this.kernelSize;
    const k = this.deformGroups * kh * kw;
    const out = g.scope('conv_offset', () => this.convOffset.toOnnx(g, x));
    const offset = g.op('Slice', [out, g.int64([0]), g.int64([2 * k]), g.int64([1])]);
    const inputs = [x, '', offset, '', ''];
    const w = hwioToOihw(this.weight.variable);
    inputs[1] = g.initializer('weight', w.data, w.dims);
    if (this.bias) inputs[3] = g.initializer('bias', tensorData(this.bias.variable), [this.outChannels]);
    if (this.modulated) inputs[4] = g.op('Sigmoid', [g.op('Slice', [out, g.int64([2 * k]), g.int64([3 * k]), g.int64([1])])]);
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const [ph, pw] = this.padding;
    return g.op('DeformConv', inputs, {
      kernel_shape: attr.ints(this.kernelSize),
      strides: attr.ints(this.stride),
      pads: attr.ints([ph, pw, ph, pw]),
      dilations: attr.ints(this.dilation),
      group: attr.int(this.groups),
      offset_group: attr.int(this.deformGroups),
    });
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { offset, mask } = this.offsetsAndMask(x);
      return modulatedDeformConv2d(x, offset, mask, this.weight.variable as tf.Tensor4D, this.bias ? (this.bias.variable as tf.Tensor1D) : null, {
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        groups: this.groups,
        deformGroups: this.deformGroups,
      });
    });
  }
}

/** mmcv `ModulatedDeformConv2dPack` (DCNv2). */
export class ModulatedDeformConv2dPack extends DeformConvBase {
  protected readonly modulated = true;
  constructor(options: DeformConvOptions) {
    super(options, 3);
  }

  offsetsAndMask(x: tf.Tensor4D): { offset: tf.Tensor4D; mask: tf.Tensor4D } {
    return tf.tidy(() => {
      const out = this.convOffset.forward(x);
      const ch = out.shape[3] / 3;
      const [o1, o2, m] = tf.split(out, [ch, ch, ch], 3);
      return { offset: tf.concat([o1, o2], 3) as tf.Tensor4D, mask: tf.sigmoid(m) as tf.Tensor4D };
    });
  }
}

/** mmcv `DeformConv2dPack` (DCNv1: no modulation). */
export class DeformConv2dPack extends DeformConvBase {
  protected readonly modulated = false;
  constructor(options: DeformConvOptions) {
    super(options, 2);
  }

  offsetsAndMask(x: tf.Tensor4D): { offset: tf.Tensor4D; mask: tf.Tensor4D } {
    return tf.tidy(() => {
      const offset = this.convOffset.forward(x);
      const [n, h, w, c] = offset.shape;
      return { offset, mask: tf.ones([n, h, w, c / 2]) };
    });
  }
}
