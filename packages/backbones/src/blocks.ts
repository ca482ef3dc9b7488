// SPDX-License-Identifier: Apache-2.0
/**
 * mmdet ResNet building blocks (`BasicBlock`, `Bottleneck` incl. the ResNeXt variant) and `ResLayer`, with
 * mmdet's attribute names: `conv1`, `bn1`, `conv2`, `bn2`, `conv3`, `bn3`, `downsample.{0,1}` (or
 * `downsample.{1,2}` after the `avg_down` pool). NHWC in and out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, SoloError } from '@solo-ts/core';
import {
  AvgPool2dCeil,
  BatchNorm2d,
  buildConvLayer,
  buildNormLayer,
  convNormAct,
  convNormActOnnx,
  GroupNorm,
  layerToOnnx,
  Sequential,
  type ConvCfg,
  type InitCfg,
  type Layer,
  type NormCfg,
  type OnnxGraph,
  type OnnxValue,
} from '@solo-ts/ops';

/** mmcv KaimingInit defaults used by mmdet's ResNet init_cfg (fan_out, relu, normal, bias 0). */
export const KAIMING: InitCfg = { type: 'kaiming', mode: 'fan_out', nonlinearity: 'relu', distribution: 'normal', bias: 0 };

export interface BlockOptions {
  inplanes: number;
  planes: number;
  stride: number;
  dilation: number;
  downsample: Sequential | null;
  style: 'pytorch' | 'caffe';
  convCfg: ConvCfg | null;
  normCfg: NormCfg;
  /** DCN config of conv2 (Bottleneck only), `fallback_on_stride` already removed. */
  dcn: ConvCfg | null;
  /** ResNeXt: conv2 groups and width. */
  groups?: number;
  baseWidth?: number;
  baseChannels?: number;
}

export interface ResBlock extends Layer {
  /** The last norm of the residual branch (zero-initialised with zero_init_residual). */
  readonly lastNorm: BatchNorm2d | GroupNorm;
}

export class BasicBlock extends Module implements ResBlock {
  static readonly expansion = 1;
  readonly conv1: Layer;
  readonly bn1: Layer;
  readonly conv2: Layer;
  readonly bn2: BatchNorm2d | GroupNorm;
  readonly downsample: Sequential | null;

  constructor(o: BlockOptions) {
    super();
    if (o.dcn) throw new SoloError('ResNet: DCN is not implemented for BasicBlock (depth 18/34), as in mmdet', { hint: 'use depth >= 50 with dcn, or stage_with_dcn all false' });
    const [n1, norm1] = buildNormLayer(o.normCfg, o.planes, 1);
    const [n2, norm2] = buildNormLayer(o.normCfg, o.planes, 2);
    this.conv1 = this.registerModule('conv1', buildConvLayer(o.convCfg, { inChannels: o.inplanes, outChannels: o.planes, kernelSize: 3, stride: o.stride, padding: o.dilation, dilation: o.dilation, bias: false, init: KAIMING }));
    this.bn1 = this.registerModule(n1, norm1);
    this.conv2 = this.registerModule('conv2', buildConvLayer(o.convCfg, { inChannels: o.planes, outChannels: o.planes, kernelSize: 3, padding: 1, bias: false, init: KAIMING }));
    this.bn2 = this.registerModule(n2, norm2);
    this.downsample = o.downsample ? this.registerModule('downsample', o.downsample) : null;
  }

  get lastNorm(): BatchNorm2d | GroupNorm {
    return this.bn2;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let out = convNormAct(x, this.conv1, this.bn1, true);
      out = convNormAct(out, this.conv2, this.bn2, false);
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
    });
  }

  /** ONNX: as `forward` (BatchNorms folded into the convs). */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    let out = convNormActOnnx(g, x, this.conv1, this.bn1, true, ['conv1', 'bn1']);
    out = convNormActOnnx(g, out, this.conv2, this.bn2, false, ['conv2', 'bn2']);
    const identity = this.downsample ? layerToOnnx(this.downsample, g, x, 'downsample') : x;
    return g.op('Relu', [g.op('Add', [out, identity])]);
  }
}

export class Bottleneck extends Module implements ResBlock {
  static readonly expansion = 4;
  readonly conv1: Layer;
  readonly bn1: Layer;
  readonly conv2: Layer;
  readonly bn2: Layer;
  readonly conv3: Layer;
  readonly bn3: BatchNorm2d | GroupNorm;
  readonly downsample: Sequential | null;

