// SPDX-License-Identifier: Apache-2.0
/**
 * SOLOv2 head (Wang et al., "SOLOv2: Dynamic and Fast Instance Segmentation", https://arxiv.org/abs/2003.10152),
 * mmdetection `SOLOV2Head`; registry key `SOLOV2Head` (scope `models`).
 *
 * - `mask_feature_head` (MaskFeatModule) turns P2..P5 into unified mask features F `[B, H/4, W/4, E]`.
 * - Per level l (after `resize_feats`): [feat, x, y] resized to G_l x G_l; the kernel tower + `conv_kernel` give
 *   dynamic kernels `[B, G, G, E]`; the cls tower (on the feature channels only) + `conv_cls` give logits
 *   `[B, G, G, C]`. `forward` returns raw kernels, raw logits and F in training and eval alike.
 * - Instance mask of cell k: sigmoid(sum_e K_ke F_e) (a 1x1 dynamic conv, computed as a matMul).
 * DCN: with `dcn_cfg`, every tower conv (`dcn_apply_to_all_conv`) or only the last of each tower is of that type.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, defineOptions, typed, type ArrayTensor, type BuildContext, type MaskHeadRawOutputs, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { concatCoordsOnnx, Conv2d, ConvModule, coordFeature, layerToOnnx, ModuleList, resizeBilinear, resizeToSizeOnnx, type ConvCfg, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { BaseMaskHead } from './base-mask-head.js';
import { oneHotColumns, type CandidateSource, type LossFeatures } from './head-features.js';
import { soloHeadOptions, soloInitCfg } from './head-options.js';
import { MaskFeatModule, maskFeatModuleInput } from './mask-feat-module.js';
import { arrayToNhwc, levelOfCell, levelStarts, rawLevels, rawMap } from './raw-outputs.js';

/** The options of {@link SOLOV2Head} (mmdet `SOLOV2Head.__init__`): SOLOHead's and the SOLOv2 ones. */
export const solov2HeadOptions = defineOptions({
  ...soloHeadOptions,
  init_cfg: { ...soloHeadOptions.init_cfg, default: soloInitCfg(['conv_cls']) },
  mask_feature_head: {
    type: 'object',
    required: true,
    doc: 'MaskFeatModule settings: feat_channels, start_level, end_level, out_channels (E), mask_stride, conv_cfg, norm_cfg',
  },
  dynamic_conv_size: { type: 'integer', default: 1, doc: 'size of the dynamic kernels (only 1, as in every mmdetection config)' },
  dcn_cfg: typed<ConvCfg>()({ type: 'object', nullable: true, doc: 'conv_cfg of the tower convs (e.g. {type: DCNv2}); null = plain conv' }),
  dcn_apply_to_all_conv: { type: 'boolean', default: true, doc: 'with dcn_cfg: all tower convs (true) or only the last one of each tower (false, light head)' },
});
/** Resolved options of {@link SOLOV2Head} (camelCase, defaults filled in). */
export type SOLOV2HeadOptions = ResolvedOptions<typeof solov2HeadOptions>;
/** What code passes to `new SOLOV2Head(...)`. */
export type SOLOV2HeadInput = OptionsInput<typeof solov2HeadOptions>;

/**
 * Outputs of `SOLOV2Head.forward` as plain NCHW arrays (mmdet's `forward`, raw in training and test mode), the
 * input of `predictByFeat`.
 */
export type SOLOV2HeadRawOutputs = {
  /** Per level `[B, E, G, G]` dynamic kernels. */
  mlvlKernelPreds: ArrayTensor[];
  /** Per level `[B, C, G, G]` class logits (sigmoid and point NMS are part of the post-processing). */
  mlvlClsPreds: ArrayTensor[];
  /** `[B, E, H/4, W/4]` unified mask features. */
  maskFeats: ArrayTensor;
};

/** Outputs of `SOLOV2Head.forward` (NHWC, raw in training and eval). */
export interface SOLOV2HeadOutputs {
  /** Per level `[B, G, G, E]` dynamic kernels. */
  mlvlKernelPreds: tf.Tensor4D[];
  /** Per level `[B, G, G, C]` logits. */
  mlvlClsPreds: tf.Tensor4D[];
  /** `[B, H/4, W/4, E]` unified mask features. */
  maskFeats: tf.Tensor4D;
}

export class SOLOV2Head extends BaseMaskHead {
  static override readonly type: string = 'SOLOV2Head';
  static override readonly description: string = 'SOLOv2 mask head: dynamic 1x1 mask kernels per grid cell applied to unified mask features';
  static override readonly options = solov2HeadOptions;

  declare kernelConvs: ModuleList<ConvModule>;
  declare convKernel: Conv2d;
  declare maskFeatureHead: MaskFeatModule;
  declare kernelOutChannels: number;
  declare maskStride: number;

  constructor(options: SOLOV2HeadInput, ctx: BuildContext) {
    super(options, ctx);
  }

