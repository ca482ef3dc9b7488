// SPDX-License-Identifier: Apache-2.0
/**
 * Parameter schedulers with mmengine's semantics (`param_scheduler` list), as closed forms of mmengine's chained
 * updates. Every scheduler gives a multiplicative factor of the base learning rate; the factors of all active
 * schedulers multiply, as mmengine's chained (`_get_value`) form does.
 *
 * A scheduler acts on steps `begin <= t < end` (iterations when `by_epoch` is false, epochs otherwise); `k = t -
 * begin` is its local step. mmengine evaluates step t before iteration/epoch t runs (the scheduler is stepped
 * once at construction and after every iteration/epoch), so iteration i trains with the value at step i.
 * - `LinearLR(start_factor, end_factor = 1)`: factor = start + (end_factor - start) * min(k, T) / T with
 *   T = end - begin - 1 (mmengine's `total_iters`: end_factor is reached at step end - 1).
 * - `MultiStepLR(milestones, gamma)`: gamma ^ (number of milestones <= k).
 * - `StepLR(step_size, gamma)`: gamma ^ floor(k / step_size).
 * - `ConstantLR(factor)`: factor for k < end - begin - 1, then 1.
 * - `CosineAnnealingLR(T_max, eta_min)`: eta_min + (base - eta_min)(1 + cos(pi k / T_max)) / 2 (as a factor).
 * Before `begin` a scheduler does not act (factor 1); at or after `end` it keeps its last value (mmengine stops
 * stepping it). `convert_to_iter_based: true` turns an epoch-based scheduler into an iteration-based one with
 * begin, end, milestones, step_size and T_max multiplied by the iterations per epoch, as mmengine does.
 * Checked against torch.optim.lr_scheduler in schedulers.test.ts (`__fixtures__/make_schedulers.py`).
 */
