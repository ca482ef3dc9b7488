// SPDX-License-Identifier: Apache-2.0
/**
 * `OptimWrapper` (registry scope `optim_wrappers`): mmengine's `optim_wrapper` config. It validates the keys and
 * resolves `paramwise_cfg` into per-parameter multipliers; the optimizer itself is built by `buildOptimizer`
 * once the learning rate is final (auto_scale_lr) and the model exists.
 *
 * paramwise_cfg (mmengine DefaultOptimWrapperConstructor, the common subset):
 * - `norm_decay_mult`: weight decay multiplier of normalization layers' weights and biases (BN, GN);
 * - `bias_decay_mult`, `bias_lr_mult`: multipliers of biases that are not normalization parameters;
 * - `custom_keys: {substring: {lr_mult, decay_mult}}`: the longest matching key (alphabetical tie-break) wins and
 *   replaces the multipliers above for that parameter, as in mmengine.
 */
import { ConfigError, defineOptions, resolveOptions, typed, type ComponentConfig, type Module, type OptionsInput } from '@solo-ts/core';
import { BatchNorm2d, GroupNorm } from '@solo-ts/ops';
import type { ParamGroupMult } from '../optim/sgd.js';

export interface ParamwiseCfg {
  normDecayMult?: number;
  biasDecayMult?: number;
  biasLrMult?: number;
  customKeys?: Record<string, { lr_mult?: number; decay_mult?: number }>;
}

const PARAMWISE_KEYS = new Set(['norm_decay_mult', 'bias_decay_mult', 'bias_lr_mult', 'custom_keys', 'dwconv_decay_mult', 'flat_decay_mult', 'bypass_duplicate']);

/**
 * The options of {@link OptimWrapper} (`optim_wrapper`, mmengine `OptimWrapper` + its constructor), declared once.
 * `constructor` is typed `string | object`: TypeScript sees the function every object inherits under that name.
 */
export const optimWrapperOptions = defineOptions({
  optimizer: { type: 'config', required: true, doc: 'optimizer config (scope optimizers), e.g. {type: SGD, lr: 0.01, momentum: 0.9, weight_decay: 0.0001}' },
  clip_grad: typed<{ max_norm?: unknown; norm_type?: unknown }>()({ type: 'object', nullable: true, doc: '{max_norm, norm_type: 2}: clip the global gradient norm (torch clip_grad_norm_)' }),
  paramwise_cfg: { type: 'object', nullable: true, doc: 'norm_decay_mult, bias_decay_mult, bias_lr_mult, custom_keys {name: {lr_mult, decay_mult}}' },
  accumulative_counts: { type: 'integer', default: 1, doc: 'gradient accumulation (only 1 is supported)' },
  constructor: typed<string | object>()({ type: 'string', nullable: true, doc: "optimizer constructor (only the default, 'DefaultOptimWrapperConstructor')" }),
});

export class OptimWrapper {
  static readonly type = 'OptimWrapper';
  static readonly description = 'optimizer + gradient clipping + per-parameter lr/decay multipliers (paramwise_cfg)';
  static readonly options = optimWrapperOptions;

  readonly optimizer: ComponentConfig;
  readonly clipGrad?: { maxNorm: number; normType: number };
  readonly paramwise: ParamwiseCfg | null;

