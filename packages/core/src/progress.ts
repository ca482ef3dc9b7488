// SPDX-License-Identifier: Apache-2.0
/**
 * A progress indicator for long loops (evaluation, training epochs, dataset scans).
 *
 * On a terminal it redraws one line (`\r`): label, bar, count, percent, rate, ETA. When the output is not a
 * terminal (CI logs, `| tee`), it writes a plain line now and then instead: every `intervalMs`, and each time
 * another `everyPercent` of a known total is done. Pure: the caller supplies `write` and `isTTY`
 * (`process.stderr.write.bind(process.stderr)`, `process.stderr.isTTY`), so it runs anywhere.
 */

export interface ProgressOptions {
  /** Writes text without adding a newline. */
  write: (text: string) => void;
  /** Whether the output is a terminal (redraw in place) or a log (periodic lines). */
  isTTY: boolean;
  /** Number of steps, if known; without it only the count and rate are shown. */
  total?: number;
  /** Text in front of the bar, e.g. `eval`. */
  label?: string;
  /** Unit for the rate, e.g. `img` gives `3.2 img/s`. Default `it`. */
  unit?: string;
  /** Terminal width (default 80). */
  columns?: number;
  /** Non-TTY: at most this long between lines (ms, default 10000). */
  intervalMs?: number;
  /** Non-TTY: also a line each time this percentage of the total is passed (default 10; 0 = off). */
  everyPercent?: number;
  /** TTY: minimum time between redraws (ms, default 100). */
  redrawMs?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

/** `12s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(rate: number, unit: string): string {
  if (!Number.isFinite(rate) || rate <= 0) return `- ${unit}/s`;
  if (rate >= 1) return `${rate.toFixed(rate >= 100 ? 0 : 1)} ${unit}/s`;
  return `${(1 / rate).toFixed(1)} s/${unit}`;
}

export class Progress {
  private readonly o: Required<Omit<ProgressOptions, 'total' | 'label'>> & Pick<ProgressOptions, 'total' | 'label'>;
  private readonly start: number;
  private count = 0;
  private info = '';
  private lastDraw = -Infinity;
  private lastLine: number;
  private lastPercentStep = 0;
  private finished = false;

  constructor(options: ProgressOptions) {
    this.o = {
      unit: 'it',
      columns: 80,
      intervalMs: 10_000,
      everyPercent: 10,
      redrawMs: 100,
      now: Date.now,
      ...options,
    };
    this.start = this.o.now();
    this.lastLine = this.start;
  }

  /** Steps done so far. */
  get done(): number {
    return this.count;
  }

  /** Advance by `n` steps; `info` (e.g. the current loss) is shown after the numbers. */
  tick(n = 1, info?: string): void {
    this.update(this.count + n, info);
  }

  /** Set the number of steps done. */
  update(done: number, info?: string): void {
    if (this.finished) return;
    this.count = done;
    if (info !== undefined) this.info = info;
    const now = this.o.now();
    if (this.o.isTTY) {
      if (now - this.lastDraw >= this.o.redrawMs || (this.o.total !== undefined && done >= this.o.total)) {
        this.lastDraw = now;
        this.o.write(`\r${this.line(now, true)}\x1b[K`);
      }
      return;
    }
    let due = now - this.lastLine >= this.o.intervalMs;
    const { total, everyPercent } = this.o;
    if (total && everyPercent > 0) {
      const step = Math.floor(((done / total) * 100) / everyPercent);
      if (step > this.lastPercentStep) {
        this.lastPercentStep = step;
        due = due || done < total;
      }
    }
    if (due) {
      this.lastLine = now;
      this.o.write(`${this.line(now, false)}\n`);
    }
  }

  /** Finish: draw the final state and end the line. Further updates are ignored. */
  finish(info?: string): void {
    if (this.finished) return;
    if (info !== undefined) this.info = info;
    const now = this.o.now();
    this.o.write(this.o.isTTY ? `\r${this.line(now, true)}\x1b[K\n` : `${this.line(now, false)}\n`);
    this.finished = true;
  }

  /** The text of one status line. */
  line(now = this.o.now(), bar = false): string {
    const { total, unit, label } = this.o;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? this.count / elapsed : NaN;
    const parts: string[] = [];
    if (label) parts.push(label);
    let counts: string;
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, this.count / total);
      counts = `${this.count}/${total} ${(frac * 100).toFixed(0).padStart(3)}%`;
      const eta = this.count >= total ? `took ${formatDuration(elapsed)}` : `eta ${formatDuration((total - this.count) / rate)}`;
      counts += ` ${formatRate(rate, unit)} ${eta}`;
      if (bar) {
        const width = Math.max(10, Math.min(40, this.o.columns - counts.length - (label?.length ?? 0) - this.info.length - 6));
        const filled = Math.round(frac * width);
        parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`);
      }
    } else {
      counts = `${this.count} ${unit} ${formatRate(rate, unit)} ${formatDuration(elapsed)}`;
    }
    parts.push(counts);
    if (this.info) parts.push(this.info);
    const text = parts.join(' ');
    return bar && text.length > this.o.columns - 1 ? text.slice(0, this.o.columns - 1) : text;
  }
}

/** Shorthand for `new Progress(options)`. */
export function createProgress(options: ProgressOptions): Progress {
  return new Progress(options);
}
