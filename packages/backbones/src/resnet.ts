// SPDX-License-Identifier: Apache-2.0
/**
 * ResNet backbone (mmdet `ResNet`, registry key `ResNet`, scope `models`).
 *
 * Input `[n, h, w, in_channels]` NHWC; output one feature map per `out_indices` entry, finest first:
 * stage i has `base_channels * 2^i * expansion` channels and stride `4 * prod(strides[0..i])`.
 * State-dict names are mmdet's: `conv1`, `bn1` (or `stem.{0,1,3,4,6,7}` with `deep_stem`),
 * `layer{1..4}.{b}.conv{1,2,3}` / `.bn{1,2,3}` / `.downsample.{0,1}`, DCN `conv2.conv_offset`.
 *
 * Training behaviour: `frozen_stages` freezes the stem and the first stages (requiresGrad false, eval mode
 * whatever `train()` says); `norm_eval` keeps every BatchNorm in eval mode (running statistics) when `train()`
 * is called. `init_cfg` / `pretrained` are recorded (`initCfg`); loading pretrained weights is the engine's job.
 * Initialisation follows mmdetection: with `init_cfg: null`, Kaiming normal fan_out convs, norms 1/0 and
 * (`zero_init_residual`) the last norm of every block zeroed; an explicit list such as
 * `[{type: Kaiming, layer: Conv2d, mode: fan_in}, {type: Constant, val: 1, layer: [_BatchNorm, GroupNorm]}]` is
 * applied instead (`[]` = PyTorch's default layer init).
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, Module, resolveOptions, SoloError, typed, type Backbone, type BuildContext, type FeatureSpec, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import {
  applyInitCfg,
  BatchNorm2d,
  buildConvLayer,
  buildNormLayer,
  convNormAct,
  convNormActOnnx,
  DeformConvBase,
  initCfgHasInit,
  initConv,
  initNorm,
  layerToOnnx,
  maxPool2d,
  maxPoolOnnx,
  ReLU,
  resetToTorchDefaults,
  Sequential,
  type ConvCfg,
  type Layer,
  type NormCfg,
  type OnnxGraph,
  type OnnxValue,
} from '@solo-ts/ops';
import { BasicBlock, Bottleneck, KAIMING, makeDownsample, type BlockClass, type ResBlock } from './blocks.js';

/** `init_cfg`: a list of initialisers, `{type: Pretrained, checkpoint}`, or null. */
export type BackboneInitCfg = Record<string, unknown> | Array<Record<string, unknown>>;