import { ConfigError, SoloError, defineOptions, resolveOptions, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';

export interface SchedulerPosition {
  /** 0-based epoch being trained */
  epoch: number;
  /** 0-based global iteration being trained */
  iter: number;
  /** iterations per epoch (for by_epoch schedulers converted to iterations) */
  itersPerEpoch: number;
}

export interface LrScheduler {
  readonly byEpoch: boolean;
  /** Multiplicative factor of the base lr at this position (closed form). */
  factor(pos: SchedulerPosition, baseLr: number): number;
}

interface Span {
  begin: number;
  end: number;
  byEpoch: boolean;
  /** epoch-based config evaluated per iteration (mmengine `convert_to_iter_based`) */
  convert: boolean;
}

/** mmengine's INF (1e9): an open end. */
const INF = 1e9;

/** Multiplier of epoch quantities (1, or the iterations per epoch when converted to iteration-based). */
function unit(pos: SchedulerPosition, s: Span): number {
  return s.convert ? pos.itersPerEpoch : 1;
}

/** The scheduler's step `t` at this position, its local step `k = t - begin` clamped to the last active step,
 *  or null before `begin`. */
function localStep(pos: SchedulerPosition, s: Span): { k: number; total: number } | null {
  const u = unit(pos, s);
  const t = s.byEpoch && !s.convert ? pos.epoch : pos.iter;
  const begin = s.begin * u;
  const end = s.end >= INF ? Number.POSITIVE_INFINITY : s.end * u;
  if (t < begin) return null;
  return { k: Math.min(t, end - 1) - begin, total: end - begin };
}

/** The options every scheduler has (mmengine `_ParamScheduler.__init__`), declared once. */
export const schedulerSpanOptions = defineOptions({
  begin: { type: 'integer', default: 0, doc: 'first step (iteration or epoch) the scheduler acts on' },
  end: { type: 'integer', default: INF, doc: 'step at which it stops (exclusive; the last value is kept)' },
  by_epoch: { type: 'boolean', default: true, doc: 'steps are epochs (true) or iterations (false)' },
  convert_to_iter_based: { type: 'boolean', default: false, doc: 'evaluate an epoch-based schedule per iteration (smooth)' },
  verbose: { type: 'boolean', default: false, doc: 'must be false (the lr of every iteration is in the log and scalars.json)' },
});
type SpanOptions = ResolvedOptions<typeof schedulerSpanOptions>;

function checkSpan(type: string, o: SpanOptions): Span {
  if (o.verbose) throw new ConfigError(`${type}.verbose: true is not supported by solo-ts (the learning rate of every iteration is in the log and vis_data/scalars.json)`);
  const span = { begin: o.begin, end: o.end, byEpoch: o.byEpoch, convert: o.convertToIterBased && o.byEpoch };
  if (!(span.end > span.begin)) throw new SoloError(`${type}: \`end\` (${span.end}) must be greater than \`begin\` (${span.begin})`);
  return span;
}

/**
 * A scheduler with its declared options `S` (which include {@link schedulerSpanOptions}): resolves them once
 * (`this.o`, camelCase) and checks the span; subclasses give the factor at a local step.
 */
abstract class BaseScheduler<S extends typeof schedulerSpanOptions> implements LrScheduler {
  readonly byEpoch: boolean;
  protected readonly span: Span;
  protected readonly o: ResolvedOptions<S>;
  constructor(type: string, declaration: S, options: OptionsInput<S> | undefined) {
    this.o = resolveOptions(declaration, options, type);
    this.span = checkSpan(type, this.o as unknown as SpanOptions);
    this.byEpoch = this.span.byEpoch && !this.span.convert;
  }
  factor(pos: SchedulerPosition, baseLr: number): number {
    const s = localStep(pos, this.span);
    return s === null ? 1 : this.local(s.k, s.total, unit(pos, this.span), baseLr);
  }
  /** Factor at local step k (0-based, clamped to the last active step); `total` = end - begin in steps. */
  protected abstract local(k: number, total: number, unit: number, baseLr: number): number;
}

/** The options of {@link LinearLR}, declared once. */
export const linearLROptions = defineOptions({
  start_factor: { type: 'number', default: 1 / 3, doc: 'factor at `begin`' },
  end_factor: { type: 'number', default: 1, doc: 'factor at `end - 1` and after' },
  ...schedulerSpanOptions,
});

export class LinearLR extends BaseScheduler<typeof linearLROptions> {
  static readonly type = 'LinearLR';
  static readonly description = 'Linear warm-up of the learning rate factor from start_factor to end_factor (reached at step end - 1).';
  static readonly options = linearLROptions;
  constructor(options: OptionsInput<typeof linearLROptions> = {}) {
    super('LinearLR', linearLROptions, options);
    if (!(this.o.startFactor > 0 && this.o.startFactor <= 1)) throw new SoloError(`LinearLR: start_factor must be in (0, 1], got ${this.o.startFactor}`);
    if (!(this.o.endFactor >= 0 && this.o.endFactor <= 1)) throw new SoloError(`LinearLR: end_factor must be in [0, 1], got ${this.o.endFactor}`);
  }
  protected local(k: number, total: number): number {
    const T = total - 1;
    if (T <= 0) return this.o.startFactor;
    return this.o.startFactor + ((this.o.endFactor - this.o.startFactor) * Math.min(k, T)) / T;
  }
}

/** The options of {@link MultiStepLR}, declared once. */
export const multiStepLROptions = defineOptions({
  milestones: { type: 'array', items: 'number', required: true, doc: 'steps after `begin` (epochs when by_epoch) at which the lr is multiplied by gamma' },
  gamma: { type: 'number', default: 0.1, doc: 'decay factor' },
  ...schedulerSpanOptions,
});

export class MultiStepLR extends BaseScheduler<typeof multiStepLROptions> {
  static readonly type = 'MultiStepLR';
  static readonly description = 'Decays the learning rate by gamma at each milestone.';
  static readonly options = multiStepLROptions;
  constructor(options: OptionsInput<typeof multiStepLROptions>) {
    super('MultiStepLR', multiStepLROptions, options);
  }
  protected local(k: number, _total: number, u: number): number {
    return this.o.gamma ** this.o.milestones.filter((m) => m * u <= k).length;
  }
}

/** The options of {@link StepLR}, declared once. */
export const stepLROptions = defineOptions({
  step_size: { type: 'integer', required: true, doc: 'period of decay' },
  gamma: { type: 'number', default: 0.1, doc: 'decay factor' },
  ...schedulerSpanOptions,
});

export class StepLR extends BaseScheduler<typeof stepLROptions> {
  static readonly type = 'StepLR';
  static readonly description = 'Decays the learning rate by gamma every step_size steps.';
  static readonly options = stepLROptions;
  constructor(options: OptionsInput<typeof stepLROptions>) {
    super('StepLR', stepLROptions, options);
    if (!(this.o.stepSize >= 1)) throw new SoloError(`StepLR: step_size must be >= 1, got ${this.o.stepSize}`);
  }
  protected local(k: number, _total: number, u: number): number {
    return this.o.gamma ** Math.floor(k / (this.o.stepSize * u));
  }
}

/** The options of {@link ConstantLR}, declared once (its own default `end`). */
export const constantLROptions = defineOptions({
  factor: { type: 'number', default: 1 / 3, doc: 'constant factor' },
  ...schedulerSpanOptions,
  end: { type: 'integer', default: 5, doc: 'step at which it stops (the factor applies to steps begin .. end - 2)' },
});

export class ConstantLR extends BaseScheduler<typeof constantLROptions> {
  static readonly type = 'ConstantLR';
  static readonly description = 'Multiplies the learning rate by a constant factor until step end - 1.';
  static readonly options = constantLROptions;
  constructor(options: OptionsInput<typeof constantLROptions> = {}) {
    super('ConstantLR', constantLROptions, options);
    if (!(this.o.factor >= 0 && this.o.factor <= 1)) throw new SoloError(`ConstantLR: factor must be in [0, 1], got ${this.o.factor}`);
  }
  protected local(k: number, total: number): number {
    return k < total - 1 ? this.o.factor : 1;
  }
}

/** The options of {@link CosineAnnealingLR}, declared once (`T_max` in mmengine's spelling; TypeScript `TMax`). */
export const cosineAnnealingLROptions = defineOptions({
  T_max: { type: 'integer', doc: 'steps of a half cosine period (default end - begin)' },
  eta_min: { type: 'number', default: 0, doc: 'minimum learning rate' },
  ...schedulerSpanOptions,
});

export class CosineAnnealingLR extends BaseScheduler<typeof cosineAnnealingLROptions> {
  static readonly type = 'CosineAnnealingLR';
  static readonly description = 'Cosine annealing of the learning rate from its value at `begin` to eta_min over T_max steps.';
  static readonly options = cosineAnnealingLROptions;
  constructor(options: OptionsInput<typeof cosineAnnealingLROptions> = {}) {
    super('CosineAnnealingLR', cosineAnnealingLROptions, options);
  }
  protected local(k: number, total: number, u: number, baseLr: number): number {
    const T = this.o.TMax !== undefined ? this.o.TMax * u : total;
    if (!Number.isFinite(T) || T <= 0) throw new SoloError('CosineAnnealingLR needs T_max or a finite `end`');
    const kk = Math.min(k, T);
    const lr = this.o.etaMin + ((baseLr - this.o.etaMin) * (1 + Math.cos((Math.PI * kk) / T))) / 2;
    return baseLr > 0 ? lr / baseLr : 1;
  }
}

/** Learning rate at a position given the scheduler list (product of factors). */
export function lrAt(schedulers: readonly LrScheduler[], baseLr: number, pos: SchedulerPosition): number {
  let f = 1;
  for (const s of schedulers) f *= s.factor(pos, baseLr);
  return baseLr * f;
}
