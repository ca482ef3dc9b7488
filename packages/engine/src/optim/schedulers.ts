// SPDX-License-Identifier: Apache-2.0
/**
 * Parameter schedulers with mmengine's semantics (`param_scheduler` list), as closed forms of mmengine's chained
 * updates. Every scheduler gives a multiplicative factor of the base learning rate; the factors of all active
 * schedulers multiply, as mmengine's chained (`_get_value`) form does.
 *
 * - `LinearLR(start_factor, end_factor = 1, begin, end, by_epoch)`: factor goes linearly from start_factor at
 *   step `begin` to end_factor at step `end`, then stays at end_factor. Steps are iterations when by_epoch is
 *   false (the warm-up), epochs otherwise.
 * - `MultiStepLR(milestones, gamma, begin, end, by_epoch)`: factor = gamma ^ (number of milestones <= step).
 * - `ConstantLR(factor, begin, end)`, `StepLR(step_size, gamma)`, `CosineAnnealingLR(T_max, eta_min)` for
 *   completeness.
 * Before `begin` a scheduler does not act (factor 1); at or after `end` it keeps its last value (mmengine stops
 * stepping it).
 */
import { SoloError, type OptionSpecs } from '@solo-ts/core';

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
}

function step(pos: SchedulerPosition, s: Span): number {
  return s.byEpoch ? pos.epoch : pos.iter;
}

function checkSpan(type: string, o: { begin?: number; end?: number; byEpoch?: boolean }): Span {
  const span = { begin: o.begin ?? 0, end: o.end ?? Number.POSITIVE_INFINITY, byEpoch: o.byEpoch ?? true };
  if (!(span.end > span.begin)) throw new SoloError(`${type}: \`end\` (${span.end}) must be greater than \`begin\` (${span.begin})`);
  return span;
}

export class LinearLR implements LrScheduler {
  static readonly type = 'LinearLR';
  static readonly description = 'Linear warm-up of the learning rate factor from start_factor to end_factor.';
  static readonly options: OptionSpecs = {
    start_factor: { type: 'number', default: 1 / 3, doc: 'factor at `begin`' },
    end_factor: { type: 'number', default: 1, doc: 'factor at `end` and after' },
    begin: { type: 'integer', default: 0, doc: 'first step (iteration or epoch)' },
    end: { type: 'integer', default: 1e9, doc: 'last step (exclusive)' },
    by_epoch: { type: 'boolean', default: true, doc: 'count epochs (true) or iterations (false)' },
    convert_to_iter_based: { type: 'boolean', default: false, doc: 'accepted for compatibility' },
    verbose: { type: 'boolean', default: false, doc: 'accepted for compatibility' },
  };
  readonly byEpoch: boolean;
  private readonly span: Span;
  constructor(private readonly o: { startFactor: number; endFactor: number; begin?: number; end?: number; byEpoch?: boolean }) {
    this.span = checkSpan('LinearLR', o);
    this.byEpoch = this.span.byEpoch;
    if (!(o.startFactor > 0 && o.startFactor <= 1)) throw new SoloError(`LinearLR: start_factor must be in (0, 1], got ${o.startFactor}`);
  }
  factor(pos: SchedulerPosition): number {
    const t = step(pos, this.span);
    if (t < this.span.begin) return 1;
    const total = this.span.end - this.span.begin;
    const k = Math.min(t - this.span.begin, total);
    return this.o.startFactor + ((this.o.endFactor - this.o.startFactor) * k) / total;
  }
}

export class MultiStepLR implements LrScheduler {
  static readonly type = 'MultiStepLR';
  static readonly description = 'Decays the learning rate by gamma at each milestone.';
  static readonly options: OptionSpecs = {
    milestones: { type: 'array', required: true, doc: 'steps (epochs when by_epoch) at which the lr is multiplied by gamma' },
    gamma: { type: 'number', default: 0.1, doc: 'decay factor' },
    begin: { type: 'integer', default: 0, doc: 'first step' },
    end: { type: 'integer', default: 1e9, doc: 'last step (exclusive)' },
    by_epoch: { type: 'boolean', default: true, doc: 'count epochs (true) or iterations (false)' },
    verbose: { type: 'boolean', default: false, doc: 'accepted for compatibility' },
  };
  readonly byEpoch: boolean;
  private readonly span: Span;
  constructor(private readonly o: { milestones: number[]; gamma: number; begin?: number; end?: number; byEpoch?: boolean }) {
    this.span = checkSpan('MultiStepLR', o);
    this.byEpoch = this.span.byEpoch;
    if (!o.milestones.every((m) => typeof m === 'number')) throw new SoloError('MultiStepLR: milestones must be numbers');
  }
  factor(pos: SchedulerPosition): number {
    const t = Math.min(step(pos, this.span), this.span.end - 1);
    if (t < this.span.begin) return 1;
    const n = this.o.milestones.filter((m) => m <= t).length;
    return this.o.gamma ** n;
  }
}