/** The options of {@link ResNet} (mmdet `ResNet.__init__`), declared once. */
export const resnetOptions = defineOptions({
  depth: { type: 'integer', required: true, enum: [18, 34, 50, 101, 152], doc: 'network depth: 18/34 (BasicBlock), 50/101/152 (Bottleneck)' },
  in_channels: { type: 'integer', default: 3, doc: 'input image channels' },
  stem_channels: { type: 'integer', nullable: true, default: null, doc: 'stem output channels (null = base_channels)' },
  base_channels: { type: 'integer', default: 64, doc: 'planes of stage 1; stage i uses base_channels * 2^i' },
  num_stages: { type: 'integer', default: 4, enum: [1, 2, 3, 4], doc: 'number of residual stages' },
  strides: { type: 'array', items: 'integer', default: [1, 2, 2, 2], doc: 'stride of the first block of each stage' },
  dilations: { type: 'array', items: 'integer', default: [1, 1, 1, 1], doc: 'dilation of each stage' },
  out_indices: { type: 'array', items: 'integer', default: [0, 1, 2, 3], doc: 'stages whose outputs are returned (0-based)' },
  style: { type: 'string', default: 'pytorch', enum: ['pytorch', 'caffe'], doc: 'pytorch: stride on the 3x3 conv; caffe: on the first 1x1' },
  deep_stem: { type: 'boolean', default: false, doc: 'three 3x3 convs instead of the 7x7 stem conv' },
  avg_down: { type: 'boolean', default: false, doc: 'AvgPool + 1x1 conv (stride 1) in the downsample shortcut' },
  frozen_stages: { type: 'integer', default: -1, doc: 'freeze the stem (>= 0) and stages 1..frozen_stages (-1: nothing)' },
  conv_cfg: typed<ConvCfg>()({ type: 'object', nullable: true, default: null, doc: 'conv layer config (null = Conv2d)' }),
  norm_cfg: typed<NormCfg>()({ type: 'object', default: { type: 'BN', requires_grad: true }, doc: 'norm layer config: {type: BN|GN, requires_grad, num_groups}' }),
  norm_eval: { type: 'boolean', default: true, doc: 'keep BatchNorm layers in eval mode (frozen statistics) during training' },
  dcn: typed<ConvCfg & { fallback_on_stride?: boolean }>()({
    type: 'object',
    nullable: true,
    default: null,
    doc: 'deformable conv2 config, e.g. {type: DCNv2, deform_groups: 1, fallback_on_stride: false}',
  }),
  stage_with_dcn: { type: 'array', items: 'boolean', default: [false, false, false, false], doc: 'which stages use dcn' },
  plugins: { type: 'array', nullable: true, default: null, doc: 'mmdet block plugins (not supported: must be null)' },
  with_cp: { type: 'boolean', default: false, doc: 'gradient checkpointing (accepted, no effect)' },
  zero_init_residual: { type: 'boolean', default: true, doc: 'initialise the last norm of each block to zero (only with init_cfg null, as in mmdet)' },
  pretrained: { type: 'string', nullable: true, default: null, doc: 'deprecated: use init_cfg {type: Pretrained, checkpoint}' },
  init_cfg: typed<BackboneInitCfg>()({
    type: 'any',
    nullable: true,
    default: null,
    doc: "initialisation: null (mmdet's Kaiming fan_out / constant, zero_init_residual), a list of Kaiming/Normal/Xavier/Uniform/Constant entries with layer Conv2d / _BatchNorm / GroupNorm ([] = PyTorch's default init), or {type: Pretrained, checkpoint: 'torchvision://resnet50'}",
  }),
});
/** Resolved options of {@link ResNet} (camelCase of the config keys, defaults filled in). */
export type ResNetOptions = ResolvedOptions<typeof resnetOptions>;

const ARCH: Record<number, [BlockClass, number[]]> = {
  18: [BasicBlock, [2, 2, 2, 2]],
  34: [BasicBlock, [3, 4, 6, 3]],
  50: [Bottleneck, [3, 4, 6, 3]],
  101: [Bottleneck, [3, 4, 23, 3]],
  152: [Bottleneck, [3, 8, 36, 3]],
};

/** One stage (mmdet `ResLayer`): blocks named `0`, `1`, ... */
export class ResLayer extends Sequential {
  constructor(readonly blocks: ResBlock[]) {
    super(blocks);
  }
}

export class ResNet extends Module implements Backbone {
  static readonly type: string = 'ResNet';
  static readonly description: string = 'ResNet backbone (mmdet ResNet, torchvision v1.5 layout), optional DCNv2 in conv2';
  static readonly options = resnetOptions;

  readonly depth: number;
  readonly outIndices: number[];
  readonly frozenStages: number;
  readonly normEval: boolean;
  readonly deepStem: boolean;
  readonly zeroInitResidual: boolean;
  /** Recorded init config (`{type: 'Pretrained', checkpoint}` or null); the engine loads pretrained weights. */
  readonly initCfg: BackboneInitCfg | null;
  readonly outFeatures: FeatureSpec[];
  readonly stem: Sequential | null = null;
  readonly conv1: Layer | null = null;
  readonly norm1: Layer | null = null;
  readonly resLayers: ResLayer[] = [];