  protected override assignerSettings(): Record<string, unknown> {
    return { ...super.assignerSettings(), mode: 'solov2', mask_stride: this.maskStride };
  }

  protected initLayers(options: SOLOV2HeadOptions): void {
    const dcs = options.dynamicConvSize;
    if (dcs !== 1) throw new ConfigError(`SOLOV2Head: dynamic_conv_size ${dcs} is not supported (only 1, the value of every mmdetection config)`);
    // mmdet: the mask feature branch always takes the head's in_channels
    this.maskFeatureHead = this.registerModule('mask_feature_head', new MaskFeatModule(maskFeatModuleInput(options.maskFeatureHead, this.inChannels, this.typeName)));
    this.maskStride = this.maskFeatureHead.maskStride;
    this.kernelOutChannels = this.maskFeatureHead.outChannels * dcs * dcs;
    const dcnCfg = options.dcnCfg ?? null;
    const allConv = options.dcnApplyToAllConv;
    this.clsConvs = this.registerModule('cls_convs', new ModuleList<ConvModule>());
    this.kernelConvs = this.registerModule('kernel_convs', new ModuleList<ConvModule>());
    for (let i = 0; i < this.stackedConvs; i++) {
      const convCfg = dcnCfg && (allConv || i === this.stackedConvs - 1) ? dcnCfg : null;
      this.kernelConvs.push(this.towerConv(i === 0 ? this.inChannels + 2 : this.featChannels, convCfg));
      this.clsConvs.push(this.towerConv(i === 0 ? this.inChannels : this.featChannels, convCfg));
    }
    this.convCls = this.registerModule('conv_cls', new Conv2d({ inChannels: this.featChannels, outChannels: this.numClasses, kernelSize: 3, padding: 1 }));
    this.convKernel = this.registerModule('conv_kernel', new Conv2d({ inChannels: this.featChannels, outChannels: this.kernelOutChannels, kernelSize: 3, padding: 1 }));
  }

  /** Kernel and cls logits of level `l`. */
  protected kernelAndCls(feat: tf.Tensor4D, l: number): [tf.Tensor4D, tf.Tensor4D] {
    return tf.tidy(() => {
      const [b, h, w, c] = feat.shape;
      const g = this.numGrids[l];
      const kf0 = resizeBilinear(tf.concat([feat, coordFeature(b, h, w)], 3) as tf.Tensor4D, [g, g]);
      let cate = tf.slice(kf0, [0, 0, 0, 0], [b, g, g, c]) as tf.Tensor4D;
      let kf = kf0;
      for (const layer of this.kernelConvs) kf = layer.forward(kf);
      for (const layer of this.clsConvs) cate = layer.forward(cate);
      return [this.convKernel.forward(kf), this.convCls.forward(cate)];
    });
  }

  /** ONNX: {@link SOLOV2HeadRawOutputs} (raw kernels and logits per level, the mask features). */
  override toOnnx(g: OnnxGraph, feats: OnnxValue[]): Record<string, OnnxValue | OnnxValue[]> {
    const maskFeats = g.scope('mask_feature_head', () => this.maskFeatureHead.toOnnx(g, feats));
    const resized = this.resizeFeatsOnnx(g, feats);
    const mlvlKernelPreds: OnnxValue[] = [];
    const mlvlClsPreds: OnnxValue[] = [];
    resized.forEach((feat, l) =>
      g.scope(`level${l}`, () => {
        const grid = this.numGrids[l];
        const kf0 = resizeToSizeOnnx(g, concatCoordsOnnx(g, feat), 'bilinear', [grid, grid]);
        let cate = g.op('Slice', [kf0, g.int64([0]), g.int64([this.inChannels]), g.int64([1])]);
        let kf = kf0;
        this.kernelConvs.items.forEach((layer, i) => (kf = layerToOnnx(layer, g, kf, `kernel_convs.${i}`)));
        this.clsConvs.items.forEach((layer, i) => (cate = layerToOnnx(layer, g, cate, `cls_convs.${i}`)));
        mlvlKernelPreds.push(layerToOnnx(this.convKernel, g, kf, 'conv_kernel'));
        mlvlClsPreds.push(layerToOnnx(this.convCls, g, cate, 'conv_cls'));
      }),
    );
    return { mlvlKernelPreds, mlvlClsPreds, maskFeats };
  }

  /** Raw outputs, the same in training and eval (mmdet `SOLOV2Head.forward`). */
  forward(x: tf.Tensor4D[]): SOLOV2HeadOutputs {
    this.checkInputs(x);
    return tf.tidy(() => {
      const maskFeats = this.maskFeatureHead.forward(x);
      const kc = this.resizeFeats(x).map((f, l) => this.kernelAndCls(f, l));
      return { mlvlKernelPreds: kc.map((p) => p[0]), mlvlClsPreds: kc.map((p) => p[1]), maskFeats };
    });
  }

