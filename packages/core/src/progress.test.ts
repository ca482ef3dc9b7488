// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { Progress, formatDuration } from './progress.js';

function harness(isTTY: boolean, total?: number) {
  let t = 0;
  const out: string[] = [];
  const p = new Progress({
    write: (s) => out.push(s),
    isTTY,
    total,
    label: 'eval',
    unit: 'img',
    now: () => t,
    intervalMs: 10_000,
  });
  return { p, out, advance: (ms: number) => (t += ms) };
}

describe('Progress', () => {
  it('redraws one line with a bar on a TTY, throttled, and ends with a newline', () => {
    const { p, out, advance } = harness(true, 4);
    advance(1000);
    p.tick();
    p.tick(); // same instant: throttled
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\reval \[#+\.+\] 1\/4  25% 1\.0 img\/s eta 3s\x1b\[K$/);
    advance(1000);
    p.tick(2, 'loss 0.5'); // reaches the total: always drawn
    expect(out[1]).toMatch(/^\reval \[#+\] 4\/4 100% 2\.0 img\/s took 2s loss 0\.5\x1b\[K$/);
    p.finish();
    expect(out[2].endsWith('\n')).toBe(true);
    p.tick();
    expect(out).toHaveLength(3);
  });

  it('writes plain lines every 10% and every interval when not a TTY', () => {
    const { p, out, advance } = harness(false, 100);
    for (let i = 0; i < 25; i++) {
      advance(100);
      p.tick();
    }
    // 10% and 20% crossed
    expect(out).toEqual(['eval 10/100  10% 10.0 img/s eta 9s\n', 'eval 20/100  20% 10.0 img/s eta 8s\n']);
    expect(out.every((l) => !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
    advance(10_000);
    p.tick();
    expect(out).toHaveLength(3);
    expect(out[2]).toMatch(/^eval 26\/100  26%/);
    p.finish();
    expect(out[3]).toMatch(/^eval 26\/100  26% .*\n$/);
  });

  it('without a total shows count, rate and elapsed time', () => {
    const { p, out, advance } = harness(false);
    advance(20_000);
    p.update(40);
    expect(out).toEqual(['eval 40 img 2.0 img/s 20s\n']);
  });

  it('formats durations and slow rates', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(Infinity)).toBe('?');
    const { p, advance } = harness(false, 10);
    advance(4000);
    p.update(1);
    expect(p.line()).toContain('4.0 s/img');
  });
});
