// SPDX-License-Identifier: Apache-2.0
/**
 * `BaseMaskHead`: the template of the SOLO-family heads (mmdetection `BaseMaskHead` with the loops of
 * `SOLOHead.loss_by_feat` / `predict_by_feat`). It owns the options shared by every head, its collaborators
 * (`loss_mask`, `loss_cls`, `assigner`, `postprocessor`, built through the registry), and three loops:
 *
 * - `loss(x, samples)`: grid targets of each image from the ground truth, then per level and image the
 *   predictions of the positive cells (`LossFeatures.positivePreds`, supplied by the head), the mask loss over
 *   them divided by num_pos, and the focal loss over the level-major flattened class logits (avg_factor num_pos+1);
 * - `predict(x, samples)`: the tfjs path; forward computes only what the candidates need
 *   (`predictFeatures`, supplied by the head), then the per-image post-processing below;
 * - `predictByFeat(outputs, metas)`: mmdet `predict_by_feat` on the raw test-mode forward outputs given as plain
 *   NCHW arrays (`rawFeatures`, supplied by the head), whoever computed them; then the same per-image steps:
 *   `score_thr` candidates (mmdetection's `SOLOHead._predict_by_feat_single`: `cls_scores > score_thr`), their mask probabilities (the head's decoding: channel
 *   gather, x/y product or dynamic conv), per-candidate strides, and the post-processor (area filter, maskness,
 *   Matrix NMS, resizes to the image and original shape, boxes).
 *
 * Heads supply their layers (`initLayers`), `forward`, and the three feature hooks. Shapes are NHWC in tensors,
 * NCHW in plain arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Module,
  SoloError,
  emptyInstances,
  emptyMasks,
  padBitmapMasks,
  type BitmapMasks,
  type BuildContext,
  type DetDataSample,
  type DetMeta,
  type GridAssigner,
  type GridLevelTargets,
  type InstanceData,
  type Loss,
  type MaskHead,
  type MaskHeadRawOutputs,
  type MaskPostProcessor,
  resolveOptions,
  type SoloTestCfg,
} from '@solo-ts/core';
import {
  applyInitCfg,
  Conv2d,
  ConvModule,
  interpolate,
  layerToOnnx,
  ModuleList,
  notExportable,
  pointNms,
  pointNmsOnnx,
  resizeBilinear,
  resizeByScaleOnnx,
  resizeLikeOnnx,
  resizeToSizeOnnx,
  type ConvCfg,
  type NormCfg,
  type OnnxGraph,
  type OnnxValue,
} from '@solo-ts/ops';
import { checkLevelOptions, checkTestCfgKeys, soloHeadOptions, toSoloTestCfg, type SOLOHeadDeclaration, type SOLOHeadInput, type SOLOHeadOptions } from './head-options.js';
import { levelOfCell, levelStarts } from './raw-outputs.js';
import { selectCandidates, type CandidateSource, type LossFeatures } from './head-features.js';

/** Sum of tensors' elements times 0: keeps every parameter connected to a loss that is zero (mmdet's trick). */
function zeroLike(ts: tf.Tensor[]): tf.Scalar {
  // (+ 0 turns the -0 of a negative sum into +0, as mmdet's sum over an empty selection gives)
  return tf.add(tf.mul(tf.addN(ts.map((t) => tf.sum(t))), 0), 0) as tf.Scalar;
}

/** Masks (P, h, w) as a float32 tensor (0/1). */
function masksToTensor(m: BitmapMasks): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(m.data), [m.count, m.height, m.width], 'float32');
}

export abstract class BaseMaskHead extends Module implements MaskHead {
  /** Registry key and description of the concrete class (each head sets its own). */
  static readonly type: string = 'BaseMaskHead';
  static readonly description: string = 'SOLO-family mask head template';
  /**
   * Declared options of the concrete class (each head spreads `soloHeadOptions` and sets its own defaults); the
   * type makes every subclass's declaration keep the common options and their value types.
   */
  static readonly options: SOLOHeadDeclaration = soloHeadOptions;

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
  readonly trainCfg: Record<string, unknown> | null;
  testCfg: Record<string, unknown> | null;
  readonly lossMask: Loss;
  readonly lossCls: Loss;
  readonly assigner: GridAssigner;
  readonly postprocessor: MaskPostProcessor;
  /** Registry key of the concrete class (for messages). */
  readonly typeName: string;

