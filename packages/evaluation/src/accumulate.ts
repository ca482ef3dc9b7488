// SPDX-License-Identifier: Apache-2.0
/**
 * `COCOeval.accumulate()`: per category, area range and maxDets, the detections of all images are merged in
 * descending score order (stable: ties keep image order, then per-image order), TP/FP are cumulated, and
 * precision is read at the recall thresholds with `np.searchsorted(side='left')`. Arrays are float64, C order:
 * precision / scores `[T, R, K, A, M]`, recall `[T, K, A, M]`; -1 where a setting has no gt.
 */
import type { EvalImg } from './cocoeval.js';
import { argsortDesc, searchsortedLeft } from './numpy.js';
import type { Params } from './params.js';

/** `np.spacing(1)` */
const EPS = 2.220446049250313e-16;

export interface EvalResult {
  params: Params;
  /** `[T, R, K, A, M]` */
  counts: [number, number, number, number, number];
  date: string;
  /** `[T, R, K, A, M]`, C order. */
  precision: Float64Array;
  /** `[T, K, A, M]`, C order. */
  recall: Float64Array;
  /** `[T, R, K, A, M]`, C order. */
  scores: Float64Array;
}

/** Index of `precision[t, r, k, a, m]` / `scores[...]` in the flat arrays. */
export function precisionIndex(counts: readonly number[], t: number, r: number, k: number, a: number, m: number): number {
  const [, R, K, A, M] = counts;
  return (((t * R + r) * K + k) * A + a) * M + m;
}

/** Index of `recall[t, k, a, m]`. */
export function recallIndex(counts: readonly number[], t: number, k: number, a: number, m: number): number {
  const [, , K, A, M] = counts;
  return ((t * K + k) * A + a) * M + m;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function accumulateEval(evalImgs: readonly (EvalImg | null)[], p: Params, pe: Params): EvalResult {
  // pycocotools: `p.catIds = p.catIds if p.useCats == 1 else [-1]` (mutates the params)
  if (Number(p.useCats) !== 1) p.catIds = [-1];
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const K = p.useCats ? p.catIds.length : 1;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const counts: [number, number, number, number, number] = [T, R, K, A, M];
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const scores = new Float64Array(T * R * K * A * M).fill(-1);

  const setK = new Set(pe.useCats ? pe.catIds : [-1]);
  const setA = new Set(pe.areaRng.map((r) => `${r[0]},${r[1]}`));
  const setM = new Set(pe.maxDets);
  const setI = new Set(pe.imgIds);
  const kList: number[] = [];
  p.catIds.forEach((k, n) => setK.has(k) && kList.push(n));
  const mList = p.maxDets.filter((m) => setM.has(m));
  const aList: number[] = [];
  p.areaRng.forEach((r, n) => setA.has(`${r[0]},${r[1]}`) && aList.push(n));
  const iList: number[] = [];
  p.imgIds.forEach((i, n) => setI.has(i) && iList.push(n));
  const I0 = pe.imgIds.length;
  const A0 = pe.areaRng.length;

  for (let k = 0; k < kList.length; k++) {
    const Nk = kList[k] * A0 * I0;
    for (let a = 0; a < aList.length; a++) {
      const Na = aList[a] * I0;
      for (let m = 0; m < mList.length; m++) {
        const maxDet = mList[m];
        const E: EvalImg[] = [];
        for (const i of iList) {
          const e = evalImgs[Nk + Na + i];
          if (e) E.push(e);
        }
        if (E.length === 0) continue;
        // concatenate the first maxDet detections of every image
        let nd = 0;
        for (const e of E) nd += Math.min(e.dtScores.length, maxDet);
        const dtScores = new Float64Array(nd);
        const src = new Int32Array(nd); // which E
        const col = new Int32Array(nd); // column within that E
        let off = 0;
        E.forEach((e, ei) => {
          const n = Math.min(e.dtScores.length, maxDet);
          for (let j = 0; j < n; j++, off++) {
            dtScores[off] = e.dtScores[j];
            src[off] = ei;
            col[off] = j;
          }
        });
        let npig = 0;
        for (const e of E) for (let g = 0; g < e.gtIgnore.length; g++) if (e.gtIgnore[g] === 0) npig++;
        if (npig === 0) continue;
        const inds = argsortDesc(dtScores, nd);
        const scoresSorted = new Float64Array(nd);
        // per sorted detection: where its T flags live (offset into that image's [T, D] arrays, stride D)
        const dm: Float64Array[] = new Array(nd);
        const di: Uint8Array[] = new Array(nd);
        const off0 = new Int32Array(nd);
        const stride = new Int32Array(nd);
        for (let j = 0; j < nd; j++) {
          const q = inds[j];
          scoresSorted[j] = dtScores[q];
          const e = E[src[q]];
          dm[j] = e.dtMatches;
          di[j] = e.dtIgnore;
          off0[j] = col[q];
          stride[j] = e.dtScores.length;
        }
        const rc = new Float64Array(nd);
        const pr = new Float64Array(nd);
        // strides of precision [T, R, K, A, M] and recall [T, K, A, M]
        const sR = K * A * M;
        const sT = R * sR;
        const base = (k * A + a) * M + m;
        for (let t = 0; t < T; t++) {
          let tpc = 0;
          let fpc = 0;
          for (let j = 0; j < nd; j++) {
            const o = off0[j] + t * stride[j];
            if (di[j][o] === 0) {
              if (dm[j][o] !== 0) tpc++;
              else fpc++;
            }
            rc[j] = tpc / npig;
            pr[j] = tpc / (fpc + tpc + EPS);
          }
          recall[t * K * A * M + base] = nd ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          const tBase = t * sT + base;
          for (let ri = 0; ri < R; ri++) {
            const pi = searchsortedLeft(rc, nd, p.recThrs[ri]);
            // pycocotools fills q / ss in a try block: the first index past the end stops it, the rest stay 0
            if (pi >= nd) {
              for (let rj = ri; rj < R; rj++) {
                precision[tBase + rj * sR] = 0;
                scores[tBase + rj * sR] = 0;
              }
              break;
            }
            precision[tBase + ri * sR] = pr[pi];
            scores[tBase + ri * sR] = scoresSorted[pi];
          }
        }
      }
    }
  }
  const d = new Date();
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return { params: p, counts, date, precision, recall, scores };
}