export class StepLR implements LrScheduler {
  static readonly type = 'StepLR';
  static readonly options: OptionSpecs = {
    step_size: { type: 'integer', required: true, doc: 'period of decay' },
    gamma: { type: 'number', default: 0.1, doc: 'decay factor' },
    begin: { type: 'integer', default: 0, doc: 'first step' },
    end: { type: 'integer', default: 1e9, doc: 'last step (exclusive)' },
    by_epoch: { type: 'boolean', default: true, doc: 'count epochs or iterations' },
  };
  readonly byEpoch: boolean;
  private readonly span: Span;
  constructor(private readonly o: { stepSize: number; gamma: number; begin?: number; end?: number; byEpoch?: boolean }) {
    this.span = checkSpan('StepLR', o);
    this.byEpoch = this.span.byEpoch;
  }
  factor(pos: SchedulerPosition): number {
    const t = Math.min(step(pos, this.span), this.span.end - 1);
    if (t < this.span.begin) return 1;
    return this.o.gamma ** Math.floor((t - this.span.begin) / this.o.stepSize);
  }
}

export class ConstantLR implements LrScheduler {
  static readonly type = 'ConstantLR';
  static readonly options: OptionSpecs = {
    factor: { type: 'number', default: 1 / 3, doc: 'constant factor until `end`' },
    begin: { type: 'integer', default: 0, doc: 'first step' },
    end: { type: 'integer', default: 5, doc: 'last step (exclusive)' },
    by_epoch: { type: 'boolean', default: true, doc: 'count epochs or iterations' },
  };
  readonly byEpoch: boolean;
  private readonly span: Span;
  constructor(private readonly o: { factor: number; begin?: number; end?: number; byEpoch?: boolean }) {
    this.span = checkSpan('ConstantLR', o);
    this.byEpoch = this.span.byEpoch;
  }
  factor(pos: SchedulerPosition): number {
    const t = step(pos, this.span);
    return t >= this.span.begin && t < this.span.end ? this.o.factor : 1;
  }
}

export class CosineAnnealingLR implements LrScheduler {
  static readonly type = 'CosineAnnealingLR';
  static readonly options: OptionSpecs = {
    T_max: { type: 'integer', required: false, doc: 'steps of a half cosine period (default end - begin)' },
    eta_min: { type: 'number', default: 0, doc: 'minimum learning rate' },
    begin: { type: 'integer', default: 0, doc: 'first step' },
    end: { type: 'integer', default: 1e9, doc: 'last step (exclusive)' },
    by_epoch: { type: 'boolean', default: true, doc: 'count epochs or iterations' },
  };
  readonly byEpoch: boolean;
  private readonly span: Span;
  constructor(private readonly o: { TMax?: number; etaMin: number; begin?: number; end?: number; byEpoch?: boolean }) {
    this.span = checkSpan('CosineAnnealingLR', o);
    this.byEpoch = this.span.byEpoch;
  }
  factor(pos: SchedulerPosition, baseLr: number): number {
    const t = step(pos, this.span);
    if (t < this.span.begin) return 1;
    const T = this.o.TMax ?? this.span.end - this.span.begin;
    const k = Math.min(t - this.span.begin, T);
    const lr = this.o.etaMin + ((baseLr - this.o.etaMin) * (1 + Math.cos((Math.PI * k) / T))) / 2;
    return baseLr > 0 ? lr / baseLr : 1;
  }
}

/** Learning rate at a position given the scheduler list (product of factors). */
export function lrAt(schedulers: LrScheduler[], baseLr: number, pos: SchedulerPosition): number {
  let f = 1;
  for (const s of schedulers) f *= s.factor(pos, baseLr);
  return baseLr * f;
}
