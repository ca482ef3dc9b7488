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
 * the full conv followed by a channel gather, without the `[B, H/4, W/4, 3872]` tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Module,
  SoloError,
  type BitmapMasks,
  type BuildContext,
  type DetDataSample,
  type DetMeta,
  type GridAssigner,
  type GridLevelTargets,
  type InstanceData,
  type Loss,
  type MaskHead,
  type MaskPostProcessor,
  type OptionSpecs,
  type SoloTestCfg,
} from '@solo-ts/core';
import { applyInitCfg, Conv2d, ConvModule, coordFeature, interpolate, pointNms, resizeBilinear, type ConvCfg, type NormCfg } from '@solo-ts/ops';
import {
  checkLevelOptions,
  emptyResult,
  gtAssignInput,
  levelOfCell,
  levelStarts,
  masksToTensor,
  oneHotColumns,
  resizeFeats,
  selectCandidates,
  soloHeadOptionSpecs,
  soloInitCfg,
  toSoloTestCfg,
  zeroLike,
  type ScoreCandidates,
  type SOLOHeadOptions,
} from './common.js';
import { ModuleList } from './module-list.js';

export type { SOLOHeadOptions } from './common.js';

/** Outputs of `SOLOHead.forward` (NHWC). */
export interface SOLOHeadOutputs {
  /** Per level: training `[B, 2h, 2w, G^2]` logits; eval `[B, H/4, W/4, G^2]` probabilities. */
  mlvlMaskPreds: tf.Tensor4D[];
  /** Per level `[B, G, G, C]`: training logits; eval sigmoid scores after point NMS. */
  mlvlClsPreds: tf.Tensor4D[];
}

/** Outputs of any SOLO-family head (each subclass narrows it). */
export type SOLOFamilyOutputs = SOLOHeadOutputs | { mlvlMaskPredsX: tf.Tensor4D[]; mlvlMaskPredsY: tf.Tensor4D[]; mlvlClsPreds: tf.Tensor4D[] } | { mlvlKernelPreds: tf.Tensor4D[]; mlvlClsPreds: tf.Tensor4D[]; maskFeats: tf.Tensor4D };

/** Fill the declared defaults of `specs` into camelCase `options` (for heads constructed without the registry). */
export function withDefaults<T extends object>(specs: OptionSpecs, options: T): T {
  const out: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const [k, spec] of Object.entries(specs)) {
    const ck = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (out[ck] === undefined && spec.default !== undefined) out[ck] = JSON.parse(JSON.stringify(spec.default));
  }
  return out as T;
}

export class SOLOHead extends Module implements MaskHead {
  static readonly type: string = 'SOLOHead';
  static readonly description: string = 'SOLO mask head: G x G location categories with one mask channel per grid cell';
  static readonly options: OptionSpecs = soloHeadOptionSpecs({
    lossMask: { type: 'DiceLoss', use_sigmoid: true, loss_weight: 3.0 },
    initCfg: soloInitCfg(['conv_mask_list', 'conv_cls']),
  });

  readonly numClasses: number;
  readonly inChannels: number;
  readonly featChannels: number;
  readonly stackedConvs: number;
  readonly strides: number[];
  readonly scaleRanges: Array<[number, number]>;
  readonly posScale: number;
  readonly numGrids: number[];
  readonly numLevels: number;
  readonly clsDownIndex: number;
  readonly normCfg: NormCfg | null;
  readonly trainCfg: unknown;
  testCfg: Record<string, unknown> | null;
  readonly lossMask: Loss;
  readonly lossCls: Loss;
  readonly assigner: GridAssigner;
  readonly postprocessor: MaskPostProcessor;
  /** Registry key of the concrete class (for messages). */
  readonly typeName: string;

  declare maskConvs: ModuleList<ConvModule>;
  declare clsConvs: ModuleList<ConvModule>;
  declare convMaskList: ModuleList<Conv2d>;
  declare convCls: Conv2d;

