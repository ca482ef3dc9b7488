// SPDX-License-Identifier: Apache-2.0
/**
 * Options of the SOLO-family heads, declared once (mmdetection `SOLOHead.__init__` arguments): the declaration
 * every head spreads (`soloHeadOptions`, SOLOHead's own defaults), its TypeScript types, the per-level
 * consistency checks and the test config (`test_cfg`) in the post-processor's form. The registry checks and fills
 * them from the declaration (including the values the detector passes: `in_channels`, `train_cfg`, `test_cfg`);
 * `BaseMaskHead` resolves them the same way for a head constructed in code.
 */
import { ConfigError, defineOptions, typed, type OptionsInput, type ResolvedOptions, type SoloTestCfg, type SourceLocation } from '@solo-ts/core';
import type { NormCfg } from '@solo-ts/ops';

/** mmengine `init_cfg`: one init map or a list of them. */
export type HeadInitCfg = Record<string, unknown> | Array<Record<string, unknown>>;

/** SOLOHead's `init_cfg` default with the names of the prior-probability layers. */
export function soloInitCfg(priorLayers: string[]): Array<Record<string, unknown>> {
  return [{ type: 'Normal', layer: 'Conv2d', std: 0.01 }, ...priorLayers.map((name) => ({ type: 'Normal', std: 0.01, bias_prob: 0.01, override: { name } }))];
}

/** The options of every SOLO-family head (mmdet `SOLOHead.__init__`), with SOLOHead's defaults. */
export const soloHeadOptions = defineOptions({
  num_classes: { type: 'integer', required: true, doc: 'number of categories excluding the background' },
  in_channels: { type: 'integer', required: true, doc: 'channels of each input feature level (the detector passes the neck output channels)' },
  feat_channels: { type: 'integer', default: 256, doc: 'channels of the tower convs' },
  stacked_convs: { type: 'integer', default: 4, doc: 'number of convs in each tower' },
  strides: { type: 'array', items: 'number', default: [4, 8, 16, 32, 64], doc: 'effective stride of each level (after resize_feats), used by the area filter at test time' },
  scale_ranges: typed<Array<[number, number]>>()({
    type: 'array',
    items: { type: 'array', items: 'number' },
    default: [
      [8, 32],
      [16, 64],
      [32, 128],
      [64, 256],
      [128, 512],
    ],
    doc: '[lower, upper] of sqrt(gt box area) in input pixels assigned to each level (both inclusive)',
  }),
  pos_scale: { type: 'number', default: 0.2, doc: 'size of the positive centre region relative to the gt box' },
  num_grids: { type: 'array', items: 'integer', default: [40, 36, 24, 16, 12], doc: 'grid size G of each level' },
  cls_down_index: { type: 'integer', default: 0, doc: 'index of the cls tower conv before which the feature is resized to G x G' },
  loss_mask: { type: 'config', default: { type: 'DiceLoss', use_sigmoid: true, loss_weight: 3.0 }, doc: 'mask loss config (scope models), called per positive with reduction none' },
  loss_cls: {
    type: 'config',
    default: { type: 'FocalLoss', use_sigmoid: true, gamma: 2.0, alpha: 0.25, loss_weight: 1.0 },
    doc: 'classification loss config (scope models), called with avg_factor = num_pos + 1',
  },
  norm_cfg: typed<NormCfg>()({ type: 'object', nullable: true, default: { type: 'GN', num_groups: 32, requires_grad: true }, doc: 'norm of the tower convs (mmcv norm_cfg)' }),
  train_cfg: { type: 'object', nullable: true, doc: 'training settings (unused by the SOLO family; set by the detector)' },
  test_cfg: {
    type: 'object',
    nullable: true,
    doc: 'test settings: nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img (set by the detector)',
  },
  init_cfg: typed<HeadInitCfg>()({
    type: 'any',
    nullable: true,
    default: soloInitCfg(['conv_mask_list', 'conv_cls']),
    doc: 'mmengine init_cfg (list of Normal inits with overrides)',
  }),
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
});
/** The declaration type every head's `options` extends. */
export type SOLOHeadDeclaration = typeof soloHeadOptions;
/** Resolved options common to the heads (camelCase, defaults filled in), as the constructor receives them. */
export type SOLOHeadOptions = ResolvedOptions<typeof soloHeadOptions>;
/** What code passes to `new SOLOHead(...)`: `num_classes` and `in_channels`, any of the others. */
export type SOLOHeadInput = OptionsInput<typeof soloHeadOptions>;

/** The `test_cfg` keys the post-processor reads (YAML spelling; the camelCase spelling is accepted too). */
const TEST_CFG_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['nms_pre', 'nmsPre'],
  ['score_thr', 'scoreThr'],
  ['mask_thr', 'maskThr'],
  ['filter_thr', 'filterThr'],
  ['kernel', 'kernel'],
  ['sigma', 'sigma'],
  ['max_per_img', 'maxPerImg'],
];

/** Reject `test_cfg` keys no SOLO-family head reads (they would be ignored silently otherwise). */
export function checkTestCfgKeys(raw: Record<string, unknown> | null, where: string, location?: SourceLocation): void {
  if (!raw) return;
  const known = new Set(TEST_CFG_KEYS.flat());
  for (const k of Object.keys(raw)) {
    if (!known.has(k)) {
      throw new ConfigError(`${where}: unknown test_cfg option \`${k}\``, { location, hint: `test_cfg options: ${TEST_CFG_KEYS.map(([s]) => s).join(', ')}` });
    }
  }
}

/** Read the test config (snake_case as in YAML, or camelCase) into the post-processor's form. */
export function toSoloTestCfg(raw: Record<string, unknown> | null | undefined, where: string): SoloTestCfg {
  if (!raw) throw new ConfigError(`${where}: predict needs a test_cfg (nms_pre, score_thr, mask_thr, filter_thr, kernel, sigma, max_per_img)`);
  checkTestCfgKeys(raw, where);
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
