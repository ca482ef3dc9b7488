// SPDX-License-Identifier: Apache-2.0
/**
 * SOLOv2 mask feature branch, mmdetection `MaskFeatModule` (built by SOLOV2Head from `mask_feature_head`).
 *
 * Levels `start_level..end_level` of the FPN (P2..P5 in the shipped configs) each go through ConvModules
 * (3x3 + norm + ReLU) and bilinear x2 upsamples until they reach the resolution of `start_level`; the last level
 * gets the [x, y] coordinates first. The branch outputs are summed and `conv_pred` (1x1 ConvModule) maps them to
 * `out_channels` E: `[B, H/4, W/4, E]`. State-dict names: `convs_all_levels.{l}.conv{j}.*`, `conv_pred.*`
 * (the `upsample{j}` steps have no parameters). With `conv_cfg` every conv is of that type (DCNv2 configs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, defineOptions, Module, resolveOptions, snakeToCamel, SoloError, typed, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { applyInitCfg, concatCoordsOnnx, ConvModule, coordFeature, interpolate, layerToOnnx, ModuleList, resizeByScaleOnnx, type ConvCfg, type NormCfg, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { NamedSequential } from './named-sequential.js';

/**
 * The options of {@link MaskFeatModule} (mmdet `MaskFeatModule.__init__`), declared once: SOLOV2Head's
 * `mask_feature_head` map is checked against them (see {@link maskFeatModuleInput}).
 */
export const maskFeatModuleOptions = defineOptions({
  in_channels: { type: 'integer', doc: "channels of the input levels (the head's in_channels; a different value is an error)" },
  feat_channels: { type: 'integer', required: true, doc: 'channels inside the branch' },
  start_level: { type: 'integer', required: true, doc: 'first input level used' },
  end_level: { type: 'integer', required: true, doc: 'last input level used (gets the coordinates)' },
  out_channels: { type: 'integer', required: true, doc: 'output channels E (= the dynamic kernel length)' },
  mask_stride: { type: 'integer', default: 4, doc: 'stride of the output relative to the input image' },
  conv_cfg: typed<ConvCfg>()({ type: 'object', nullable: true, default: null, doc: 'conv type of every conv (null = Conv2d)' }),
  norm_cfg: typed<NormCfg>()({ type: 'object', nullable: true, default: null, doc: 'norm of every ConvModule (null = none, convs get a bias)' }),
  init_cfg: typed<Record<string, unknown> | Array<Record<string, unknown>>>()({
    type: 'any',
    nullable: true,
    default: [{ type: 'Normal', layer: 'Conv2d', std: 0.01 }],
    doc: 'mmengine init_cfg (Normal(0, 0.01) on every Conv2d)',
  }),
});
/** Resolved options of {@link MaskFeatModule} (camelCase, defaults filled in). */
export type MaskFeatModuleOptions = ResolvedOptions<typeof maskFeatModuleOptions>;
/** What code passes to `new MaskFeatModule(...)`. */
export type MaskFeatModuleInput = OptionsInput<typeof maskFeatModuleOptions>;

/**
 * SOLOV2Head's `mask_feature_head` map (YAML spelling, mmdet builds `MaskFeatModule(**mask_feature_head)`) as the
 * module's input, with the head's `in_channels`: unknown keys are errors (in the YAML spelling), `type` may only
 * name MaskFeatModule, and an `in_channels` other than the head's is an error (mmdet overrides it with a warning).
 */
export function maskFeatModuleInput(map: Record<string, unknown>, inChannels: number, where: string): MaskFeatModuleOptions {
  const names = Object.keys(maskFeatModuleOptions);
  const camel: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    if (k === 'type') {
      if (v !== 'MaskFeatModule') throw new ConfigError(`${where}: mask_feature_head.type must be MaskFeatModule (or left out), got ${JSON.stringify(v)}`);
      continue;
    }
    if (!names.includes(k)) throw new ConfigError(`${where}: unknown mask_feature_head option \`${k}\``, { expected: names.join(', ') });
    camel[snakeToCamel(k)] = v;
  }
  if (camel.inChannels !== undefined && camel.inChannels !== inChannels) {
    throw new ConfigError(`${where}: mask_feature_head.in_channels (${JSON.stringify(camel.inChannels)}) must equal the head's in_channels (${inChannels}); leave it out`);
  }
  // the keys are the declared ones (checked above); resolveOptions checks their values
  return resolveOptions(maskFeatModuleOptions, { ...(camel as MaskFeatModuleInput), inChannels }, `${where} mask_feature_head`);
}

