// SPDX-License-Identifier: Apache-2.0
/**
 * Single-stage instance segmentors (mmdetection `SingleStageInstanceSegmentor`, `SOLO`, `SOLOv2`); registry keys
 * `SingleStageInstanceSegmentor`, `SOLO`, `SOLOv2` (scope `models`).
 *
 * backbone -> neck -> mask_head, each built from config through the registry; the detector passes the
 * backbone's output channels to the neck (`in_channels`), the neck's to the head (`in_channels`) and its own
 * `train_cfg` / `test_cfg` to the head, as mmdetection does. State-dict keys are `backbone.*`, `neck.*`,
 * `mask_head.*`, so released mmdetection checkpoints load as they are (`loadCheckpoint`).
 *
 * `forward(inputs, samples, mode)`: 'loss' -> loss terms, 'predict' -> samples with `predInstances`,
 * 'tensor' -> raw head outputs. `preprocess` runs the data preprocessor (`data_preprocessor` in the config).
 * Inference split in two, for a network computed elsewhere (another runtime): `forwardTensor` (backbone, neck and
 * head forward) and `predictByFeat` (the head's post-processing of those outputs as plain NCHW arrays).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  defineOptions,
  Module,
  resolveOptions,
  SoloError,
  type Backbone,
  type BuildContext,
  type DetDataSample,
  type DetMeta,
  type FeatureSpec,
  type InstanceData,
  type LoadReport,
  type MaskHead,
  type MaskHeadRawOutputs,
  type Neck,
  type OptionsInput,
  type ResolvedOptions,
  type TensorRecord,
} from '@solo-ts/core';
import { hasOnnxEmitter, notExportable, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { DetDataPreprocessor, type DetDataBatch } from './data-preprocessor.js';

export type ForwardMode = 'loss' | 'predict' | 'tensor';

/** Options shared by the SOLO-family detectors (mmdet `SingleStageInstanceSegmentor.__init__`), declared once. */
export const segmentorOptions = defineOptions({
  backbone: { type: 'config', required: true, doc: 'backbone config (e.g. ResNet)' },
  neck: { type: 'config', nullable: true, doc: 'neck config (e.g. FPN); its in_channels default to the backbone output channels' },
  bbox_head: { type: 'config', nullable: true, doc: 'box head (unused by SOLO / SOLOv2; must be null)' },
  mask_head: { type: 'config', required: true, doc: 'mask head config (SOLOHead, DecoupledSOLOHead, DecoupledSOLOLightHead, SOLOV2Head, ...)' },
  train_cfg: { type: 'object', nullable: true, doc: 'training settings passed to the mask head' },
  test_cfg: { type: 'object', nullable: true, doc: 'test settings passed to the mask head (nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img)' },
  data_preprocessor: { type: 'config', nullable: true, doc: 'data preprocessor config (DetDataPreprocessor)' },
  init_cfg: { type: 'any', nullable: true, doc: 'whole-model init: not supported (use load_from or the backbone init_cfg); must be null' },
});
/** Resolved options of the SOLO-family detectors. */
export type SingleStageInstanceSegmentorOptions = ResolvedOptions<typeof segmentorOptions>;

interface WithFeatures {
  outFeatures?: FeatureSpec[];
}

export class SingleStageInstanceSegmentor extends Module {
  static readonly type: string = 'SingleStageInstanceSegmentor';
  static readonly description: string = 'single-stage instance segmentor: backbone -> neck -> mask head';
  static readonly options = segmentorOptions;

  readonly backbone: Backbone;
  readonly neck: Neck | null;
  readonly maskHead: MaskHead;
  readonly dataPreprocessor: DetDataPreprocessor;
  readonly trainCfg: Record<string, unknown> | null;
  readonly testCfg: Record<string, unknown> | null;

  constructor(input: OptionsInput<typeof segmentorOptions>, ctx: BuildContext) {
    super();
    const type = (this.constructor as typeof SingleStageInstanceSegmentor).type;
    const options = resolveOptions(segmentorOptions, input, type, ctx.locate());
    if (options.bboxHead) throw new ConfigError(`${type}: bbox_head is not supported (SOLO-family detectors have only a mask head)`, { location: ctx.locate('bbox_head') });
    if (options.initCfg) throw new ConfigError(`${type}: a model-level init_cfg is not supported; use load_from, or init_cfg on the backbone`, { location: ctx.locate('init_cfg') });
    if (!options.maskHead) throw new ConfigError(`${type} needs a mask_head`, { location: ctx.locate() });
    this.trainCfg = options.trainCfg ?? null;
    this.testCfg = options.testCfg ?? null;
    this.dataPreprocessor = options.dataPreprocessor
      ? ctx.build<DetDataPreprocessor>('models', options.dataPreprocessor, 'data_preprocessor')
      : new DetDataPreprocessor({});
    this.backbone = this.registerModule('backbone', ctx.build<Backbone>('models', options.backbone, 'backbone'));
    const bbFeatures = (this.backbone as WithFeatures).outFeatures;
    let headIn = bbFeatures?.[0]?.channels;
    if (options.neck) {
      const extra = bbFeatures ? { inChannels: bbFeatures.map((f) => f.channels) } : {};
      this.neck = this.registerModule('neck', ctx.build<Neck>('models', options.neck, 'neck', extra));
      headIn = (this.neck as WithFeatures).outFeatures?.[0]?.channels;
    } else {
      this.neck = null;
    }
    const headExtra: Record<string, unknown> = { trainCfg: this.trainCfg, testCfg: this.testCfg };
    if (headIn !== undefined) headExtra.inChannels = headIn;
    this.maskHead = this.registerModule('mask_head', ctx.build<MaskHead>('models', options.maskHead, 'mask_head', headExtra));
  }

