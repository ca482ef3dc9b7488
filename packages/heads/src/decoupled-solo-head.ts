// SPDX-License-Identifier: Apache-2.0
/**
 * Decoupled SOLO head (https://arxiv.org/abs/1912.04488, section 3.4), mmdetection `DecoupledSOLOHead`; registry
 * key `DecoupledSOLOHead` (scope `models`).
 *
 * Two mask towers: `mask_convs_x` on [feat, x-coordinate] and `mask_convs_y` on [feat, y-coordinate], each
 * followed by bilinear x2 and a per-level 3x3 conv to G_l channels (`conv_mask_list_x/_y`). The mask of grid cell
 * (i, j) is sigmoid(y_i) * sigmoid(x_j). Outputs per level: `[B, 2h, 2w, G]` x and y logits (training) or
 * sigmoid maps resized to `[B, H/4, W/4, G]` (eval); cls as SOLOHead. The Dice loss is configured with
 * `activate: false` because the head forms the probabilities.
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, type ArrayTensor, type MaskHeadRawOutputs, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { concatCoordsOnnx, Conv2d, ConvModule, coordFeature, interpolate, layerToOnnx, ModuleList, resizeBilinear, resizeByScaleOnnx, resizeLikeOnnx, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { BaseMaskHead } from './base-mask-head.js';
import { oneHotColumns, type CandidateSource, type LossFeatures } from './head-features.js';
import { soloHeadOptions, soloInitCfg } from './head-options.js';
import { channelView, flatScores, levelOfCell, levelStarts, rawLevels, sameMapSize } from './raw-outputs.js';

/** Outputs of the decoupled heads' `forward` (NHWC tensors). */
export interface DecoupledSOLOHeadOutputs {
  /** Per level: training `[B, 2h, 2w, G]` logits; eval `[B, H/4, W/4, G]` probabilities. */
  mlvlMaskPredsX: tf.Tensor4D[];
  mlvlMaskPredsY: tf.Tensor4D[];
  /** Per level `[B, G, G, C]`: training logits; eval sigmoid scores after point NMS. */
  mlvlClsPreds: tf.Tensor4D[];
}

/** Eval-form outputs of the decoupled heads' `forward` as plain NCHW arrays, the input of `predictByFeat`. */
export type DecoupledSOLOHeadRawOutputs = {
  /** Per level `[B, G, H/4, W/4]` x-mask probabilities (sigmoid, resized to the level-0 mask size). */
  mlvlMaskPredsX: ArrayTensor[];
  /** Per level `[B, G, H/4, W/4]` y-mask probabilities. */
  mlvlMaskPredsY: ArrayTensor[];
  /** Per level `[B, C, G, G]` class scores (sigmoid, point NMS). */
  mlvlClsPreds: ArrayTensor[];
};

/** The options of {@link DecoupledSOLOHead}: SOLOHead's, with the decoupled heads' mask loss and init defaults. */
export const decoupledSOLOHeadOptions = defineOptions({
  ...soloHeadOptions,
  // the head forms the probabilities (sigmoid(y) * sigmoid(x)): the Dice loss must not apply the sigmoid again
  loss_mask: { ...soloHeadOptions.loss_mask, default: { type: 'DiceLoss', use_sigmoid: true, activate: false, loss_weight: 3.0 } },
  init_cfg: { ...soloHeadOptions.init_cfg, default: soloInitCfg(['conv_mask_list_x', 'conv_mask_list_y', 'conv_cls']) },
});
/** Resolved options of {@link DecoupledSOLOHead}. */
export type DecoupledSOLOHeadOptions = ResolvedOptions<typeof decoupledSOLOHeadOptions>;
/** What code passes to `new DecoupledSOLOHead(...)`. */
export type DecoupledSOLOHeadInput = OptionsInput<typeof decoupledSOLOHeadOptions>;

export class DecoupledSOLOHead extends BaseMaskHead {
  static override readonly type: string = 'DecoupledSOLOHead';
  static override readonly description: string = 'Decoupled SOLO mask head: G x-masks and G y-masks per level, mask(i, j) = y_i * x_j';
  static override readonly options = decoupledSOLOHeadOptions;

