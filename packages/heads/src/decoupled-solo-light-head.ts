// SPDX-License-Identifier: Apache-2.0
/**
 * Decoupled SOLO light head, mmdetection `DecoupledSOLOLightHead`; registry key `DecoupledSOLOLightHead`
 * (scope `models`).
 *
 * One shared mask tower `mask_convs` on [feat, x, y] (4 convs in the shipped config), bilinear x2, then the
 * per-level 3x3 `conv_mask_list_x` / `conv_mask_list_y` convs on the same feature. `dcn_cfg` (optional) turns the
 * last conv of both towers into that conv type. Outputs, loss and inference as DecoupledSOLOHead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, typed, type BuildContext, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { concatCoordsOnnx, ConvModule, coordFeature, interpolate, layerToOnnx, ModuleList, resizeByScaleOnnx, type ConvCfg, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { DecoupledSOLOHead, decoupledSOLOHeadOptions } from './decoupled-solo-head.js';

/** The options of {@link DecoupledSOLOLightHead}: DecoupledSOLOHead's and `dcn_cfg`. */
export const decoupledSOLOLightHeadOptions = defineOptions({
  ...decoupledSOLOHeadOptions,
  dcn_cfg: typed<ConvCfg>()({ type: 'object', nullable: true, doc: 'conv_cfg of the last conv of the mask and cls towers (e.g. {type: DCNv2}); null = plain conv' }),
});
/** Resolved options of {@link DecoupledSOLOLightHead}. */
export type DecoupledSOLOLightHeadOptions = ResolvedOptions<typeof decoupledSOLOLightHeadOptions>;
/** What code passes to `new DecoupledSOLOLightHead(...)`. */
export type DecoupledSOLOLightHeadInput = OptionsInput<typeof decoupledSOLOLightHeadOptions>;

export class DecoupledSOLOLightHead extends DecoupledSOLOHead {
  static override readonly type: string = 'DecoupledSOLOLightHead';
  static override readonly description: string = 'Decoupled SOLO light mask head: one shared mask tower for the x and y masks';
  static override readonly options = decoupledSOLOLightHeadOptions;

  declare maskConvs: ModuleList<ConvModule>;

  constructor(options: DecoupledSOLOLightHeadInput, ctx: BuildContext) {
    super(options, ctx);
  }

  /** `options`: this head's resolved options (the base resolves the concrete class's declaration). */
  protected override initLayers(options: DecoupledSOLOLightHeadOptions): void {
    const dcnCfg = options.dcnCfg ?? null;
    this.maskConvs = this.registerModule('mask_convs', new ModuleList<ConvModule>());
    this.clsConvs = this.registerModule('cls_convs', new ModuleList<ConvModule>());
    for (let i = 0; i < this.stackedConvs; i++) {
      const convCfg = dcnCfg && i === this.stackedConvs - 1 ? dcnCfg : null;
      this.maskConvs.push(this.towerConv(i === 0 ? this.inChannels + 2 : this.featChannels, convCfg));
      this.clsConvs.push(this.towerConv(i === 0 ? this.inChannels : this.featChannels, convCfg));
    }
    this.initOutputConvs();
  }

  protected override maskXYOnnx(g: OnnxGraph, feat: OnnxValue, l: number): [OnnxValue, OnnxValue] {
    let f = concatCoordsOnnx(g, feat);
    this.maskConvs.items.forEach((layer, i) => (f = layerToOnnx(layer, g, f, `mask_convs.${i}`)));
    f = resizeByScaleOnnx(g, f, 'bilinear', 2);
    return [layerToOnnx(this.convMaskListX.at(l), g, f, `conv_mask_list_x.${l}`), layerToOnnx(this.convMaskListY.at(l), g, f, `conv_mask_list_y.${l}`)];
  }

  protected override maskXY(feat: tf.Tensor4D, l: number): [tf.Tensor4D, tf.Tensor4D] {
    return tf.tidy(() => {
      const [b, h, w] = feat.shape;
      let f = tf.concat([feat, coordFeature(b, h, w)], 3) as tf.Tensor4D;
      for (const layer of this.maskConvs) f = layer.forward(f);
      f = interpolate(f, { scaleFactor: 2, mode: 'bilinear' });
      return [this.convMaskListX.at(l).forward(f), this.convMaskListY.at(l).forward(f)];
    });
  }
}