  declare clsConvs: ModuleList<ConvModule>;
  declare convCls: Conv2d;

  /**
   * `options`: as the registry resolved them, or as code passes them (checked and completed here against the
   * concrete class's declaration, so a subclass's own options are resolved too and reach `initLayers`).
   */
  constructor(options: SOLOHeadInput, ctx: BuildContext) {
    super();
    const ctor = new.target;
    this.typeName = ctor.type;
    const o = resolveOptions(ctor.options, options, ctor.type, ctx.locate());
    if (o.numClasses < 1) throw new SoloError(`${ctor.type}: num_classes must be a positive integer, got ${o.numClasses}`, { code: 'CONFIG' });
    if (o.inChannels < 1) throw new SoloError(`${ctor.type}: in_channels must be a positive integer, got ${o.inChannels}`, { code: 'CONFIG' });
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
    this.normCfg = o.normCfg;
    this.trainCfg = o.trainCfg ?? null;
    this.testCfg = o.testCfg ?? null;
    checkLevelOptions(ctor.type, o);
    checkTestCfgKeys(this.testCfg, ctor.type, ctx.locate('test_cfg'));
    this.lossCls = ctx.build<Loss>('models', o.lossCls, 'loss_cls');
    this.lossMask = ctx.build<Loss>('models', o.lossMask, 'loss_mask');
    this.postprocessor = ctx.build<MaskPostProcessor>('task_utils', o.postprocessor, 'postprocessor');
    this.initLayers(o);
    // after the layers: a head's assigner settings may come from them (SOLOv2's mask stride)
    this.assigner = ctx.build<GridAssigner>('task_utils', { ...this.assignerSettings(), ...o.assigner }, 'assigner');
    applyInitCfg(this, o.initCfg, ctor.type);
  }

  /**
   * Build the layers (mmdet `_init_layers`), registered under mmdetection's state-dict names. `options` are the
   * resolved options of the concrete class's declaration (a head that declares more options may take its own
   * resolved type here).
   */
  protected abstract initLayers(options: SOLOHeadOptions): void;

  /** Raw outputs, training or eval form per `training` (mmdet `forward`); NHWC, caller owns them. */
  abstract forward(x: tf.Tensor4D[]): unknown;

  /**
   * ONNX: the eval-mode `forward` written into `g` on NCHW values (the FPN levels), returning the raw outputs under
   * the names of the head's `RawOutputs` (a list for per-level outputs), exactly what `predictByFeat` takes.
   * Heads that cannot be exported keep this default, which throws.
   */
  toOnnx(g: OnnxGraph, feats: OnnxValue[]): Record<string, OnnxValue | OnnxValue[]> {
    void g;
    void feats;
    throw notExportable(this, 'mask_head', `${this.typeName} does not implement toOnnx(g, feats)`);
  }

  /** {@link resizeFeats} in ONNX. */
  protected resizeFeatsOnnx(g: OnnxGraph, x: OnnxValue[]): OnnxValue[] {
    if (x.length !== this.numLevels) throw new SoloError(`${this.typeName}: expected ${this.numLevels} feature levels, got ${x.length}`, { code: 'SHAPE' });
    return x.map((f, i) =>
      g.scope(`resize_feats.${i}`, () => {
        if (i === 0) return resizeByScaleOnnx(g, f, 'bilinear', 0.5);
        if (i === x.length - 1) return resizeLikeOnnx(g, f, x[i - 1], 'bilinear');
        return f;
      }),
    );
  }

  /** {@link clsBranch} in ONNX: logits `[B, C, G, G]`. */
  protected clsBranchOnnx(g: OnnxGraph, feat: OnnxValue, l: number): OnnxValue {
    const grid = this.numGrids[l];
    let f = feat;
    this.clsConvs.items.forEach((layer, j) => {
      if (j === this.clsDownIndex) f = resizeToSizeOnnx(g, f, 'bilinear', [grid, grid]);
      f = layerToOnnx(layer, g, f, `cls_convs.${j}`);
    });
    return layerToOnnx(this.convCls, g, f, 'conv_cls');
  }

  /** {@link clsScores} in ONNX: sigmoid, then point NMS. */
  protected clsScoresOnnx(g: OnnxGraph, logits: OnnxValue): OnnxValue {
    return pointNmsOnnx(g, g.op('Sigmoid', [logits]), 2);
  }