  /** Dynamic conv: kernels `[n, E]` on image `b` of `[B, h, w, E]` features -> logits `[n, h, w]`. */
  protected dynamicConv(maskFeats: tf.Tensor4D, b: number, kernels: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [, h, w, e] = maskFeats.shape;
      const f = tf.reshape(tf.slice(maskFeats, [b, 0, 0, 0], [1, h, w, e]), [h * w, e]);
      return tf.reshape(tf.matMul(kernels, f, false, true), [kernels.shape[0], h, w]) as tf.Tensor3D;
    });
  }

  /** Training form: the positives' kernels (one-hot matmul: differentiable) applied to the mask features. */
  protected lossFeatures(x: tf.Tensor4D[]): LossFeatures {
    const { mlvlKernelPreds, mlvlClsPreds, maskFeats } = this.forward(x);
    return {
      clsPreds: mlvlClsPreds,
      featmapSizes: [[maskFeats.shape[1], maskFeats.shape[2]]],
      maskOutputs: [maskFeats],
      positivePreds: (l, b, t) => {
        const g2 = this.numGrids[l] ** 2;
        const kl = mlvlKernelPreds[l];
        const k = tf.reshape(tf.slice(kl, [b, 0, 0, 0], [1, ...kl.shape.slice(1)] as [number, number, number, number]), [g2, this.kernelOutChannels]);
        const ksel = tf.matMul(oneHotColumns(t.posIndex, g2, true), k) as tf.Tensor2D;
        return this.dynamicConv(maskFeats, b, ksel);
      },
    };
  }

  /** Candidates' probabilities: sigmoid of the dynamic conv of their kernels with the image's mask features. */
  protected predictFeatures(x: tf.Tensor4D[]): CandidateSource {
    const { kernels, cls, maskFeats } = tf.tidy(() => {
      const out = this.forward(x);
      const b = out.maskFeats.shape[0];
      return {
        // [B, cells, E], levels concatenated in row-major cell order
        kernels: tf.concat(out.mlvlKernelPreds.map((k) => tf.reshape(k, [b, -1, this.kernelOutChannels])), 1) as tf.Tensor3D,
        cls: out.mlvlClsPreds.map((c) => this.clsScores(c)),
        maskFeats: out.maskFeats,
      };
    });
    return {
      scores: () => this.readScores(cls),
      maskProbs: (b, cells) => {
        const [, n, e] = kernels.shape;
        const kb = tf.reshape(tf.slice(kernels, [b, 0, 0], [1, n, e]), [n, e]);
        const ksel = tf.gather(kb, tf.tensor1d(cells, 'int32'), 0) as tf.Tensor2D;
        return tf.sigmoid(this.dynamicConv(maskFeats, b, ksel)) as tf.Tensor3D;
      },
      dispose: () => tf.dispose([kernels, maskFeats, ...cls]),
    };
  }

  /**
   * {@link SOLOV2HeadRawOutputs}: sigmoid and point NMS of the class logits, then the candidates' kernels (host
   * gather) applied to the image's mask features as one matMul `[n, E] x [E, H/4 * W/4]`.
   */
  protected rawFeatures(outputs: MaskHeadRawOutputs, batchSize: number): CandidateSource {
    const where = this.typeName;
    const e = this.kernelOutChannels;
    const cls = rawLevels(outputs, 'mlvlClsPreds', this.numLevels, (l) => [batchSize, this.numClasses, this.numGrids[l], this.numGrids[l]], where);
    const kernels = rawLevels(outputs, 'mlvlKernelPreds', this.numLevels, (l) => [batchSize, e, this.numGrids[l], this.numGrids[l]], where);
    const feats = rawMap(outputs, 'maskFeats', [batchSize, e], where);
    const [, , h, w] = feats.shape;
    const starts = levelStarts(this.numGrids);
    return {
      scores: async () => {
        const scores = tf.tidy(() => cls.map((a) => this.clsScores(arrayToNhwc(a))));
        try {
          return await this.readScores(scores);
        } finally {
          tf.dispose(scores);
        }
      },
      maskProbs: (b, cells) => {
        const n = cells.length;
        const ksel = new Float32Array(n * e);
        cells.forEach((cell, k) => {
          const l = levelOfCell(cell, starts);
          const g2 = this.numGrids[l] ** 2;
          const src = kernels[l].data;
          for (let c = 0; c < e; c++) ksel[k * e + c] = src[(b * e + c) * g2 + cell - starts[l]];
        });
        const f = tf.tensor2d(feats.data.subarray(b * e * h * w, (b + 1) * e * h * w), [e, h * w], 'float32');
        return tf.reshape(tf.sigmoid(tf.matMul(tf.tensor2d(ksel, [n, e], 'float32'), f)), [n, h, w]) as tf.Tensor3D;
      },
      dispose: () => {},
    };
  }
}
