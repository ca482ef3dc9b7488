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
import { ConfigError, Module, SoloError } from '@solo-ts/core';
import { applyInitCfg, ConvModule, coordFeature, interpolate, ModuleList, type ConvCfg, type NormCfg } from '@solo-ts/ops';
import { NamedSequential } from './named-sequential.js';

/** Options of {@link MaskFeatModule} (mmdetection names in camelCase). */
export interface MaskFeatModuleOptions {
  /** Channels of the input levels (forced to the head's in_channels). */
  inChannels: number;
  /** Channels inside the branch. */
  featChannels: number;
  /** First input level used. */
  startLevel: number;
  /** Last input level used (gets the coordinates). */
  endLevel: number;
  /** Output channels E (= the dynamic kernel length). */
  outChannels: number;
  /** Stride of the output relative to the input image (4). */
  maskStride?: number;
  /** Conv type of every conv (null = Conv2d). */
  convCfg?: ConvCfg | null;
  /** Norm of every ConvModule (null = none, convs get a bias). */
  normCfg?: NormCfg | null;
  /** mmengine init_cfg (default Normal(0, 0.01) on every Conv2d). */
  initCfg?: unknown;
}

/** The YAML keys `mask_feature_head` accepts. */
export const MASK_FEATURE_HEAD_KEYS = ['in_channels', 'feat_channels', 'start_level', 'end_level', 'out_channels', 'mask_stride', 'conv_cfg', 'norm_cfg', 'init_cfg'];

export class MaskFeatModule extends Module {
  readonly inChannels: number;
  readonly featChannels: number;
  readonly startLevel: number;
  readonly endLevel: number;
  readonly outChannels: number;
  readonly maskStride: number;
  readonly convsAllLevels: ModuleList<NamedSequential>;
  readonly convPred: ConvModule;

  constructor(o: MaskFeatModuleOptions) {
    super();
    this.inChannels = o.inChannels;
    this.featChannels = o.featChannels;
    this.startLevel = o.startLevel;
    this.endLevel = o.endLevel;
    this.outChannels = o.outChannels;
    this.maskStride = o.maskStride ?? 4;
    if (!(o.startLevel >= 0 && o.endLevel >= o.startLevel)) {
      throw new ConfigError(`MaskFeatModule: need 0 <= start_level <= end_level, got start_level ${o.startLevel}, end_level ${o.endLevel}`);
    }
    const convCfg = o.convCfg ?? null;
    const normCfg = o.normCfg ?? null;
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
          seq.addFunction(`upsample${j}`, up);
        }
      }
      this.convsAllLevels.push(seq);
    }
    this.convPred = this.registerModule('conv_pred', cm(this.featChannels, this.outChannels, 1));
    applyInitCfg(this, o.initCfg === undefined ? [{ type: 'Normal', layer: 'Conv2d', std: 0.01 }] : o.initCfg, 'MaskFeatModule');
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