  /** Training-mode outputs of a batch as the loss loop needs them (called inside the loss's tidy). */
  protected abstract lossFeatures(x: tf.Tensor4D[]): LossFeatures;

  /** The tfjs prediction path: eval scores and candidate mask probabilities from the features. */
  protected abstract predictFeatures(x: tf.Tensor4D[]): CandidateSource;

  /** The runtime-neutral path: the same from raw test-mode forward outputs as NCHW arrays (shape-checked). */
  protected abstract rawFeatures(outputs: MaskHeadRawOutputs, batchSize: number): CandidateSource;

  /** Settings every grid assigner receives (mmdetection's head attributes; built after `initLayers`). */
  protected assignerSettings(): Record<string, unknown> {
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

  protected checkInputs(x: tf.Tensor4D[]): void {
    if (x.length !== this.numLevels) {
      throw new SoloError(`${this.typeName}: expected ${this.numLevels} feature levels (one per num_grids entry), got ${x.length}`, { code: 'SHAPE' });
    }
    for (const f of x) {
      if (f.shape[3] !== this.inChannels) throw new SoloError(`${this.typeName}: feature levels must have in_channels=${this.inChannels} channels, got ${f.shape[3]}`, { code: 'SHAPE' });
    }
  }

  /**
   * mmdet `SOLOHead.resize_feats`: P2 bilinear x0.5 (`scale_factor`), P6 bilinear to P5's size, others unchanged.
   * Returns new tensors (the caller owns them).
   */
  protected resizeFeats(x: tf.Tensor4D[]): tf.Tensor4D[] {
    return x.map((f, i) => {
      if (i === 0) return interpolate(f, { scaleFactor: 0.5, mode: 'bilinear' });
      if (i === x.length - 1) return interpolate(f, { size: [x[i - 1].shape[1], x[i - 1].shape[2]], mode: 'bilinear' });
      return tf.clone(f);
    });
  }

  /** SOLO classification branch of level `l` (`cls_convs`, resized to G x G before `cls_down_index`, `conv_cls`): logits `[B, G, G, C]`. */
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

  /** Eval-mode class scores: sigmoid then point NMS (2x2 local maximum, mmdet `points_nms`). */
  protected clsScores(logits: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => pointNms(tf.sigmoid(logits), 2));
  }

  // ---- loss (mmdet `loss` -> `loss_by_feat`) ------------------------------------------------------------------

  loss(x: tf.Tensor4D[], samples: DetDataSample[]): Record<string, tf.Scalar> {
    this.checkInputs(x);
    if (samples.length !== x[0].shape[0]) throw new SoloError(`${this.typeName}: ${samples.length} samples for a batch of ${x[0].shape[0]}`, { code: 'SHAPE' });
    return tf.tidy(() => {
      const feats = this.lossFeatures(x);
      const targets = this.assign(samples, feats.featmapSizes, x);
      let numPos = 0;
      const levelPreds: Array<tf.Tensor3D | null> = [];
      const levelTargets: BitmapMasks[][] = [];
      for (let l = 0; l < this.numLevels; l++) {
        const preds: tf.Tensor3D[] = [];
        const tg: BitmapMasks[] = [];
        targets.forEach((t, b) => {
          const lt = t[l];
          for (const v of lt.posMask) numPos += v ? 1 : 0; // positive cells
          if (lt.posIndex.length === 0) return;
          preds.push(feats.positivePreds(l, b, lt));
          tg.push(lt.maskTargets);
        });
        levelPreds.push(preds.length ? (tf.concat(preds, 0) as tf.Tensor3D) : null);
        levelTargets.push(tg);
      }
      const lossMask = this.maskLoss(levelPreds, levelTargets, numPos, () => zeroLike(feats.maskOutputs));
      const { preds, labels } = this.flattenCls(feats.clsPreds, targets);
      const lossCls = this.lossCls.forward(preds, labels, { avgFactor: numPos + 1 }) as tf.Scalar;
      return { loss_mask: lossMask, loss_cls: lossCls };
    });
  }