  constructor(options: OptionsInput<typeof optimWrapperOptions>) {
    const o = resolveOptions(optimWrapperOptions, options, 'optim_wrapper');
    this.optimizer = o.optimizer;
    if (o.accumulativeCounts !== 1) throw new ConfigError(`optim_wrapper.accumulative_counts ${o.accumulativeCounts} is not supported (only 1)`);
    // an own `constructor` key only: an absent one reads Object.prototype.constructor
    const ctor: unknown = Object.prototype.hasOwnProperty.call(o, 'constructor') ? o.constructor : undefined;
    if (typeof ctor === 'string' && ctor !== 'DefaultOptimWrapperConstructor') throw new ConfigError(`optim_wrapper.constructor ${ctor} is not supported`);
    if (o.clipGrad) {
      const { max_norm, norm_type, ...rest } = o.clipGrad;
      if (typeof max_norm !== 'number' || !(max_norm > 0)) throw new ConfigError(`optim_wrapper.clip_grad.max_norm must be a positive number, got ${JSON.stringify(max_norm)}`);
      if (norm_type !== undefined && norm_type !== 2) throw new ConfigError(`optim_wrapper.clip_grad.norm_type ${JSON.stringify(norm_type)} is not supported (only 2)`);
      const extra = Object.keys(rest).filter((k) => !k.startsWith('_'));
      if (extra.length) throw new ConfigError(`optim_wrapper.clip_grad: unknown key \`${extra[0]}\` (known: max_norm, norm_type)`);
      this.clipGrad = { maxNorm: max_norm, normType: 2 };
    }
    this.paramwise = o.paramwiseCfg ? paramwise(o.paramwiseCfg) : null;
  }
}

/** `paramwise_cfg` checked and resolved (the keys mmengine's default constructor reads; the unsupported ones refused). */
function paramwise(p: Record<string, unknown>): ParamwiseCfg {
  for (const k of Object.keys(p)) {
    if (k.startsWith('_')) continue;
    if (!PARAMWISE_KEYS.has(k)) throw new ConfigError(`optim_wrapper.paramwise_cfg: unknown key \`${k}\``, { expected: [...PARAMWISE_KEYS].join(', ') });
    if (['dwconv_decay_mult', 'flat_decay_mult'].includes(k)) throw new ConfigError(`optim_wrapper.paramwise_cfg.${k} is not supported`);
  }
  const num = (k: string): number | undefined => {
    const v = p[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') throw new ConfigError(`optim_wrapper.paramwise_cfg.${k} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const ck = p.custom_keys as Record<string, { lr_mult?: number; decay_mult?: number }> | undefined;
  if (ck !== undefined && (typeof ck !== 'object' || ck === null || Array.isArray(ck))) throw new ConfigError('optim_wrapper.paramwise_cfg.custom_keys must be a map {name: {lr_mult, decay_mult}}');
  return { normDecayMult: num('norm_decay_mult'), biasDecayMult: num('bias_decay_mult'), biasLrMult: num('bias_lr_mult'), customKeys: ck };
}

/**
 * Per-parameter multipliers from a paramwise config, by state-dict name (empty map when nothing applies).
 * Normalization parameters are those of BatchNorm2d / GroupNorm modules.
 */
export function paramMultipliers(model: Module, names: readonly string[], cfg: ParamwiseCfg | null): Map<string, ParamGroupMult> {
  const out = new Map<string, ParamGroupMult>();
  if (!cfg) return out;
  const normParams = new Set<string>();
  for (const [prefix, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d || m instanceof GroupNorm)) continue;
    for (const [n] of m.namedParameters(prefix)) normParams.add(n);
  }
  const keys = Object.keys(cfg.customKeys ?? {}).sort().sort((a, b) => b.length - a.length);
  for (const name of names) {
    let lrMult = 1;
    let decayMult = 1;
    const custom = keys.find((k) => name.includes(k));
    if (custom) {
      const c = cfg.customKeys![custom];
      lrMult = c.lr_mult ?? 1;
      decayMult = c.decay_mult ?? 1;
    } else if (normParams.has(name)) {
      if (cfg.normDecayMult !== undefined) decayMult = cfg.normDecayMult;
    } else if (name.endsWith('.bias')) {
      if (cfg.biasLrMult !== undefined) lrMult = cfg.biasLrMult;
      if (cfg.biasDecayMult !== undefined) decayMult = cfg.biasDecayMult;
    }
    if (lrMult !== 1 || decayMult !== 1) out.set(name, { lrMult, decayMult });
  }
  return out;
}