  constructor(options: SOLOHeadOptions, ctx: BuildContext) {
    super();
    const ctor = this.constructor as typeof SOLOHead;
    this.typeName = ctor.type;
    const o = withDefaults(ctor.options, options) as Required<SOLOHeadOptions>;
    if (!Number.isInteger(o.numClasses) || o.numClasses < 1) throw new SoloError(`${ctor.type}: num_classes must be a positive integer, got ${o.numClasses}`, { code: 'CONFIG' });
    if (!Number.isInteger(o.inChannels) || o.inChannels < 1) throw new SoloError(`${ctor.type}: in_channels must be a positive integer, got ${o.inChannels}`, { code: 'CONFIG' });
    this.numClasses = o.numClasses;
    this.inChannels = o.inChannels;
    this.featChannels = o.featChannels;
    this.stackedConvs = o.stackedConvs;
    this.strides = o.strides;
    this.scaleRanges = o.scaleRanges;
    this.posScale = o.posScale;
    this.numGrids = o.numGrids;
    this.numLevels = o.numGrids.length;
    this.clsDownIndex = o.clsDownIndex;
    this.normCfg = (o.normCfg ?? null) as NormCfg | null;
    this.trainCfg = o.trainCfg ?? null;
    this.testCfg = o.testCfg ?? null;
    checkLevelOptions(ctor.type, o);
    this.lossCls = ctx.build<Loss>('models', o.lossCls, 'loss_cls');
    this.lossMask = ctx.build<Loss>('models', o.lossMask, 'loss_mask');
    this.assigner = ctx.build<GridAssigner>('task_utils', { ...this.assignerSettings(options), ...o.assigner }, 'assigner');
    this.postprocessor = ctx.build<MaskPostProcessor>('task_utils', o.postprocessor, 'postprocessor');
    this.initLayers(options);
    applyInitCfg(this, o.initCfg, ctor.type);
  }

  /** Settings every grid assigner receives (mmdetection's head attributes). */
  protected assignerSettings(_options: SOLOHeadOptions): Record<string, unknown> {
    return {
      type: 'SOLOGridAssigner',
      num_classes: this.numClasses,
      num_grids: this.numGrids,
      scale_ranges: this.scaleRanges,
      pos_scale: this.posScale,
      strides: this.strides,
      mode: 'solo',
    };
  }

  /** A 3x3 ConvModule of a tower (`conv_cfg` null = Conv2d). */
  protected towerConv(inChannels: number, convCfg: ConvCfg | null = null): ConvModule {
    return new ConvModule({ inChannels, outChannels: this.featChannels, kernelSize: 3, stride: 1, padding: 1, convCfg, normCfg: this.normCfg });
  }

  protected initLayers(_options: SOLOHeadOptions): void {
    this.maskConvs = this.registerModule('mask_convs', new ModuleList<ConvModule>());
    this.clsConvs = this.registerModule('cls_convs', new ModuleList<ConvModule>());
    for (let i = 0; i < this.stackedConvs; i++) {
      this.maskConvs.append(this.towerConv(i === 0 ? this.inChannels + 2 : this.featChannels));
      this.clsConvs.append(this.towerConv(i === 0 ? this.inChannels : this.featChannels));
    }
    this.convMaskList = this.registerModule('conv_mask_list', new ModuleList<Conv2d>());
    for (const g of this.numGrids) this.convMaskList.append(new Conv2d({ inChannels: this.featChannels, outChannels: g * g, kernelSize: 1 }));
    this.convCls = this.registerModule('conv_cls', new Conv2d({ inChannels: this.featChannels, outChannels: this.numClasses, kernelSize: 3, padding: 1 }));
  }

  protected checkInputs(x: tf.Tensor4D[]): void {
    if (x.length !== this.numLevels) {
      throw new SoloError(`${this.typeName}: expected ${this.numLevels} feature levels (one per num_grids entry), got ${x.length}`, { code: 'SHAPE' });
    }
    for (const f of x) {
      if (f.shape[3] !== this.inChannels) throw new SoloError(`${this.typeName}: feature levels must have in_channels=${this.inChannels} channels, got ${f.shape[3]}`, { code: 'SHAPE' });
    }
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

  /** Classification branch of level `l`: logits `[B, G, G, C]`. */
  protected clsBranch(feat: tf.Tensor4D, l: number): tf.Tensor4D {
    return tf.tidy(() => {
      const g = this.numGrids[l];
      let f = feat;
      let j = 0;
      for (const layer of this.clsConvs) {
        if (j === this.clsDownIndex) f = resizeBilinear(f, [g, g]);
        f = layer.forward(f);
        j++;
      }
      return this.convCls.forward(f);
    });
  }

  /** Eval-mode class scores: sigmoid then point NMS (2x2 local maximum). */
  protected clsScores(logits: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => pointNms(tf.sigmoid(logits), 2));
  }