  declare maskConvsX: ModuleList<ConvModule>;
  declare maskConvsY: ModuleList<ConvModule>;
  declare convMaskListX: ModuleList<Conv2d>;
  declare convMaskListY: ModuleList<Conv2d>;

  protected initLayers(_options: DecoupledSOLOHeadOptions): void {
    this.maskConvsX = this.registerModule('mask_convs_x', new ModuleList<ConvModule>());
    this.maskConvsY = this.registerModule('mask_convs_y', new ModuleList<ConvModule>());
    this.clsConvs = this.registerModule('cls_convs', new ModuleList<ConvModule>());
    for (let i = 0; i < this.stackedConvs; i++) {
      const chn = i === 0 ? this.inChannels + 1 : this.featChannels;
      this.maskConvsX.push(this.towerConv(chn));
      this.maskConvsY.push(this.towerConv(chn));
      this.clsConvs.push(this.towerConv(i === 0 ? this.inChannels : this.featChannels));
    }
    this.initOutputConvs();
  }

  /** `conv_mask_list_x/_y` (3x3 to G_l) and `conv_cls`. */
  protected initOutputConvs(): void {
    this.convMaskListX = this.registerModule('conv_mask_list_x', new ModuleList<Conv2d>());
    this.convMaskListY = this.registerModule('conv_mask_list_y', new ModuleList<Conv2d>());
    for (const g of this.numGrids) {
      this.convMaskListX.push(new Conv2d({ inChannels: this.featChannels, outChannels: g, kernelSize: 3, padding: 1 }));
      this.convMaskListY.push(new Conv2d({ inChannels: this.featChannels, outChannels: g, kernelSize: 3, padding: 1 }));
    }
    this.convCls = this.registerModule('conv_cls', new Conv2d({ inChannels: this.featChannels, outChannels: this.numClasses, kernelSize: 3, padding: 1 }));
  }

  /** x and y mask logits of level `l` at 2x the level resolution. */
  protected maskXY(feat: tf.Tensor4D, l: number): [tf.Tensor4D, tf.Tensor4D] {
    return tf.tidy(() => {
      const [b, h, w] = feat.shape;
      const coord = coordFeature(b, h, w);
      let fx = tf.concat([feat, tf.slice(coord, [0, 0, 0, 0], [b, h, w, 1])], 3) as tf.Tensor4D;
      let fy = tf.concat([feat, tf.slice(coord, [0, 0, 0, 1], [b, h, w, 1])], 3) as tf.Tensor4D;
      for (let i = 0; i < this.maskConvsX.length; i++) {
        fx = this.maskConvsX.at(i).forward(fx);
        fy = this.maskConvsY.at(i).forward(fy);
      }
      fx = interpolate(fx, { scaleFactor: 2, mode: 'bilinear' });
      fy = interpolate(fy, { scaleFactor: 2, mode: 'bilinear' });
      return [this.convMaskListX.at(l).forward(fx), this.convMaskListY.at(l).forward(fy)];
    });
  }

  /** {@link maskXY} in ONNX: x and y mask logits of level `l`. */
  protected maskXYOnnx(g: OnnxGraph, feat: OnnxValue, l: number): [OnnxValue, OnnxValue] {
    let fx = concatCoordsOnnx(g, feat, 'x');
    let fy = concatCoordsOnnx(g, feat, 'y');
    for (let i = 0; i < this.maskConvsX.length; i++) {
      fx = layerToOnnx(this.maskConvsX.at(i), g, fx, `mask_convs_x.${i}`);
      fy = layerToOnnx(this.maskConvsY.at(i), g, fy, `mask_convs_y.${i}`);
    }
    fx = resizeByScaleOnnx(g, fx, 'bilinear', 2);
    fy = resizeByScaleOnnx(g, fy, 'bilinear', 2);
    return [layerToOnnx(this.convMaskListX.at(l), g, fx, `conv_mask_list_x.${l}`), layerToOnnx(this.convMaskListY.at(l), g, fy, `conv_mask_list_y.${l}`)];
  }

