// SPDX-License-Identifier: Apache-2.0
/**
 * `COCOeval.summarize()` for detections: the 12 stats (AP / AR means over the entries > -1, `np.mean` summation
 * reproduced bit for bit) and pycocotools' summary lines, plus per-category summaries.
 */
import { precisionIndex, recallIndex, type EvalResult } from './accumulate.js';
import { formatFixed, npMean } from './numpy.js';
import type { Params } from './params.js';

/** Names of the 12 stats, as in pycocotools' printout with default maxDets `[1, 10, 100]`. */
export const STATS_NAMES = [
  'AP',
  'AP50',
  'AP75',
  'APs',
  'APm',
  'APl',
  'AR1',
  'AR10',
  'AR100',
  'ARs',
  'ARm',
  'ARl',
] as const;

export interface SummarizeQuery {
  /** 1 = AP (precision), 0 = AR (recall) */
  ap: 0 | 1;
  iouThr?: number;
  areaRng?: string;
  maxDets?: number;
  /** Restrict to category index k (`catIds[k]`), as the per-category summaries do. */
  k?: number;
}

/** Pair up advanced indices like numpy (`s[..., aind, mind]` broadcasts the two index lists). */
function pairs(aind: number[], mind: number[]): [number, number][] {
  if (aind.length === 0 || mind.length === 0) return [];
  const n = Math.max(aind.length, mind.length);
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([aind[aind.length === 1 ? 0 : i], mind[mind.length === 1 ? 0 : i]]);
  return out;
}

/** `_summarize(ap, iouThr, areaRng, maxDets)`: mean of the selected entries > -1, or -1 if there are none. */
export function summarizeValue(ev: EvalResult, p: Params, q: SummarizeQuery): number {
  const areaRng = q.areaRng ?? 'all';
  const maxDets = q.maxDets ?? 100;
  const [T, R, K] = ev.counts;
  const aind: number[] = [];
  p.areaRngLbl.forEach((l, i) => l === areaRng && aind.push(i));
  const mind: number[] = [];
  p.maxDets.forEach((m, i) => m === maxDets && mind.push(i));
  const tind: number[] = [];
  for (let t = 0; t < T; t++) if (q.iouThr === undefined || p.iouThrs[t] === q.iouThr) tind.push(t);
  const ks: number[] = [];
  for (let k = 0; k < K; k++) if (q.k === undefined || q.k === k) ks.push(k);
  const am = pairs(aind, mind);
  const vals: number[] = [];
  // C order of the sliced array: [T, R, K, pair] for AP, [T, K, pair] for AR
  for (const t of tind) {
    if (q.ap === 1) {
      for (let r = 0; r < R; r++) {
        for (const k of ks) {
          for (const [a, m] of am) {
            const v = ev.precision[precisionIndex(ev.counts, t, r, k, a, m)];
            if (v > -1) vals.push(v);
          }
        }
      }
    } else {
      for (const k of ks) {
        for (const [a, m] of am) {
          const v = ev.recall[recallIndex(ev.counts, t, k, a, m)];
          if (v > -1) vals.push(v);
        }
      }
    }
  }
  return vals.length === 0 ? -1 : npMean(vals);
}

/** pycocotools' summary line. */
export function summaryLine(p: Params, q: SummarizeQuery, value: number): string {
  const title = q.ap === 1 ? 'Average Precision' : 'Average Recall';
  const type = q.ap === 1 ? '(AP)' : '(AR)';
  const iouStr =
    q.iouThr === undefined
      ? `${formatFixed(p.iouThrs[0], 2)}:${formatFixed(p.iouThrs[p.iouThrs.length - 1], 2)}`
      : formatFixed(q.iouThr, 2);
  const area = (q.areaRng ?? 'all').padStart(6);
  const md = String(q.maxDets ?? 100).padStart(3);
  return ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${area} | maxDets=${md} ] = ${formatFixed(value, 3)}`;
}

/** The 12 queries of `_summarizeDets` for the given params (maxDets taken from `p.maxDets`). */
export function detQueries(p: Params): SummarizeQuery[] {
  const [m0, m1, m2] = p.maxDets;
  return [
    { ap: 1 },
    { ap: 1, iouThr: 0.5, maxDets: m2 },
    { ap: 1, iouThr: 0.75, maxDets: m2 },
    { ap: 1, areaRng: 'small', maxDets: m2 },
    { ap: 1, areaRng: 'medium', maxDets: m2 },
    { ap: 1, areaRng: 'large', maxDets: m2 },
    { ap: 0, maxDets: m0 },
    { ap: 0, maxDets: m1 },
    { ap: 0, maxDets: m2 },
    { ap: 0, areaRng: 'small', maxDets: m2 },
    { ap: 0, areaRng: 'medium', maxDets: m2 },
    { ap: 0, areaRng: 'large', maxDets: m2 },
  ];
}

export function summarizeDets(ev: EvalResult, p: Params): { stats: number[]; lines: string[] } {
  const stats: number[] = [];
  const lines: string[] = [];
  for (const q of detQueries(p)) {
    const v = summarizeValue(ev, p, q);
    stats.push(v);
    lines.push(summaryLine(p, q, v));
  }
  return { stats, lines };
}

/** Per-category summaries (the fields of the conformance set's `per_category`), at maxDets index 2. */
export interface CategorySummary {
  category_id: number;
  ap: number;
  ap50: number;
  ap75: number;
  ap_small: number;
  ap_medium: number;
  ap_large: number;
  ar1: number;
  ar10: number;
  ar100: number;
  ar_small: number;
  ar_medium: number;
  ar_large: number;
}

/** Per-category AP/AR: `precision[:, :, k, a, M-1]` and `recall[:, k, a, m]` means of the entries > -1. */
export function perCategorySummary(ev: EvalResult, p: Params): CategorySummary[] {
  const [, , K] = ev.counts;
  const md = p.maxDets;
  const last = md[md.length - 1];
  const out: CategorySummary[] = [];
  for (let k = 0; k < K; k++) {
    const v = (q: SummarizeQuery): number => summarizeValue(ev, p, { ...q, k });
    out.push({
      category_id: p.catIds[k],
      ap: v({ ap: 1, maxDets: last }),
      ap50: v({ ap: 1, iouThr: p.iouThrs[0], maxDets: last }),
      ap75: v({ ap: 1, iouThr: p.iouThrs[5], maxDets: last }),
      ap_small: v({ ap: 1, areaRng: 'small', maxDets: last }),
      ap_medium: v({ ap: 1, areaRng: 'medium', maxDets: last }),
      ap_large: v({ ap: 1, areaRng: 'large', maxDets: last }),
      ar1: v({ ap: 0, maxDets: md[0] }),
      ar10: v({ ap: 0, maxDets: md[1] }),
      ar100: v({ ap: 0, maxDets: md[2] }),
      ar_small: v({ ap: 0, areaRng: 'small', maxDets: last }),
      ar_medium: v({ ap: 0, areaRng: 'medium', maxDets: last }),
      ar_large: v({ ap: 0, areaRng: 'large', maxDets: last }),
    });
  }
  return out;
}
