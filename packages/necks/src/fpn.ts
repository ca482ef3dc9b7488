// SPDX-License-Identifier: Apache-2.0
/**
 * Feature Pyramid Network (mmdet `FPN`, registry key `FPN`, scope `models`).
 *
 * Inputs: the backbone levels `[n, h_i, w_i, in_channels[i]]` (NHWC, finest first). Outputs `num_outs` maps
 * of `out_channels`: laterals (1x1 ConvModule) of levels `start_level..end_level`, top-down sum with
 * `F.interpolate(upsample_cfg)` (nearest to the exact size of the finer level by default), 3x3 output
 * ConvModules, then extra levels: `max_pool2d(kernel 1, stride 2)` of the last output (P6) without
 * `add_extra_convs`, or stride-2 3x3 convs on the input / lateral / output. No activation unless `act_cfg`.
 * State-dict names: `lateral_convs.{i}.conv.{weight,bias}`, `fpn_convs.{i}.conv.{weight,bias}` (plus `.bn` /
 * `.gn` with `norm_cfg`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, Module, resolveOptions, SoloError, typed, type BuildContext, type FeatureSpec, type Neck, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { ConvModule, interpolate, layerToOnnx, maxPool2d, maxPoolOnnx, ModuleList, resizeByScaleOnnx, resizeLikeOnnx, type ActCfg, type ConvCfg, type InitCfg, type NormCfg, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';

/** `add_extra_convs` of mmdet FPN. */
export type AddExtraConvs = boolean | 'on_input' | 'on_lateral' | 'on_output';
/** `upsample_cfg` of mmdet FPN (F.interpolate keyword arguments). */
export interface UpsampleCfg {
  mode?: 'nearest' | 'bilinear';
  scale_factor?: number;
  align_corners?: boolean;
}

/** The options of {@link FPN} (mmdet `FPN.__init__`), declared once. */
export const fpnOptions = defineOptions({
  in_channels: { type: 'array', items: 'integer', required: true, doc: 'channels of each backbone level (finest first)' },
  out_channels: { type: 'integer', required: true, doc: 'channels of every output level' },
  num_outs: { type: 'integer', required: true, doc: 'number of output levels (extra levels beyond the inputs are added on top)' },
  start_level: { type: 'integer', default: 0, doc: 'first backbone level used' },
  end_level: { type: 'integer', default: -1, doc: 'last backbone level used (-1 = the last one)' },
  add_extra_convs: typed<AddExtraConvs>()({ type: 'any', default: false, doc: "extra levels: false (max-pool), true/'on_input', 'on_lateral' or 'on_output' (stride-2 3x3 convs)" }),
  relu_before_extra_convs: { type: 'boolean', default: false, doc: 'ReLU before each extra conv after the first' },
  no_norm_on_lateral: { type: 'boolean', default: false, doc: 'no norm on the lateral 1x1 convs' },
  conv_cfg: typed<ConvCfg>()({ type: 'object', nullable: true, default: null, doc: 'conv layer config (null = Conv2d)' }),
  norm_cfg: typed<NormCfg>()({ type: 'object', nullable: true, default: null, doc: 'norm layer config (null = none)' }),
  act_cfg: typed<ActCfg>()({ type: 'object', nullable: true, default: null, doc: 'activation config (null = none)' }),
  upsample_cfg: typed<UpsampleCfg>()({ type: 'object', default: { mode: 'nearest' }, doc: 'F.interpolate options of the top-down path: {mode, scale_factor?}' }),
  init_cfg: typed<Record<string, unknown> | Array<Record<string, unknown>>>()({
    type: 'any',
    nullable: true,
    default: { type: 'Xavier', layer: 'Conv2d', distribution: 'uniform' },
    doc: 'initialisation (Xavier uniform)',
  }),
});
/** Resolved options of {@link FPN}. */
export type FPNOptions = ResolvedOptions<typeof fpnOptions>;
/** What code passes to `new FPN(...)`: the options, and the input features the detector supplies. */
export type FPNInput = OptionsInput<typeof fpnOptions> & {
  /** Channels and strides of the inputs (from the backbone's `outFeatures`); default strides 4 * 2^i. */
  inFeatures?: FeatureSpec[];
};

export class FPN extends Module implements Neck {
  static readonly type = 'FPN';
  static readonly description = 'Feature Pyramid Network (mmdet FPN): lateral 1x1 + top-down nearest upsample + 3x3 outputs, P6 by max-pool';
  static readonly options = fpnOptions;

