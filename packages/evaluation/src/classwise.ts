// SPDX-License-Identifier: Apache-2.0
/**
 * Per-category AP, as mmdetection's `CocoMetric(classwise=True)` (from detectron2): for each evaluated category,
 * the mean of `precision[:, :, k, 0, -1]` entries > -1 (NaN if none), at IoU 0.50 and 0.75, and per area range;
 * printed as a terminaltables `AsciiTable` with values `round(ap, 3)`.
 */
import type { EvalResult } from './accumulate.js';
import { precisionIndex } from './accumulate.js';
import type { COCO } from './coco.js';
import { npMean, roundPy } from './numpy.js';

export interface ClasswiseRow {
  categoryId: number;
  name: string;
  /** NaN where the category has no gt (mmdet prints `nan`). */
  mAP: number;
  mAP_50: number;
  mAP_75: number;
  mAP_s: number;
  mAP_m: number;
  mAP_l: number;
}

/** Mean of `precision[tSel, :, k, a, M-1]` entries > -1. */
function apOf(ev: EvalResult, k: number, a: number, tSel: number | null): number {
  const [T, R, , , M] = ev.counts;
  const vals: number[] = [];
  for (let t = 0; t < T; t++) {
    if (tSel !== null && t !== tSel) continue;
    for (let r = 0; r < R; r++) {
      const v = ev.precision[precisionIndex(ev.counts, t, r, k, a, M - 1)];
      if (v > -1) vals.push(v);
    }
  }
  return vals.length ? npMean(vals) : Number.NaN;
}

/** Per-category rows in the order of the evaluated `catIds` (sorted ids). */
export function classwiseResults(ev: EvalResult, catIds: readonly number[], gt: COCO): ClasswiseRow[] {
  return catIds.map((catId, k) => ({
    categoryId: catId,
    name: String(gt.cats.get(catId)?.name ?? catId),
    mAP: apOf(ev, k, 0, null),
    mAP_50: apOf(ev, k, 0, 0),
    mAP_75: apOf(ev, k, 0, 5),
    mAP_s: apOf(ev, k, 1, null),
    mAP_m: apOf(ev, k, 2, null),
    mAP_l: apOf(ev, k, 3, null),
  }));
}

/** Python's `str(float)` for the values printed here (`0.5`, `1.0`, `nan`). */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** terminaltables' `AsciiTable(rows).table`. */
export function asciiTable(rows: readonly (readonly string[])[]): string {
  const ncol = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: ncol }, (_, c) => Math.max(0, ...rows.map((r) => (r[c] ?? '').length)));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (r: readonly string[]): string => `|${widths.map((w, c) => ` ${(r[c] ?? '').padEnd(w)} `).join('|')}|`;
  const out = [border, line(rows[0]), border, ...rows.slice(1).map(line), border];
  return out.join('\n');
}

/** The table mmdetection logs for `classwise=True`. */
export function classwiseTable(rows: readonly ClasswiseRow[]): string {
  const header = ['category', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'];
  const body = rows.map((r) => [
    r.name,
    ...[r.mAP, r.mAP_50, r.mAP_75, r.mAP_s, r.mAP_m, r.mAP_l].map((v) => pyFloatStr(roundPy(v, 3))),
  ]);
  return asciiTable([header, ...body]);
}