  constructor(o: BlockOptions) {
    super();
    const groups = o.groups ?? 1;
    // mmdet resnext.Bottleneck: width = floor(planes * base_width / base_channels) * groups when groups > 1
    const width = groups === 1 ? o.planes : Math.floor(o.planes * ((o.baseWidth ?? 4) / (o.baseChannels ?? 64))) * groups;
    const conv1Stride = o.style === 'pytorch' ? 1 : o.stride;
    const conv2Stride = o.style === 'pytorch' ? o.stride : 1;
    const [n1, norm1] = buildNormLayer(o.normCfg, width, 1);
    const [n2, norm2] = buildNormLayer(o.normCfg, width, 2);
    const [n3, norm3] = buildNormLayer(o.normCfg, o.planes * Bottleneck.expansion, 3);
    this.conv1 = this.registerModule('conv1', buildConvLayer(o.convCfg, { inChannels: o.inplanes, outChannels: width, kernelSize: 1, stride: conv1Stride, bias: false, init: KAIMING }));
    this.bn1 = this.registerModule(n1, norm1);
    if (o.dcn && o.convCfg) throw new SoloError('ResNet: conv_cfg must be None for DCN (mmdet)');
    this.conv2 = this.registerModule(
      'conv2',
      buildConvLayer(o.dcn ?? o.convCfg, { inChannels: width, outChannels: width, kernelSize: 3, stride: conv2Stride, padding: o.dilation, dilation: o.dilation, groups, bias: false, init: KAIMING }),
    );
    this.bn2 = this.registerModule(n2, norm2);
    this.conv3 = this.registerModule('conv3', buildConvLayer(o.convCfg, { inChannels: width, outChannels: o.planes * Bottleneck.expansion, kernelSize: 1, bias: false, init: KAIMING }));
    this.bn3 = this.registerModule(n3, norm3);
    this.downsample = o.downsample ? this.registerModule('downsample', o.downsample) : null;
  }

  get lastNorm(): BatchNorm2d | GroupNorm {
    return this.bn3;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let out = convNormAct(x, this.conv1, this.bn1, true);
      out = convNormAct(out, this.conv2, this.bn2, true);
      out = convNormAct(out, this.conv3, this.bn3, false);
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
    });
  }

  /** ONNX: as `forward` (BatchNorms folded into the plain convs; a deformable conv2 keeps its norm). */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    let out = convNormActOnnx(g, x, this.conv1, this.bn1, true, ['conv1', 'bn1']);
    out = convNormActOnnx(g, out, this.conv2, this.bn2, true, ['conv2', 'bn2']);
    out = convNormActOnnx(g, out, this.conv3, this.bn3, false, ['conv3', 'bn3']);
    const identity = this.downsample ? layerToOnnx(this.downsample, g, x, 'downsample') : x;
    return g.op('Relu', [g.op('Add', [out, identity])]);
  }
}

/** conv 1x1 + norm as one Sequential layer (folds the eval BN like the blocks). */
class ConvNorm extends Sequential {
  override forward(x: tf.Tensor4D): tf.Tensor4D {
    const [conv, norm] = this.layers;
    return convNormAct(x, conv, norm, false);
  }
  override toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    const [conv, norm] = this.layers;
    return convNormActOnnx(g, x, conv, norm, false, ['0', '1']);
  }
}

/** Shortcut of the first block of a stage (mmdet `ResLayer`): [AvgPool2d,] conv1x1, norm. */
export function makeDownsample(o: { inplanes: number; outChannels: number; stride: number; avgDown: boolean; convCfg: ConvCfg | null; normCfg: NormCfg }): Sequential {
  const conv = buildConvLayer(o.convCfg, { inChannels: o.inplanes, outChannels: o.outChannels, kernelSize: 1, stride: o.avgDown ? 1 : o.stride, bias: false, init: KAIMING });
  const [, norm] = buildNormLayer(o.normCfg, o.outChannels);
  if (o.avgDown) return new Sequential([new AvgPool2dCeil(o.stride), conv, norm]);
  return new ConvNorm([conv, norm]);
}

export type BlockClass = (typeof BasicBlock | typeof Bottleneck) & { expansion: number };