  /** ONNX: the eval-form {@link DecoupledSOLOHeadRawOutputs}. */
  override toOnnx(g: OnnxGraph, x: OnnxValue[]): Record<string, OnnxValue | OnnxValue[]> {
    const feats = this.resizeFeatsOnnx(g, x);
    const xy = feats.map((f, l) => g.scope(`level${l}`, () => this.maskXYOnnx(g, f, l)));
    const mlvlClsPreds = feats.map((f, l) => g.scope(`level${l}`, () => this.clsScoresOnnx(g, this.clsBranchOnnx(g, f, l))));
    const up = (m: OnnxValue, ref: OnnxValue): OnnxValue => resizeLikeOnnx(g, g.op('Sigmoid', [m]), ref, 'bilinear');
    return {
      mlvlMaskPredsX: xy.map((p) => up(p[0], xy[0][0])),
      mlvlMaskPredsY: xy.map((p) => up(p[1], xy[0][0])),
      mlvlClsPreds,
    };
  }

  /** Raw outputs, training or eval form per `training` (mmdet `DecoupledSOLOHead.forward`). */
  forward(x: tf.Tensor4D[]): DecoupledSOLOHeadOutputs {
    this.checkInputs(x);
    return tf.tidy(() => {
      const feats = this.resizeFeats(x);
      const xy = feats.map((f, l) => this.maskXY(f, l));
      const mlvlClsPreds = feats.map((f, l) => this.clsBranch(f, l));
      const mlvlMaskPredsX = xy.map((p) => p[0]);
      const mlvlMaskPredsY = xy.map((p) => p[1]);
      if (this.training) return { mlvlMaskPredsX, mlvlMaskPredsY, mlvlClsPreds };
      const up: [number, number] = [mlvlMaskPredsX[0].shape[1], mlvlMaskPredsX[0].shape[2]];
      return {
        mlvlMaskPredsX: mlvlMaskPredsX.map((m) => resizeBilinear(tf.sigmoid(m), up)),
        mlvlMaskPredsY: mlvlMaskPredsY.map((m) => resizeBilinear(tf.sigmoid(m), up)),
        mlvlClsPreds: mlvlClsPreds.map((c) => this.clsScores(c)),
      };
    });
  }

  /** Columns `idx` of image `b` of a `[B, h, w, G]` map as `[P, h, w]` (one-hot matmul: differentiable everywhere). */
  private pickChannels(m: tf.Tensor4D, b: number, idx: number[]): tf.Tensor3D {
    return tf.tidy(() => {
      const [, h, w, g] = m.shape;
      const flat = tf.reshape(tf.slice(m, [b, 0, 0, 0], [1, h, w, g]), [h * w, g]);
      return tf.reshape(tf.transpose(tf.matMul(flat, oneHotColumns(idx, g))), [idx.length, h, w]) as tf.Tensor3D;
    });
  }

  /** Training form: x/y logits per level; a positive's probability is sigmoid(y_row) * sigmoid(x_col). */
  protected lossFeatures(x: tf.Tensor4D[]): LossFeatures {
    const feats = this.resizeFeats(x);
    const xy = feats.map((f, l) => this.maskXY(f, l));
    const clsPreds = feats.map((f, l) => this.clsBranch(f, l));
    return {
      clsPreds,
      featmapSizes: xy.map(([mx]) => [mx.shape[1], mx.shape[2]] as [number, number]),
      maskOutputs: xy.flat(),
      positivePreds: (l, b, t) => {
        const g = this.numGrids[l];
        // positives = (labels != num_classes).nonzero(), row-major: the ascending cell order of posIndex
        const ys = Array.from(t.posIndex, (c) => Math.floor(c / g));
        const xs = Array.from(t.posIndex, (c) => c % g);
        const px = this.pickChannels(xy[l][0], b, xs);
        const py = this.pickChannels(xy[l][1], b, ys);
        return tf.mul(tf.sigmoid(py), tf.sigmoid(px)) as tf.Tensor3D;
      },
    };
  }

