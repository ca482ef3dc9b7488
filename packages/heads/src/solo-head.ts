// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO head (Wang et al., "SOLO: Segmenting Objects by Locations", https://arxiv.org/abs/1912.04488), mmdetection
 * `SOLOHead`; registry key `SOLOHead` (scope `models`).
 *
 * Input: 5 FPN levels NHWC `[B, H/4 .. H/64, W/.., in_channels]`, resized by `resize_feats` to strides
 * 8, 8, 16, 32, 32. Per level l with grid G_l:
 * - mask branch: [feat, x, y] -> `mask_convs` (shared across levels) -> bilinear x2 -> `conv_mask_list[l]` (1x1)
 *   = mask logits `[B, 2h_l, 2w_l, G_l^2]`;
 * - cls branch: resize to G_l x G_l before conv `cls_down_index` -> `cls_convs` -> `conv_cls` = `[B, G, G, C]`.
 * Eval form (`training` false): mask sigmoid resized to `[B, H/4, W/4, G^2]`, cls sigmoid with point NMS.
 *
 * Collaborators built from config: `loss_mask` (Dice), `loss_cls` (Focal), `assigner` (SOLOGridAssigner),
 * `postprocessor` (SOLOMaskPostProcessor). Loss and predict compute the mask logits only for the channels they
 * need (positives / candidates) by selecting columns of the 1x1 conv weights, which is the same arithmetic as
 * the full conv followed by a channel gather, without the `[B, H/4, W/4, 3872]` tensor. `predictByFeat` takes
 * the eval-form outputs as plain arrays ({@link SOLOHeadRawOutputs}) and gathers the candidates' channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ArrayTensor, MaskHeadRawOutputs } from '@solo-ts/core';