  constructor(options: OptionsInput<typeof resnetOptions>, ctx?: BuildContext) {
    super();
    void ctx;
    const o = resolveOptions(resnetOptions, options, (this.constructor as typeof ResNet).type);
    if (!(o.depth in ARCH)) throw new SoloError(`invalid depth ${o.depth} for ${this.constructor.name}`, { expected: Object.keys(this.arch()).join(', ') });
    const [block, allBlocks] = this.arch()[o.depth];
    const numStages = o.numStages;
    if (o.strides.length !== numStages || o.dilations.length !== numStages) {
      throw new SoloError(`strides (${o.strides.length} entries) and dilations (${o.dilations.length}) must both have num_stages = ${numStages} entries`);
    }
    const strides = o.strides;
    const dilations = o.dilations;
    if (o.outIndices.some((i) => i < 0 || i >= numStages)) throw new SoloError(`out_indices ${JSON.stringify(o.outIndices)} must be in [0, ${numStages - 1}]`);
    if (o.plugins && o.plugins.length) throw new SoloError('ResNet plugins are not supported by solo-ts', { hint: 'set plugins: null' });
    if (o.dcn && o.stageWithDcn.length !== numStages) throw new SoloError(`stage_with_dcn has ${o.stageWithDcn.length} entries, num_stages is ${numStages}`);
    this.depth = o.depth;
    this.outIndices = [...o.outIndices];
    this.frozenStages = o.frozenStages;
    this.normEval = o.normEval;
    this.deepStem = o.deepStem;
    this.zeroInitResidual = o.zeroInitResidual;
    if (o.pretrained && o.initCfg) throw new SoloError('init_cfg and pretrained cannot be set at the same time');
    this.initCfg = o.pretrained ? { type: 'Pretrained', checkpoint: o.pretrained } : (o.initCfg ?? null);
    const stemChannels = o.stemChannels ?? o.baseChannels;
    const normCfg = o.normCfg;
    // stem
    if (o.deepStem) {
      const half = stemChannels / 2;
      const conv = (i: number, out: number, s: number) => buildConvLayer(o.convCfg, { inChannels: i, outChannels: out, kernelSize: 3, stride: s, padding: 1, bias: false, init: KAIMING });
      (this as { stem: Sequential | null }).stem = this.registerModule(
        'stem',
        new Sequential([
          conv(o.inChannels, half, 2), buildNormLayer(normCfg, half)[1], new ReLU(),
          conv(half, half, 1), buildNormLayer(normCfg, half)[1], new ReLU(),
          conv(half, stemChannels, 1), buildNormLayer(normCfg, stemChannels)[1], new ReLU(),
        ]),
      );
    } else {
      (this as { conv1: Layer | null }).conv1 = this.registerModule('conv1', buildConvLayer(o.convCfg, { inChannels: o.inChannels, outChannels: stemChannels, kernelSize: 7, stride: 2, padding: 3, bias: false, init: KAIMING }));
      const [n1, norm1] = buildNormLayer(normCfg, stemChannels, 1);
      (this as { norm1: Layer | null }).norm1 = this.registerModule(n1, norm1);
    }
    // stages
    let inplanes = stemChannels;
    let stride = 4;
    const feats: FeatureSpec[] = [];
    let dcnCfg: ConvCfg | null = null;
    let fallbackOnStride = false;
    if (o.dcn) {
      const { fallback_on_stride, ...rest } = o.dcn;
      fallbackOnStride = !!fallback_on_stride;
      dcnCfg = rest as ConvCfg;
    }
    for (let i = 0; i < numStages; i++) {
      const planes = o.baseChannels * 2 ** i;
      const s = strides[i];
      const d = dilations[i];
      // mmdet: with fallback_on_stride the block uses a plain conv2 (whatever the stride)
      const dcn = dcnCfg && o.stageWithDcn[i] && !fallbackOnStride ? dcnCfg : null;
      const out = planes * block.expansion;
      const downsample = s !== 1 || inplanes !== out ? makeDownsample({ inplanes, outChannels: out, stride: s, avgDown: o.avgDown, convCfg: o.convCfg, normCfg }) : null;
      const blocks: ResBlock[] = [];
      for (let b = 0; b < allBlocks[i]; b++) {
        blocks.push(
          this.makeBlock(block, {
            inplanes: b === 0 ? inplanes : out,
            planes,
            stride: b === 0 ? s : 1,
            dilation: d,
            downsample: b === 0 ? downsample : null,
            style: o.style,
            convCfg: o.convCfg,
            normCfg,
            dcn,
          }),
        );
      }
      const layer = this.registerModule(`layer${i + 1}`, new ResLayer(blocks));
      this.resLayers.push(layer);
      inplanes = out;
      stride *= s;
      feats.push({ channels: out, stride });
    }
    this.outFeatures = this.outIndices.map((i) => feats[i]);
    if (this.initCfg === null && this.zeroInitResidual) {
      for (const layer of this.resLayers) for (const blk of layer.blocks) initNorm(blk.lastNorm, 0);
    }
    if (initCfgHasInit(this.initCfg)) this.applyInit();
    this.freezeStages();
    this.train(true);
  }