  /** x / y channel of each candidate cell in the level-concatenated `[.., sum G]` maps (mmdet's index arithmetic). */
  protected xyChannels(cells: Int32Array): { xInds: Int32Array; yInds: Int32Array } {
    const starts = levelStarts(this.numGrids);
    const xInds = new Int32Array(cells.length);
    const yInds = new Int32Array(cells.length);
    cells.forEach((cell, k) => {
      const l = levelOfCell(cell, starts);
      const g = this.numGrids[l];
      const segStart = this.numGrids.slice(0, l).reduce((a, v) => a + v, 0);
      xInds[k] = segStart + ((cell - starts[l]) % g);
      yInds[k] = segStart + Math.floor((cell - starts[l]) / g);
    });
    return { xInds, yInds };
  }

  /** Candidates' probabilities: products of the gathered x and y maps (levels concatenated along channels). */
  protected predictFeatures(x: tf.Tensor4D[]): CandidateSource {
    const { mx, my, cls } = tf.tidy(() => {
      const feats = this.resizeFeats(x);
      const xy = feats.map((f, l) => this.maskXY(f, l));
      const up: [number, number] = [xy[0][0].shape[1], xy[0][0].shape[2]];
      // [B, H/4, W/4, sum G] probabilities, levels concatenated along channels
      return {
        mx: tf.concat(xy.map((p) => resizeBilinear(tf.sigmoid(p[0]), up)), 3) as tf.Tensor4D,
        my: tf.concat(xy.map((p) => resizeBilinear(tf.sigmoid(p[1]), up)), 3) as tf.Tensor4D,
        cls: feats.map((f, l) => this.clsScores(this.clsBranch(f, l))),
      };
    });
    return {
      scores: () => this.readScores(cls),
      maskProbs: (b, cells) => {
        const { xInds, yInds } = this.xyChannels(cells);
        const [, h, w, s] = mx.shape;
        const px = tf.gather(tf.reshape(tf.slice(mx, [b, 0, 0, 0], [1, h, w, s]), [h, w, s]), tf.tensor1d(xInds, 'int32'), 2);
        const py = tf.gather(tf.reshape(tf.slice(my, [b, 0, 0, 0], [1, h, w, s]), [h, w, s]), tf.tensor1d(yInds, 'int32'), 2);
        return tf.transpose(tf.mul(px, py), [2, 0, 1]) as tf.Tensor3D;
      },
      dispose: () => tf.dispose([mx, my, ...cls]),
    };
  }

  /** {@link DecoupledSOLOHeadRawOutputs}: x-map channel `k mod G` times y-map channel `k div G` of each cell k. */
  protected rawFeatures(outputs: MaskHeadRawOutputs, batchSize: number): CandidateSource {
    const where = this.typeName;
    const cls = rawLevels(outputs, 'mlvlClsPreds', this.numLevels, (l) => [batchSize, this.numClasses, this.numGrids[l], this.numGrids[l]], where);
    const mx = rawLevels(outputs, 'mlvlMaskPredsX', this.numLevels, (l) => [batchSize, this.numGrids[l]], where);
    const my = rawLevels(outputs, 'mlvlMaskPredsY', this.numLevels, (l) => [batchSize, this.numGrids[l]], where);
    const [h, w] = sameMapSize([...mx, ...my], 'mlvlMaskPredsX/Y', where);
    const starts = levelStarts(this.numGrids);
    return {
      scores: async () => Array.from({ length: batchSize }, (_, b) => flatScores(cls, b)),
      maskProbs: (b, cells) => {
        const hw = h * w;
        const out = new Float32Array(cells.length * hw);
        cells.forEach((cell, k) => {
          const l = levelOfCell(cell, starts);
          const g = this.numGrids[l];
          const px = channelView(mx[l], b, (cell - starts[l]) % g);
          const py = channelView(my[l], b, Math.floor((cell - starts[l]) / g));
          for (let i = 0; i < hw; i++) out[k * hw + i] = Math.fround(px[i] * py[i]); // float32 product, as tf.mul
        });
        return tf.tensor3d(out, [cells.length, h, w], 'float32');
      },
      dispose: () => {},
    };
  }
}