  /** Run the data preprocessor: NHWC batch (caller owns it) and samples with batch/pad shapes set. */
  preprocess(batch: DetDataBatch, training = false): { inputs: tf.Tensor4D; dataSamples: DetDataSample[] } {
    return this.dataPreprocessor.forward(batch, training);
  }

  /** Backbone + neck features (caller owns them). */
  extractFeat(inputs: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const x = this.backbone.forward(inputs);
      return this.neck ? this.neck.forward(x) : x;
    });
  }

  /** Loss terms of the mask head (`loss_mask`, `loss_cls`). */
  loss(inputs: tf.Tensor4D, samples: DetDataSample[]): Record<string, tf.Scalar> {
    return tf.tidy(() => this.maskHead.loss(this.extractFeat(inputs), samples));
  }

  /** Predictions at each image's original size, one InstanceData per image. */
  async predict(inputs: tf.Tensor4D, samples: DetDataSample[]): Promise<InstanceData[]> {
    if (samples.length !== inputs.shape[0]) throw new SoloError(`predict: ${samples.length} samples for a batch of ${inputs.shape[0]}`, { code: 'ARGUMENT' });
    const feats = this.extractFeat(inputs);
    try {
      return await this.maskHead.predict(feats, samples);
    } finally {
      tf.dispose(feats);
    }
  }

  /** Raw head outputs (mmdet `_forward`); caller owns the tensors. */
  forwardTensor(inputs: tf.Tensor4D): unknown {
    return tf.tidy(() => this.maskHead.forward(this.extractFeat(inputs)) as tf.TensorContainer);
  }

  /**
   * ONNX: `forwardTensor` (eval mode) written into `g` from the NCHW value `input` (the data preprocessor's output):
   * backbone, neck and head through their `toOnnx`; returns the head's raw outputs by name (lists per level).
   */
  toOnnx(g: OnnxGraph, input: OnnxValue): Record<string, OnnxValue | OnnxValue[]> {
    const parts: Array<[string, unknown]> = [['backbone', this.backbone], ['neck', this.neck], ['mask_head', this.maskHead]];
    for (const [name, m] of parts) if (m && !hasOnnxEmitter(m)) throw notExportable(m, name);
    type Emit<I, O> = { toOnnx(g: OnnxGraph, x: I): O };
    const bb = g.scope('backbone', () => (this.backbone as unknown as Emit<OnnxValue, OnnxValue[]>).toOnnx(g, input));
    const feats = this.neck ? g.scope('neck', () => (this.neck as unknown as Emit<OnnxValue[], OnnxValue[]>).toOnnx(g, bb)) : bb;
    return g.scope('mask_head', () => (this.maskHead as unknown as Emit<OnnxValue[], Record<string, OnnxValue | OnnxValue[]>>).toOnnx(g, feats));
  }

  /**
   * The post-processing half of `predict` (mmdet `mask_head.predict_by_feat`): predictions at each image's
   * original size from the head's test-mode outputs given as plain NCHW arrays (names and shapes: the head's
   * `RawOutputs` type), whoever computed them; one InstanceData per entry of `batchImgMetas`.
   */
  predictByFeat(outputs: MaskHeadRawOutputs, batchImgMetas: DetMeta[]): Promise<InstanceData[]> {
    return this.maskHead.predictByFeat(outputs, batchImgMetas);
  }

  /** mmdet `forward(inputs, data_samples, mode)`. */
  forward(inputs: tf.Tensor4D, samples: DetDataSample[], mode: 'loss'): Record<string, tf.Scalar>;
  forward(inputs: tf.Tensor4D, samples: DetDataSample[], mode: 'predict'): Promise<DetDataSample[]>;
  forward(inputs: tf.Tensor4D, samples?: DetDataSample[] | null, mode?: 'tensor'): unknown;
  forward(inputs: tf.Tensor4D, samples: DetDataSample[] | null | undefined, mode: ForwardMode = 'tensor'): unknown {
    if (mode === 'loss') return this.loss(inputs, samples ?? []);
    if (mode === 'predict') {
      const s = samples ?? [];
      return this.predict(inputs, s).then((res) => s.map((sample, i) => ({ ...sample, predInstances: res[i] })));
    }
    if (mode === 'tensor') return this.forwardTensor(inputs);
    throw new SoloError(`invalid forward mode ${JSON.stringify(mode)}`, { code: 'ARGUMENT', expected: "'loss', 'predict' or 'tensor'" });
  }

  /**
   * Load a state dict in PyTorch layout (e.g. `extractStateDict(loadPthFile(...)).stateDict` of a released
   * mmdetection checkpoint). `strict` (default true) throws on missing / unexpected / mismatched keys with one
   * message listing them; otherwise they are skipped and reported.
   */
  loadCheckpoint(state: Map<string, TensorRecord | tf.Tensor>, options: { strict?: boolean; source?: string } = {}): LoadReport {
    return this.loadStateDict(state, { strict: options.strict ?? true, source: options.source, torchLayout: true });
  }
}

/** mmdetection `SOLO`. */
export class SOLO extends SingleStageInstanceSegmentor {
  static override readonly type: string = 'SOLO';
  static override readonly description: string = 'SOLO / Decoupled SOLO instance segmentor (https://arxiv.org/abs/1912.04488)';
}

/** mmdetection `SOLOv2`. */
export class SOLOv2 extends SingleStageInstanceSegmentor {
  static override readonly type: string = 'SOLOv2';
  static override readonly description: string = 'SOLOv2 instance segmentor (https://arxiv.org/abs/2003.10152)';
}
