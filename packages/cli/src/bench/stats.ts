// SPDX-License-Identifier: Apache-2.0
/**
 * Timing statistics for `solo bench`: a `Clock` that reads wall time and this process's CPU time (user + system,
 * all threads, so it stays meaningful on a loaded machine), and robust summaries (median, p10 / p90, median
 * absolute deviation) of repeated measurements.
 */

/** A point in time: wall clock (ms) and process CPU time (ms). */
export interface Stamp {
  wall: number;
  cpu: number;
}

/** Wall and CPU milliseconds between two stamps. */
export interface Span {
  wall: number;
  cpu: number;
}

export function stamp(): Stamp {
  const u = process.cpuUsage();
  return { wall: performance.now(), cpu: (u.user + u.system) / 1000 };
}

export function since(s: Stamp, now: Stamp = stamp()): Span {
  return { wall: now.wall - s.wall, cpu: now.cpu - s.cpu };
}

/** Summary of repeated measurements (same unit as the samples). */
export interface Summary {
  n: number;
  median: number;
  /** 10th / 90th percentile (linear interpolation). */
  p10: number;
  p90: number;
  /** Median absolute deviation from the median. */
  mad: number;
  min: number;
  max: number;
  mean: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const dev = s.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return {
    n: s.length,
    median,
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    mad: quantile(dev, 0.5),
    min: s.length ? s[0] : Number.NaN,
    max: s.length ? s[s.length - 1] : Number.NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN,
  };
}

/** Wall and CPU summaries of one phase. */
export interface PhaseSummary {
  wall: Summary;
  cpu: Summary;
}

/** Collects spans of named phases over iterations. */
export class PhaseRecorder {
  private readonly data = new Map<string, { wall: number[]; cpu: number[] }>();

  add(phase: string, span: Span, divisor = 1): void {
    let d = this.data.get(phase);
    if (!d) this.data.set(phase, (d = { wall: [], cpu: [] }));
    d.wall.push(span.wall / divisor);
    d.cpu.push(span.cpu / divisor);
  }

  has(phase: string): boolean {
    return this.data.has(phase);
  }

  summaries(): Record<string, PhaseSummary> {
    const out: Record<string, PhaseSummary> = {};
    for (const [k, d] of this.data) out[k] = { wall: summarize(d.wall), cpu: summarize(d.cpu) };
    return out;
  }
}