export class MaskFeatModule extends Module {
  readonly inChannels: number;
  readonly featChannels: number;
  readonly startLevel: number;
  readonly endLevel: number;
  readonly outChannels: number;
  readonly maskStride: number;
  readonly convsAllLevels: ModuleList<NamedSequential>;
  readonly convPred: ConvModule;

  constructor(options: MaskFeatModuleInput) {
    super();
    const o = resolveOptions(maskFeatModuleOptions, options, 'MaskFeatModule');
    if (o.inChannels === undefined) throw new ConfigError('MaskFeatModule needs in_channels (SOLOV2Head passes its own)');
    this.inChannels = o.inChannels;
    this.featChannels = o.featChannels;
    this.startLevel = o.startLevel;
    this.endLevel = o.endLevel;
    this.outChannels = o.outChannels;
    this.maskStride = o.maskStride;
    if (!(o.startLevel >= 0 && o.endLevel >= o.startLevel)) {
      throw new ConfigError(`MaskFeatModule: need 0 <= start_level <= end_level, got start_level ${o.startLevel}, end_level ${o.endLevel}`);
    }
    const convCfg = o.convCfg;
    const normCfg = o.normCfg;
    const cm = (inC: number, outC: number, k: number): ConvModule =>
      new ConvModule({ inChannels: inC, outChannels: outC, kernelSize: k, padding: k === 3 ? 1 : 0, convCfg, normCfg });
    const up = (x: tf.Tensor4D): tf.Tensor4D => interpolate(x, { scaleFactor: 2, mode: 'bilinear' });
    this.convsAllLevels = this.registerModule('convs_all_levels', new ModuleList<NamedSequential>());
    for (let i = this.startLevel; i <= this.endLevel; i++) {
      const seq = new NamedSequential();
      if (i === 0) {
        seq.addModule(`conv${i}`, cm(this.inChannels, this.featChannels, 3));
      } else {
        for (let j = 0; j < i; j++) {
          const chn = j === 0 ? (i === this.endLevel ? this.inChannels + 2 : this.inChannels) : this.featChannels;
          seq.addModule(`conv${j}`, cm(chn, this.featChannels, 3));
          seq.addFunction(`upsample${j}`, up, (g, x) => resizeByScaleOnnx(g, x, 'bilinear', 2));
        }
      }
      this.convsAllLevels.push(seq);
    }
    this.convPred = this.registerModule('conv_pred', cm(this.featChannels, this.outChannels, 1));
    applyInitCfg(this, o.initCfg, 'MaskFeatModule');
  }

  /** ONNX: as `forward` on NCHW values; returns `[B, E, H_s, W_s]`. */
  toOnnx(g: OnnxGraph, x: OnnxValue[]): OnnxValue {
    const inputs = x.slice(this.startLevel, this.endLevel + 1);
    if (inputs.length !== this.endLevel - this.startLevel + 1) {
      throw new SoloError(`MaskFeatModule: needs feature levels ${this.startLevel}..${this.endLevel}, got ${x.length} levels`, { code: 'SHAPE' });
    }
    let sum = layerToOnnx(this.convsAllLevels.at(0), g, inputs[0], 'convs_all_levels.0');
    for (let i = 1; i < inputs.length; i++) {
      const inp = i === inputs.length - 1 ? concatCoordsOnnx(g, inputs[i]) : inputs[i];
      sum = g.op('Add', [sum, layerToOnnx(this.convsAllLevels.at(i), g, inp, `convs_all_levels.${i}`)]);
    }
    return layerToOnnx(this.convPred, g, sum, 'conv_pred');
  }

  /** `x`: all FPN levels (NHWC); uses `x[start_level..end_level]`. Returns `[B, H_s, W_s, E]`. */
  forward(x: tf.Tensor4D[]): tf.Tensor4D {
    const inputs = x.slice(this.startLevel, this.endLevel + 1);
    if (inputs.length !== this.endLevel - this.startLevel + 1) {
      throw new SoloError(`MaskFeatModule: needs feature levels ${this.startLevel}..${this.endLevel}, got ${x.length} levels`, { code: 'SHAPE' });
    }
    return tf.tidy(() => {
      let sum = this.convsAllLevels.at(0).forward(inputs[0]);
      for (let i = 1; i < inputs.length; i++) {
        let inp = inputs[i];
        if (i === inputs.length - 1) {
          const [b, h, w] = inp.shape;
          inp = tf.concat([inp, coordFeature(b, h, w)], 3) as tf.Tensor4D;
        }
        sum = tf.add(sum, this.convsAllLevels.at(i).forward(inp));
      }
      return this.convPred.forward(sum);
    });
  }
}