  readonly inChannels: number[];
  readonly outChannels: number;
  readonly numOuts: number;
  readonly startLevel: number;
  readonly backboneEndLevel: number;
  readonly addExtraConvs: false | 'on_input' | 'on_lateral' | 'on_output';
  readonly reluBeforeExtraConvs: boolean;
  readonly upsampleCfg: { mode: 'nearest' | 'bilinear'; scale_factor?: number };
  readonly lateralConvs: ModuleList<ConvModule>;
  readonly fpnConvs: ModuleList<ConvModule>;
  readonly outFeatures: FeatureSpec[];
  readonly initCfg: unknown;

  constructor(input: FPNInput, ctx?: BuildContext) {
    super();
    void ctx;
    const { inFeatures, ...rest } = input;
    const options = resolveOptions(fpnOptions, rest, 'FPN');
    const inC = options.inChannels;
    if (inC.length === 0) throw new SoloError('FPN in_channels must be a list of integers');
    this.inChannels = [...inC];
    this.outChannels = options.outChannels;
    this.numOuts = options.numOuts;
    const numIns = inC.length;
    const start = options.startLevel;
    const end = options.endLevel;
    this.startLevel = start;
    if (end === -1 || end === numIns - 1) {
      this.backboneEndLevel = numIns;
      if (this.numOuts < numIns - start) throw new SoloError(`FPN num_outs ${this.numOuts} must be >= ${numIns - start} (inputs from start_level)`);
    } else {
      this.backboneEndLevel = end + 1;
      if (end >= numIns) throw new SoloError(`FPN end_level ${end} must be < ${numIns}`);
      if (this.numOuts !== end - start + 1) throw new SoloError(`FPN num_outs must be end_level - start_level + 1 = ${end - start + 1} when end_level is not the last level`);
    }
    const extra = options.addExtraConvs;
    if (typeof extra !== 'boolean' && !['on_input', 'on_lateral', 'on_output'].includes(extra)) {
      throw new SoloError(`FPN add_extra_convs must be a boolean or one of on_input, on_lateral, on_output, got ${JSON.stringify(extra)}`);
    }
    this.addExtraConvs = extra === true ? 'on_input' : extra === false ? false : extra;
    this.reluBeforeExtraConvs = options.reluBeforeExtraConvs;
    const up = options.upsampleCfg;
    if (up.align_corners) throw new SoloError('FPN upsample_cfg.align_corners=True is not supported');
    const upKeys = Object.keys(up).filter((k) => !['mode', 'scale_factor', 'align_corners'].includes(k));
    if (upKeys.length) throw new SoloError(`FPN upsample_cfg: ${upKeys.join(', ')} not supported (keys: mode, scale_factor, align_corners)`, { code: 'CONFIG' });
    if (up.mode !== undefined && up.mode !== 'nearest' && up.mode !== 'bilinear') {
      throw new SoloError(`FPN upsample_cfg.mode must be nearest or bilinear, got ${JSON.stringify(up.mode)}`, { code: 'CONFIG' });
    }
    this.upsampleCfg = { mode: up.mode ?? 'nearest', scale_factor: up.scale_factor };
    this.initCfg = options.initCfg;
    const init: InitCfg | undefined = xavierFromInitCfg(this.initCfg);
    const common = { convCfg: options.convCfg, actCfg: options.actCfg, init };
    const normCfg = options.normCfg;
    this.lateralConvs = this.registerModule('lateral_convs', new ModuleList<ConvModule>());
    this.fpnConvs = this.registerModule('fpn_convs', new ModuleList<ConvModule>());
    for (let i = start; i < this.backboneEndLevel; i++) {
      this.lateralConvs.push(new ConvModule({ inChannels: inC[i], outChannels: this.outChannels, kernelSize: 1, normCfg: options.noNormOnLateral ? null : normCfg, ...common }));
      this.fpnConvs.push(new ConvModule({ inChannels: this.outChannels, outChannels: this.outChannels, kernelSize: 3, padding: 1, normCfg, ...common }));
    }
    const extraLevels = this.numOuts - this.backboneEndLevel + start;
    if (this.addExtraConvs && extraLevels >= 1) {
      for (let i = 0; i < extraLevels; i++) {
        const c = i === 0 && this.addExtraConvs === 'on_input' ? inC[this.backboneEndLevel - 1] : this.outChannels;
        this.fpnConvs.push(new ConvModule({ inChannels: c, outChannels: this.outChannels, kernelSize: 3, stride: 2, padding: 1, normCfg, ...common }));
      }
    }
    const inStrides = inFeatures?.map((f) => f.stride) ?? inC.map((_, i) => 4 * 2 ** i);
    this.outFeatures = [];
    for (let i = 0; i < this.numOuts; i++) {
      const lvl = start + i;
      const stride = lvl < this.backboneEndLevel ? inStrides[lvl] : inStrides[this.backboneEndLevel - 1] * 2 ** (lvl - this.backboneEndLevel + 1);
      this.outFeatures.push({ channels: this.outChannels, stride });
    }
  }