import { concatCoordsOnnx, Conv2d, ConvModule, coordFeature, interpolate, layerToOnnx, ModuleList, resizeBilinear, resizeByScaleOnnx, resizeLikeOnnx, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { BaseMaskHead } from './base-mask-head.js';
import { oneHotColumns, type CandidateSource, type LossFeatures } from './head-features.js';
import { soloHeadOptions } from './head-options.js';
import { channelView, flatScores, levelOfCell, levelStarts, rawLevels, sameMapSize } from './raw-outputs.js';

/** Outputs of `SOLOHead.forward` (NHWC tensors). */
export interface SOLOHeadOutputs {
  /** Per level: training `[B, 2h, 2w, G^2]` logits; eval `[B, H/4, W/4, G^2]` probabilities. */
  mlvlMaskPreds: tf.Tensor4D[];
  /** Per level `[B, G, G, C]`: training logits; eval sigmoid scores after point NMS. */
  mlvlClsPreds: tf.Tensor4D[];
}

/**
 * Eval-form outputs of `SOLOHead.forward` as plain NCHW arrays (mmdet's test-mode `forward`), the input of
 * `predictByFeat`.
 */
export type SOLOHeadRawOutputs = {
  /** Per level `[B, G^2, H/4, W/4]` mask probabilities (sigmoid, resized to the level-0 mask size). */
  mlvlMaskPreds: ArrayTensor[];
  /** Per level `[B, C, G, G]` class scores (sigmoid, point NMS). */
  mlvlClsPreds: ArrayTensor[];
};

export class SOLOHead extends BaseMaskHead {
  static override readonly type: string = 'SOLOHead';
  static override readonly description: string = 'SOLO mask head: G x G location categories with one mask channel per grid cell';
  /** mmdet `SOLOHead.__init__`: the common declaration as it is (its defaults are SOLOHead's). */
  static override readonly options = soloHeadOptions;

  declare maskConvs: ModuleList<ConvModule>;
  declare convMaskList: ModuleList<Conv2d>;

  protected initLayers(): void {
    this.maskConvs = this.registerModule('mask_convs', new ModuleList<ConvModule>());
    this.clsConvs = this.registerModule('cls_convs', new ModuleList<ConvModule>());
    for (let i = 0; i < this.stackedConvs; i++) {
      this.maskConvs.push(this.towerConv(i === 0 ? this.inChannels + 2 : this.featChannels));
      this.clsConvs.push(this.towerConv(i === 0 ? this.inChannels : this.featChannels));
    }
    this.convMaskList = this.registerModule('conv_mask_list', new ModuleList<Conv2d>());
    for (const g of this.numGrids) this.convMaskList.push(new Conv2d({ inChannels: this.featChannels, outChannels: g * g, kernelSize: 1 }));
    this.convCls = this.registerModule('conv_cls', new Conv2d({ inChannels: this.featChannels, outChannels: this.numClasses, kernelSize: 3, padding: 1 }));
  }

  /** Mask tower of one level: concat coords, `mask_convs`, bilinear x2. `[B, 2h, 2w, feat_channels]`. */
  protected maskTower(feat: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w] = feat.shape;
      let f = tf.concat([feat, coordFeature(b, h, w)], 3) as tf.Tensor4D;
      for (const layer of this.maskConvs) f = layer.forward(f);
      return interpolate(f, { scaleFactor: 2, mode: 'bilinear' });
    });
  }

  /** ONNX: the eval-form {@link SOLOHeadRawOutputs} (mask probabilities at the level-0 mask size, class scores). */
  override toOnnx(g: OnnxGraph, x: OnnxValue[]): Record<string, OnnxValue | OnnxValue[]> {
    const feats = this.resizeFeatsOnnx(g, x);
    const masks = feats.map((f, l) =>
      g.scope(`level${l}`, () => {
        let t = concatCoordsOnnx(g, f);
        this.maskConvs.items.forEach((layer, i) => (t = layerToOnnx(layer, g, t, `mask_convs.${i}`)));
        t = resizeByScaleOnnx(g, t, 'bilinear', 2);
        return layerToOnnx(this.convMaskList.at(l), g, t, `conv_mask_list.${l}`);
      }),
    );
    const mlvlClsPreds = feats.map((f, l) => g.scope(`level${l}`, () => this.clsScoresOnnx(g, this.clsBranchOnnx(g, f, l))));
    const mlvlMaskPreds = masks.map((m) => resizeLikeOnnx(g, g.op('Sigmoid', [m]), masks[0], 'bilinear'));
    return { mlvlMaskPreds, mlvlClsPreds };
  }

  /** Raw outputs, training or eval form per `training` (mmdet `SOLOHead.forward`). */
  forward(x: tf.Tensor4D[]): SOLOHeadOutputs {
    this.checkInputs(x);
    return tf.tidy(() => {
      const feats = this.resizeFeats(x);
      const mlvlMaskPreds = feats.map((f, l) => this.convMaskList.at(l).forward(this.maskTower(f)));
      const mlvlClsPreds = feats.map((f, l) => this.clsBranch(f, l));
      if (this.training) return { mlvlMaskPreds, mlvlClsPreds };
      const up: [number, number] = [mlvlMaskPreds[0].shape[1], mlvlMaskPreds[0].shape[2]];
      return {
        mlvlMaskPreds: mlvlMaskPreds.map((m) => resizeBilinear(tf.sigmoid(m), up)),
        mlvlClsPreds: mlvlClsPreds.map((c) => this.clsScores(c)),
      };
    });
  }

  /** Mask logits `[P, h, w]` of image `b` at level `l` for grid cells `cells` (1x1 conv on selected columns). */
  protected cellMaskLogits(towerFeat: tf.Tensor4D, b: number, l: number, cells: ArrayLike<number>, differentiable: boolean): tf.Tensor3D {
    return tf.tidy(() => {
      const [, h, w, c] = towerFeat.shape;
      const g2 = this.numGrids[l] ** 2;
      const conv = this.convMaskList.at(l);
      const fb = tf.reshape(tf.slice(towerFeat, [b, 0, 0, 0], [1, h, w, c]), [h * w, c]);
      const wm = tf.reshape(conv.weight.variable, [c, g2]);
      let wsel: tf.Tensor2D;
      let bsel: tf.Tensor | null = null;
      if (differentiable) {
        const sel = oneHotColumns(cells, g2);
        wsel = tf.matMul(wm, sel);
        if (conv.bias) bsel = tf.matMul(tf.reshape(conv.bias.variable, [1, g2]), sel);
      } else {
        const idx = tf.tensor1d(Int32Array.from(cells), 'int32');
        wsel = tf.gather(wm, idx, 1) as tf.Tensor2D;
        if (conv.bias) bsel = tf.reshape(tf.gather(conv.bias.variable, idx), [1, cells.length]);
      }
      let logits: tf.Tensor = tf.matMul(fb, wsel);
      if (bsel) logits = tf.add(logits, bsel);
      return tf.reshape(tf.transpose(logits), [cells.length, h, w]) as tf.Tensor3D;
    });
  }

  /** Training form: mask towers (targets at their size) and the positives' logits of the selected 1x1 columns. */
  protected lossFeatures(x: tf.Tensor4D[]): LossFeatures {
    const feats = this.resizeFeats(x);
    const towers = feats.map((f) => this.maskTower(f));
    const clsPreds = feats.map((f, l) => this.clsBranch(f, l));
    return {
      clsPreds,
      featmapSizes: towers.map((t) => [t.shape[1], t.shape[2]] as [number, number]),
      maskOutputs: towers,
      positivePreds: (l, b, t) => this.cellMaskLogits(towers[l], b, l, t.posIndex, true),
    };
  }

  /** Candidates' probabilities: sigmoid of the selected 1x1 columns per level, resized to H/4. */
  protected predictFeatures(x: tf.Tensor4D[]): CandidateSource {
    const { towers, cls } = tf.tidy(() => {
      const feats = this.resizeFeats(x);
      return { towers: feats.map((f) => this.maskTower(f)), cls: feats.map((f, l) => this.clsScores(this.clsBranch(f, l))) };
    });
    const up: [number, number] = [towers[0].shape[1], towers[0].shape[2]];
    const starts = levelStarts(this.numGrids);
    return {
      scores: () => this.readScores(cls),
      maskProbs: (b, cells) => {
        const parts: tf.Tensor3D[] = [];
        for (let l = 0; l < this.numLevels; l++) {
          const ch: number[] = [];
          for (const cell of cells) if (cell >= starts[l] && cell < starts[l + 1]) ch.push(cell - starts[l]);
          if (!ch.length) continue;
          const logits = this.cellMaskLogits(towers[l], b, l, ch, false);
          const probs = resizeBilinear(tf.transpose(tf.expandDims(tf.sigmoid(logits), 0), [0, 2, 3, 1]) as tf.Tensor4D, up);
          parts.push(tf.transpose(tf.squeeze(probs, [0]), [2, 0, 1]) as tf.Tensor3D);
        }
        return tf.concat(parts, 0) as tf.Tensor3D;
      },
      dispose: () => tf.dispose([...towers, ...cls]),
    };
  }

  /** {@link SOLOHeadRawOutputs}: the candidates' channels of the level each cell belongs to. */
  protected rawFeatures(outputs: MaskHeadRawOutputs, batchSize: number): CandidateSource {
    const cls = rawLevels(outputs, 'mlvlClsPreds', this.numLevels, (l) => [batchSize, this.numClasses, this.numGrids[l], this.numGrids[l]], this.typeName);
    const masks = rawLevels(outputs, 'mlvlMaskPreds', this.numLevels, (l) => [batchSize, this.numGrids[l] ** 2], this.typeName);
    const [h, w] = sameMapSize(masks, 'mlvlMaskPreds', this.typeName);
    const starts = levelStarts(this.numGrids);
    return {
      scores: async () => Array.from({ length: batchSize }, (_, b) => flatScores(cls, b)),
      maskProbs: (b, cells) => {
        const out = new Float32Array(cells.length * h * w);
        cells.forEach((cell, k) => {
          const l = levelOfCell(cell, starts);
          out.set(channelView(masks[l], b, cell - starts[l]), k * h * w);
        });
        return tf.tensor3d(out, [cells.length, h, w], 'float32');
      },
      dispose: () => {},
    };
  }
}