  /** Grid targets of every image (CPU, from the ground truth padded to the batch input size). */
  protected assign(samples: DetDataSample[], featmapSizes: Array<[number, number]>, x: tf.Tensor4D[]): GridLevelTargets[][] {
    const inputSize: [number, number] = [x[0].shape[1] * 4, x[0].shape[2] * 4];
    return samples.map((s) => {
      const gt = s.gtInstances ?? {};
      const labels = gt.labels ?? new Int32Array(0);
      const n = labels.length;
      const bboxes = gt.bboxes ?? new Float32Array(0);
      if (bboxes.length !== n * 4) throw new SoloError(`sample ${s.metainfo.imgId}: ${n} gt labels but ${bboxes.length / 4} gt boxes`, { code: 'DATASET' });
      const size = (s.metainfo.batchInputShape ?? inputSize) as [number, number];
      const masks = gt.masks ?? emptyMasks(size[0], size[1]);
      if (masks.count !== n) throw new SoloError(`sample ${s.metainfo.imgId}: ${n} gt labels but ${masks.count} gt masks`, { code: 'DATASET' });
      return this.assigner.assign({ gtBboxes: bboxes, gtLabels: labels, gtMasks: padBitmapMasks(masks, size), featmapSizes });
    });
  }

  /** Mask loss over per-level positive predictions, summed and divided by num_pos (mmdet `loss_by_feat`). */
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

  // ---- predict (mmdet `predict` -> `predict_by_feat` -> `_predict_by_feat_single`) ---------------------------

  async predict(x: tf.Tensor4D[], samples: DetDataSample[]): Promise<InstanceData[]> {
    this.checkInputs(x);
    const cfg = toSoloTestCfg(this.testCfg, this.typeName);
    return this.predictFrom(this.predictFeatures(x), samples.map((s) => s.metainfo), cfg);
  }

  /**
   * mmdet `predict_by_feat`: predictions from the raw test-mode forward outputs as plain NCHW arrays (see each
   * head's `RawOutputs` type for the names and shapes), one InstanceData per entry of `batchImgMetas`. `cfg`
   * overrides entries of the head's test config. Allocates tfjs tensors only internally (all released).
   */
  async predictByFeat(outputs: MaskHeadRawOutputs, batchImgMetas: DetMeta[], cfg: Partial<SoloTestCfg> = {}): Promise<InstanceData[]> {
    const full = toSoloTestCfg({ ...(this.testCfg ? toSoloTestCfg(this.testCfg, this.typeName) : {}), ...cfg }, this.typeName);
    return this.predictFrom(this.rawFeatures(outputs, batchImgMetas.length), batchImgMetas, full);
  }

  /** Per image: `score_thr` candidates, their mask probabilities and strides, then the post-processor. */
  protected async predictFrom(source: CandidateSource, metas: DetMeta[], cfg: SoloTestCfg): Promise<InstanceData[]> {
    try {
      const scores = await source.scores();
      const results: InstanceData[] = [];
      for (let b = 0; b < metas.length; b++) {
        const cand = selectCandidates(scores[b], this.numClasses, cfg.scoreThr);
        if (cand.scores.length === 0) {
          results.push(emptyInstances(metas[b].oriShape));
          continue;
        }
        const maskProbs = tf.tidy(() => source.maskProbs(b, cand.cells));
        const strides = this.candidateStrides(cand.cells);
        results.push(await this.postprocessor.process({ maskProbs, clsScores: cand.scores, labels: cand.labels, strides }, metas[b], cfg));
      }
      return results;
    } finally {
      source.dispose();
    }
  }

  /** Flat `[cells, C]` eval scores of every image from per-level NHWC `[B, G, G, C]` scores (one read-back). */
  protected async readScores(clsScores: tf.Tensor4D[]): Promise<Float32Array[]> {
    const flat = tf.tidy(() => tf.concat(clsScores.map((c) => tf.reshape(c, [c.shape[0], -1, this.numClasses])), 1));
    const data = (await flat.data()) as Float32Array;
    const [b, cells] = flat.shape;
    flat.dispose();
    return Array.from({ length: b }, (_, i) => data.subarray(i * cells * this.numClasses, (i + 1) * cells * this.numClasses));
  }

  /** Per-candidate stride (of the level its cell belongs to). */
  protected candidateStrides(cells: Int32Array): Float32Array {
    const starts = levelStarts(this.numGrids);
    return Float32Array.from(cells, (c) => this.strides[levelOfCell(c, starts)]);
  }
}