  /** ONNX: as `forward` (NCHW); the top-down upsampling takes the finer level's runtime size. */
  toOnnx(g: OnnxGraph, inputs: OnnxValue[]): OnnxValue[] {
    if (inputs.length !== this.inChannels.length) {
      throw new SoloError(`FPN got ${inputs.length} feature maps`, { expected: `${this.inChannels.length} (in_channels ${JSON.stringify(this.inChannels)})` });
    }
    const laterals = this.lateralConvs.items.map((conv, i) => layerToOnnx(conv, g, inputs[i + this.startLevel], `lateral_convs.${i}`));
    const used = laterals.length;
    for (let i = used - 1; i > 0; i--) {
      const up = g.scope(`upsample${i}`, () =>
        this.upsampleCfg.scale_factor !== undefined
          ? resizeByScaleOnnx(g, laterals[i], this.upsampleCfg.mode, this.upsampleCfg.scale_factor)
          : resizeLikeOnnx(g, laterals[i], laterals[i - 1], this.upsampleCfg.mode),
      );
      laterals[i - 1] = g.op('Add', [laterals[i - 1], up]);
    }
    const outs = laterals.map((l, i) => layerToOnnx(this.fpnConvs.at(i), g, l, `fpn_convs.${i}`));
    if (this.numOuts > outs.length) {
      if (!this.addExtraConvs) {
        for (let i = 0; i < this.numOuts - used; i++) outs.push(maxPoolOnnx(g, outs[outs.length - 1], 1, 2, 0));
      } else {
        const source = this.addExtraConvs === 'on_input' ? inputs[this.backboneEndLevel - 1] : this.addExtraConvs === 'on_lateral' ? laterals[laterals.length - 1] : outs[outs.length - 1];
        outs.push(layerToOnnx(this.fpnConvs.at(used), g, source, `fpn_convs.${used}`));
        for (let i = used + 1; i < this.numOuts; i++) {
          const prev = outs[outs.length - 1];
          outs.push(layerToOnnx(this.fpnConvs.at(i), g, this.reluBeforeExtraConvs ? g.op('Relu', [prev]) : prev, `fpn_convs.${i}`));
        }
      }
    }
    return outs;
  }

  forward(inputs: tf.Tensor4D[]): tf.Tensor4D[] {
    if (inputs.length !== this.inChannels.length) {
      throw new SoloError(`FPN got ${inputs.length} feature maps`, { expected: `${this.inChannels.length} (in_channels ${JSON.stringify(this.inChannels)})` });
    }
    return tf.tidy(() => {
      const laterals = this.lateralConvs.items.map((conv, i) => conv.forward(inputs[i + this.startLevel]));
      const used = laterals.length;
      for (let i = used - 1; i > 0; i--) {
        const [, h, w] = laterals[i - 1].shape;
        const up =
          this.upsampleCfg.scale_factor !== undefined
            ? interpolate(laterals[i], { mode: this.upsampleCfg.mode, scaleFactor: this.upsampleCfg.scale_factor })
            : interpolate(laterals[i], { mode: this.upsampleCfg.mode, size: [h, w] });
        laterals[i - 1] = tf.add(laterals[i - 1], up) as tf.Tensor4D;
      }
      const outs = laterals.map((l, i) => this.fpnConvs.at(i).forward(l));
      if (this.numOuts > outs.length) {
        if (!this.addExtraConvs) {
          for (let i = 0; i < this.numOuts - used; i++) outs.push(maxPool2d(outs[outs.length - 1], 1, 2, 0));
        } else {
          const source =
            this.addExtraConvs === 'on_input' ? inputs[this.backboneEndLevel - 1] : this.addExtraConvs === 'on_lateral' ? laterals[laterals.length - 1] : outs[outs.length - 1];
          outs.push(this.fpnConvs.at(used).forward(source));
          for (let i = used + 1; i < this.numOuts; i++) {
            const prev = outs[outs.length - 1];
            outs.push(this.fpnConvs.at(i).forward(this.reluBeforeExtraConvs ? (tf.relu(prev) as tf.Tensor4D) : prev));
          }
        }
      }
      return outs;
    });
  }
}

/** The conv init implied by an mmcv init_cfg (Xavier entries; anything else -> mmcv ConvModule's Kaiming). */
function xavierFromInitCfg(cfg: unknown): InitCfg | undefined {
  const list = Array.isArray(cfg) ? cfg : cfg ? [cfg] : [];
  for (const c of list as Array<Record<string, unknown>>) {
    if (c && c.type === 'Xavier') {
      return { type: 'xavier', distribution: (c.distribution as 'uniform' | 'normal') ?? 'normal', gain: (c.gain as number) ?? 1, bias: (c.bias as number) ?? 0 };
    }
  }
  return undefined;
}
