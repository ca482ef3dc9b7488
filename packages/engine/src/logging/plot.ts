// SPDX-License-Identifier: Apache-2.0
/**
 * Line charts of scalar logs as PNG (`solo plot-log`): the chart is drawn as SVG and rasterised by sharp
 * (librsvg ships inside sharp's npm binaries), so no canvas or native download is needed.
 */
import sharp from 'sharp';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Moving average for noisy curves (window in points; 1 = raw). */
export function smooth(points: Array<[number, number]>, window: number): Array<[number, number]> {
  if (window <= 1) return points;
  const out: Array<[number, number]> = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i][1];
    if (i >= window) sum -= points[i - window][1];
    out.push([points[i][0], sum / Math.min(i + 1, window)]);
  }
  return out;
}

export function lineChartSvg(series: Series[], opts: { title?: string; xLabel?: string; width?: number; height?: number; logY?: boolean } = {}): string {
  const W = opts.width ?? 900;
  const H = opts.height ?? 500;
  const m = { l: 70, r: 170, t: 40, b: 50 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!opts.logY || y > 0));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => (opts.logY ? Math.log10(p[1]) : p[1]));
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  let y0 = ys.length ? Math.min(...ys) : 0;
  let y1 = ys.length ? Math.max(...ys) : 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`, `<rect width="100%" height="100%" fill="white"/>`];
  for (const t of niceTicks(y0, y1)) {
    const y = sy(t);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${opts.logY ? `1e${t}` : t}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    const x = sx(t);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!opts.logY || y > 0)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(opts.logY ? Math.log10(y) : y).toFixed(1)}`);
    if (pts.length === 1) parts.push(`<circle cx="${pts[0].split(',')[0]}" cy="${pts[0].split(',')[1]}" r="3" fill="${c}"/>`);
    else if (pts.length) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.6" points="${pts.join(' ')}"/>`);
    parts.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${m.t + 14 + i * 18}" y2="${m.t + 14 + i * 18}" stroke="${c}" stroke-width="3"/>`);
    parts.push(`<text x="${W - m.r + 42}" y="${m.t + 18 + i * 18}">${esc(s.name)}</text>`);
  });
  if (opts.title) parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel ?? 'iteration')}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export async function writeLineChartPng(file: string, series: Series[], opts: Parameters<typeof lineChartSvg>[1] = {}): Promise<void> {
  await sharp(Buffer.from(lineChartSvg(series, opts))).png().toFile(file);
}
