// SPDX-License-Identifier: Apache-2.0
/**
 * Options of the SOLO-family heads (mmdetection `SOLOHead.__init__` arguments): the option specs the registry
 * checks, their camelCase TypeScript form, the defaults for heads constructed without the registry, the
 * per-level consistency checks and the test config (`test_cfg`) in the post-processor's form.
 */
import { ConfigError, type OptionSpecs, type SoloTestCfg } from '@solo-ts/core';

/** Options shared by every SOLO-family head (mmdetection `SOLOHead.__init__`). */
export function soloHeadOptionSpecs(defaults: { lossMask: Record<string, unknown>; initCfg: unknown[] }): OptionSpecs {
  return {
    num_classes: { type: 'integer', required: true, doc: 'number of categories excluding the background' },
    in_channels: { type: 'integer', required: true, doc: 'channels of each input feature level (the detector passes the neck output channels)' },
    feat_channels: { type: 'integer', default: 256, doc: 'channels of the tower convs' },
    stacked_convs: { type: 'integer', default: 4, doc: 'number of convs in each tower' },
    strides: { type: 'array', default: [4, 8, 16, 32, 64], doc: 'effective stride of each level (after resize_feats), used by the area filter at test time' },
    scale_ranges: {
      type: 'array',
      default: [
        [8, 32],
        [16, 64],
        [32, 128],
        [64, 256],
        [128, 512],
      ],
      doc: '[lower, upper] of sqrt(gt box area) in input pixels assigned to each level (both inclusive)',
    },
    pos_scale: { type: 'number', default: 0.2, doc: 'size of the positive centre region relative to the gt box' },
    num_grids: { type: 'array', default: [40, 36, 24, 16, 12], doc: 'grid size G of each level' },
    cls_down_index: { type: 'integer', default: 0, doc: 'index of the cls tower conv before which the feature is resized to G x G' },
    loss_mask: { type: 'config', default: defaults.lossMask, doc: 'mask loss config (scope models), called per positive with reduction none' },
    loss_cls: {
      type: 'config',
      default: { type: 'FocalLoss', use_sigmoid: true, gamma: 2.0, alpha: 0.25, loss_weight: 1.0 },
      doc: 'classification loss config (scope models), called with avg_factor = num_pos + 1',
    },
    norm_cfg: { type: 'object', nullable: true, default: { type: 'GN', num_groups: 32, requires_grad: true }, doc: 'norm of the tower convs (mmcv norm_cfg)' },
    train_cfg: { type: 'any', nullable: true, doc: 'training settings (unused by the SOLO family; set by the detector)' },
    test_cfg: {
      type: 'object',
      nullable: true,
      doc: 'test settings: nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img (set by the detector)',
    },
    init_cfg: { type: 'any', nullable: true, default: defaults.initCfg, doc: 'mmengine init_cfg (list of Normal inits with overrides)' },
    assigner: {
      type: 'config',
      default: { type: 'SOLOGridAssigner' },
      doc: 'grid assigner (scope task_utils); receives num_classes, num_grids, scale_ranges, pos_scale, strides, mode',
    },
    postprocessor: {
      type: 'config',
      default: { type: 'SOLOMaskPostProcessor' },
      doc: 'mask post-processor (scope task_utils): area filter, maskness, Matrix NMS, resize to the original size',
    },
  };
}

/** Defaults of SOLOHead's init_cfg with the names of the prior-probability layers. */
export function soloInitCfg(priorLayers: string[]): unknown[] {
  return [{ type: 'Normal', layer: 'Conv2d', std: 0.01 }, ...priorLayers.map((name) => ({ type: 'Normal', std: 0.01, bias_prob: 0.01, override: { name } }))];
}

/** Camel-cased options common to the heads (as the registry hands them over). */
export interface SOLOHeadOptions {
  numClasses: number;
  inChannels: number;
  featChannels?: number;
  stackedConvs?: number;
  strides?: number[];
  scaleRanges?: Array<[number, number]>;
  posScale?: number;
  numGrids?: number[];
  clsDownIndex?: number;
  lossMask?: Record<string, unknown>;
  lossCls?: Record<string, unknown>;
  normCfg?: Record<string, unknown> | null;
  trainCfg?: unknown;
  testCfg?: Record<string, unknown> | null;
  initCfg?: unknown;
  assigner?: Record<string, unknown>;
  postprocessor?: Record<string, unknown>;
}

/** Read the test config (snake_case as in YAML, or camelCase) into the post-processor's form. */
export function toSoloTestCfg(raw: Record<string, unknown> | null | undefined, where: string): SoloTestCfg {
  if (!raw) throw new ConfigError(`${where}: predict needs a test_cfg (nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img)`);
  const get = (snake: string, camel: string, dflt?: unknown): unknown => raw[snake] ?? raw[camel] ?? dflt;
  const num = (snake: string, camel: string, dflt?: number): number => {
    const v = get(snake, camel, dflt);
    if (typeof v !== 'number') throw new ConfigError(`${where}: test_cfg.${snake} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const kernel = get('kernel', 'kernel', 'gaussian');
  if (kernel !== 'gaussian' && kernel !== 'linear') throw new ConfigError(`${where}: test_cfg.kernel must be 'gaussian' or 'linear', got ${JSON.stringify(kernel)}`);
  return {
    nmsPre: num('nms_pre', 'nmsPre', -1),
    scoreThr: num('score_thr', 'scoreThr'),
    maskThr: num('mask_thr', 'maskThr'),
    filterThr: num('filter_thr', 'filterThr', -1),
    kernel,
    sigma: num('sigma', 'sigma', 2.0),
    maxPerImg: num('max_per_img', 'maxPerImg', -1),
  };
}

/** Check the per-level list options against each other. */
export function checkLevelOptions(type: string, o: { strides: number[]; scaleRanges: Array<[number, number]>; numGrids: number[] }): void {
  const n = o.numGrids.length;
  if (o.strides.length !== n || o.scaleRanges.length !== n) {
    throw new ConfigError(`${type}: strides (${o.strides.length}), scale_ranges (${o.scaleRanges.length}) and num_grids (${n}) must have one entry per level`);
  }
  for (const r of o.scaleRanges) {
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number') {
      throw new ConfigError(`${type}: every scale_ranges entry must be [lower, upper], got ${JSON.stringify(r)}`);
    }
  }
}

/**
 * Fill the declared defaults of `specs` into camelCase `options` (for heads constructed without the registry,
 * which fills them itself when it builds a head).
 */
export function withDefaults<T extends object>(specs: OptionSpecs, options: T): T {
  const out: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const [k, spec] of Object.entries(specs)) {
    const ck = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (out[ck] === undefined && spec.default !== undefined) out[ck] = JSON.parse(JSON.stringify(spec.default));
  }
  return out as T;
}