  /** Raw outputs (training or eval form per `training`); subclasses return their own output shape. */
  forward(x: tf.Tensor4D[]): SOLOHeadOutputs | SOLOFamilyOutputs {
    this.checkInputs(x);
    return tf.tidy(() => {
      const feats = resizeFeats(x);
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

  /** Level-major flattened cls logits `[sum_l B*G_l^2, C]` and labels (mmdet `loss_by_feat`). */
  protected flattenCls(clsPreds: tf.Tensor4D[], targets: GridLevelTargets[][]): { preds: tf.Tensor2D; labels: tf.Tensor1D } {
    const preds = tf.concat(clsPreds.map((c) => tf.reshape(c, [-1, this.numClasses])), 0) as tf.Tensor2D;
    const total = clsPreds.reduce((s, c) => s + c.shape[0] * c.shape[1] * c.shape[2], 0);
    const labels = new Int32Array(total);
    let off = 0;
    for (let l = 0; l < this.numLevels; l++) {
      for (const t of targets) {
        labels.set(t[l].labels, off);
        off += t[l].labels.length;
      }
    }
    if (off !== total) throw new SoloError(`${this.typeName}: the assigner returned ${off} cell labels for ${total} cls predictions`, { code: 'SHAPE' });
    return { preds, labels: tf.tensor1d(labels, 'int32') };
  }

  /** Grid targets of every image (CPU, from the ground truth). */
  protected assign(samples: DetDataSample[], featmapSizes: Array<[number, number]>, x: tf.Tensor4D[]): GridLevelTargets[][] {
    const inputSize: [number, number] = [x[0].shape[1] * 4, x[0].shape[2] * 4];
    return samples.map((s) => this.assigner.assign(gtAssignInput(s, featmapSizes, inputSize)));
  }

  /** Dice over per-level positive predictions, summed and divided by num_pos (mmdet `loss_by_feat`). */
  protected maskLoss(levelPreds: Array<tf.Tensor3D | null>, levelTargets: BitmapMasks[][], numPos: number, zero: () => tf.Scalar): tf.Scalar {
    if (numPos === 0) return zero();
    const terms: tf.Tensor[] = [];
    levelPreds.forEach((p, l) => {
      if (!p) return;
      const t = tf.concat(levelTargets[l].map(masksToTensor), 0);
      terms.push(this.lossMask.forward(p, t, { reductionOverride: 'none' }));
    });
    return tf.div(tf.sum(tf.concat(terms, 0)), numPos) as tf.Scalar;
  }

  loss(x: tf.Tensor4D[], samples: DetDataSample[]): Record<string, tf.Scalar> {
    this.checkInputs(x);
    if (samples.length !== x[0].shape[0]) throw new SoloError(`${this.typeName}: ${samples.length} samples for a batch of ${x[0].shape[0]}`, { code: 'SHAPE' });
    return tf.tidy(() => {
      const feats = resizeFeats(x);
      const towers = feats.map((f) => this.maskTower(f));
      const clsPreds = feats.map((f, l) => this.clsBranch(f, l));
      const targets = this.assign(samples, towers.map((t) => [t.shape[1], t.shape[2]] as [number, number]), x);
      let numPos = 0;
      const levelPreds: Array<tf.Tensor3D | null> = [];
      const levelTargets: BitmapMasks[][] = [];
      for (let l = 0; l < this.numLevels; l++) {
        const preds: tf.Tensor3D[] = [];
        const tg: BitmapMasks[] = [];
        targets.forEach((t, b) => {
          const lt = t[l];
          for (const v of lt.posMask) numPos += v ? 1 : 0;
          if (lt.posIndex.length === 0) return;
          preds.push(this.cellMaskLogits(towers[l], b, l, lt.posIndex, true));
          tg.push(lt.maskTargets);
        });
        levelPreds.push(preds.length ? (tf.concat(preds, 0) as tf.Tensor3D) : null);
        levelTargets.push(tg);
      }
      const lossMask = this.maskLoss(levelPreds, levelTargets, numPos, () => zeroLike(towers));
      const { preds, labels } = this.flattenCls(clsPreds, targets);
      const lossCls = this.lossCls.forward(preds, labels, { avgFactor: numPos + 1 }) as tf.Scalar;
      return { loss_mask: lossMask, loss_cls: lossCls };
    });
  }

  /** Flat `[cells, C]` eval scores of every image (one read-back per batch). */
  protected async readScores(clsScores: tf.Tensor4D[]): Promise<Float32Array[]> {
    const flat = tf.tidy(() => tf.concat(clsScores.map((c) => tf.reshape(c, [c.shape[0], -1, this.numClasses])), 1));
    const data = (await flat.data()) as Float32Array;
    const [b, cells] = flat.shape;
    flat.dispose();
    return Array.from({ length: b }, (_, i) => data.slice(i * cells * this.numClasses, (i + 1) * cells * this.numClasses));
  }

  /** Per-candidate stride (of the level its cell belongs to). */
  protected candidateStrides(cells: Int32Array): Float32Array {
    const starts = levelStarts(this.numGrids);
    return Float32Array.from(cells, (c) => this.strides[levelOfCell(c, starts)]);
  }

  /**
   * Steps 2-8 of mmdet `_predict_by_feat_single` for one image: score_thr, then the post-processor.
   * `maskProbs(candidates)` returns the candidates' `[n, H/4, W/4]` probabilities.
   */
  protected async finishSingle(scores: Float32Array, meta: DetMeta, cfg: SoloTestCfg, maskProbs: (c: ScoreCandidates) => tf.Tensor3D): Promise<InstanceData> {
    const cand = selectCandidates(scores, this.numClasses, cfg.scoreThr);
    if (cand.scores.length === 0) return emptyResult(meta.oriShape);
    const probs = maskProbs(cand);
    return this.postprocessor.process({ maskProbs: probs, clsScores: cand.scores, labels: cand.labels, strides: this.candidateStrides(cand.cells) }, meta, cfg);
  }

  /**
   * mmdet `_predict_by_feat_single` on eval-form outputs of one image: `clsScores` `[cells, C]` (sigmoid, point
   * NMS), `maskPreds` `[cells, H/4, W/4]` probabilities. Does not dispose its inputs.
   */
  async predictByFeatSingle(clsScores: tf.Tensor2D, maskPreds: tf.Tensor3D, meta: DetMeta, cfg?: Partial<SoloTestCfg>): Promise<InstanceData> {
    const full = { ...this.resolveTestCfg(), ...cfg } as SoloTestCfg;
    const scores = (await clsScores.data()) as Float32Array;
    return this.finishSingle(scores, meta, full, (c) => tf.tidy(() => tf.gather(maskPreds, tf.tensor1d(c.cells, 'int32'), 0) as tf.Tensor3D));
  }

  /** The head's test config; partial when none was set (callers may complete it). */
  protected resolveTestCfg(): Partial<SoloTestCfg> {
    return this.testCfg ? toSoloTestCfg(this.testCfg, this.typeName) : {};
  }

  async predict(x: tf.Tensor4D[], samples: DetDataSample[]): Promise<InstanceData[]> {
    this.checkInputs(x);
    const cfg = toSoloTestCfg(this.testCfg, this.typeName);
    const { towers, cls } = tf.tidy(() => {
      const feats = resizeFeats(x);
      return { towers: feats.map((f) => this.maskTower(f)), cls: feats.map((f, l) => this.clsScores(this.clsBranch(f, l))) };
    });
    try {
      const scores = await this.readScores(cls);
      const up: [number, number] = [towers[0].shape[1], towers[0].shape[2]];
      const starts = levelStarts(this.numGrids);
      const results: InstanceData[] = [];
      for (let b = 0; b < samples.length; b++) {
        results.push(
          await this.finishSingle(scores[b], samples[b].metainfo, cfg, (c) =>
            tf.tidy(() => {
              const parts: tf.Tensor3D[] = [];
              for (let l = 0; l < this.numLevels; l++) {
                const ch: number[] = [];
                for (const cell of c.cells) if (cell >= starts[l] && cell < starts[l + 1]) ch.push(cell - starts[l]);
                if (!ch.length) continue;
                const logits = this.cellMaskLogits(towers[l], b, l, ch, false);
                const probs = resizeBilinear(tf.transpose(tf.expandDims(tf.sigmoid(logits), 0), [0, 2, 3, 1]) as tf.Tensor4D, up);
                parts.push(tf.transpose(tf.squeeze(probs, [0]), [2, 0, 1]) as tf.Tensor3D);
              }
              return tf.concat(parts, 0) as tf.Tensor3D;
            }),
          ),
        );
      }
      return results;
    } finally {
      tf.dispose([...towers, ...cls]);
    }
  }
}