  /**
   * An explicit (non-Pretrained) `init_cfg`, as mmdetection does it: the default Kaiming / constant init and
   * `zero_init_residual` are replaced by PyTorch's own layer init, then the entries apply in order (`[]` leaves
   * PyTorch's init: Kaiming uniform fan_in a=sqrt(5) for convs). Deformable convs' offset convs are zeroed
   * afterwards, as mmcv's `init_weights` of the DCN modules does.
   */
  private applyInit(): void {
    resetToTorchDefaults(this);
    applyInitCfg(this, this.initCfg, this.constructor.name);
    for (const [, m] of this.namedModules()) if (m instanceof DeformConvBase) initConv(m.convOffset, { type: 'constant', val: 0, bias: 0 });
  }

  /** Depth -> (block, blocks per stage); ResNeXt overrides. */
  protected arch(): Record<number, [BlockClass, number[]]> {
    return ARCH;
  }

  /** Builds one block; ResNeXt adds groups / base width. */
  protected makeBlock(block: BlockClass, o: ConstructorParameters<typeof Bottleneck>[0]): ResBlock {
    return new block(o);
  }

  private freezeStages(): void {
    if (this.frozenStages >= 0) {
      const stemModules: Module[] = this.stem ? [this.stem] : [this.conv1!, this.norm1!];
      for (const m of stemModules) {
        m.eval();
        m.requiresGrad(false);
      }
    }
    for (let i = 1; i <= this.frozenStages && i <= this.resLayers.length; i++) {
      const l = this.resLayers[i - 1];
      l.eval();
      l.requiresGrad(false);
    }
  }

  /** PyTorch `train(mode)`, then re-applies frozen stages and `norm_eval`. */
  override train(mode = true): this {
    super.train(mode);
    this.freezeStages();
    if (mode && this.normEval) {
      for (const [, m] of this.namedModules()) if (m instanceof BatchNorm2d) m.eval();
    }
    return this;
  }

  /** ONNX: as `forward` (NCHW), the `out_indices` stage outputs. */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue[] {
    let y = this.stem ? layerToOnnx(this.stem, g, x, 'stem') : convNormActOnnx(g, x, this.conv1!, this.norm1!, true, ['conv1', 'bn1']);
    y = maxPoolOnnx(g, y, 3, 2, 1);
    const outs: OnnxValue[] = [];
    this.resLayers.forEach((layer, i) => {
      y = layerToOnnx(layer, g, y, `layer${i + 1}`);
      if (this.outIndices.includes(i)) outs.push(y);
    });
    return outs;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    const kept = new Set(this.outIndices);
    return tf.tidy(() => {
      let y = this.stem ? this.stem.forward(x) : convNormAct(x, this.conv1!, this.norm1!, true);
      y = maxPool2d(y, 3, 2, 1);
      const outs: tf.Tensor4D[] = [];
      this.resLayers.forEach((layer, i) => {
        y = layer.forward(y);
        if (kept.has(i)) outs.push(y);
      });
      return outs;
    });
  }
}
