// SPDX-License-Identifier: Apache-2.0
/**
 * pycocotools' `COCOeval` for `iouType` `segm` and `bbox`, reproducing its results exactly: `evaluate()`
 * (computeIoU + evaluateImg per image, category and area range), `accumulate()` (precision / recall / scores
 * arrays `[T, R, K, A, M]`) and `summarize()` (the 12 `stats`, pycocotools' printout).
 *
 * Usage mirrors Python: `const E = new COCOeval(gt, dt, 'segm'); E.evaluate(); E.accumulate(); E.summarize();
 * E.stats`. Masks are converted once per annotation and IoUs run on typed arrays; the arithmetic and every
 * ordering (stable score sorts, ignore-last gt sort, tie rules) follow cocoeval.py line by line.
 */
import { SoloError } from '@solo-ts/core';
import { bbIouInto, rleIouInto, rleToBbox, type CocoAnnotation, type RleData } from '@solo-ts/cocoapi';
import { accumulateEval, type EvalResult } from './accumulate.js';
import { Arena } from './arena.js';
import type { COCO } from './coco.js';
import { argsortDesc } from './numpy.js';
import { Params, uniqueSorted, type IouType } from './params.js';
import { summarizeDets } from './summarize.js';

/** An annotation as COCOeval sees it after `_prepare`. */
export interface EvalAnn {
  id: number;
  imageId: number;
  categoryId: number;
  area: number;
  /** `int(ann['iscrowd'])` (0 when absent). */
  iscrowd: number;
  /** gt: `ann['iscrowd']` is truthy (pycocotools overwrites any `ignore` key with it). */
  ignore: boolean;
  score: number;
  bbox: ArrayLike<number>;
  rle?: RleData;
  /** `rleToBbox(rle)`, computed on first use. */
  rleBox?: [number, number, number, number];
}

/** One (image, category) pair: its gts, its detections sorted by score, and their IoUs. */
interface Cell {
  gts: EvalAnn[];
  /** Detections in descending score order (stable). */
  dts: EvalAnn[];
  /** IoU of the first `min(dts, maxDets[-1])` detections (rows) with the gts: `ious[d * G + g]`; null = `[]`. */
  ious: Float64Array | null;
  nIouRows: number;
}

/** `evaluateImg` result for one image, category, area range (pycocotools' dict, typed arrays `[T, D]`). */
export interface EvalImg {
  imageId: number;
  categoryId: number;
  aRng: [number, number];
  maxDet: number;
  dtIds: number[];
  gtIds: number[];
  /** `[T * D]`: id of the matched gt, 0 = unmatched. */
  dtMatches: Float64Array;
  /** `[T * G]`: id of the matched detection, 0 = unmatched. */
  gtMatches: Float64Array;
  dtScores: Float64Array;
  gtIgnore: Uint8Array;
  /** `[T * D]` */
  dtIgnore: Uint8Array;
}

export class COCOeval {
  cocoGt: COCO;
  cocoDt: COCO;
  params: Params;
  /** evaluateImg results, ordered category, area range, image (null where no gt and no detection). */
  evalImgs: (EvalImg | null)[] = [];
  eval: EvalResult | null = null;
  stats: number[] = [];
  /** The summary lines `summarize()` prints with pycocotools (also passed to `log`). */
  summaryLines: string[] = [];
  /** Where summary lines go (pycocotools prints them); default: nowhere. */
  log: (line: string) => void = () => {};
  _paramsEval: Params | null = null;
  private cells: (Cell | null)[] = [];
  private cellCats: number[] = [];

  constructor(cocoGt: COCO, cocoDt: COCO, iouType: IouType = 'segm') {
    this.cocoGt = cocoGt;
    this.cocoDt = cocoDt;
    this.params = new Params(iouType);
    this.params.imgIds = uniqueSorted(cocoGt.getImgIds());
    this.params.catIds = uniqueSorted(cocoGt.getCatIds());
  }

  private prepareAnns(coco: COCO, isGt: boolean): Map<number, Map<number, EvalAnn[]>> {
    const p = this.params;
    const ids = p.useCats ? coco.getAnnIds({ imgIds: p.imgIds, catIds: p.catIds }) : coco.getAnnIds({ imgIds: p.imgIds });
    const out = new Map<number, Map<number, EvalAnn[]>>();
    for (const ann of coco.loadAnns(ids)) {
      const e = toEvalAnn(ann, coco, isGt, p.iouType);
      let byCat = out.get(e.imageId);
      if (!byCat) out.set(e.imageId, (byCat = new Map()));
      let list = byCat.get(e.categoryId);
      if (!list) byCat.set(e.categoryId, (list = []));
      list.push(e);
    }
    return out;
  }

  /** Run per-image evaluation (pycocotools `evaluate`): fills `evalImgs` and the IoU cache. */
  evaluate(): void {
    const p = this.params;
    p.imgIds = uniqueSorted(p.imgIds);
    if (p.useCats) p.catIds = uniqueSorted(p.catIds);
    p.maxDets = [...p.maxDets].sort((a, b) => a - b);
    const gts = this.prepareAnns(this.cocoGt, true);
    const dts = this.prepareAnns(this.cocoDt, false);
    const catIds = p.useCats ? p.catIds : [-1];
    const maxDet = p.maxDets[p.maxDets.length - 1];
    const take = (m: Map<number, Map<number, EvalAnn[]>>, imgId: number, catId: number): EvalAnn[] => {
      const byCat = m.get(imgId);
      if (!byCat) return [];
      if (p.useCats) return byCat.get(catId) ?? [];
      const all: EvalAnn[] = [];
      for (const c of p.catIds) for (const a of byCat.get(c) ?? []) all.push(a);
      return all;
    };
    this.cellCats = catIds;
    const iouArena = new Arena();
    this.cells = new Array(p.imgIds.length * catIds.length).fill(null);
    p.imgIds.forEach((imgId, i) => {
      catIds.forEach((catId, k) => {
        const g = take(gts, imgId, catId);
        const d = take(dts, imgId, catId);
        if (g.length === 0 && d.length === 0) return;
        const order = argsortDesc(d.map((x) => x.score));
        const sorted = Array.from(order, (j) => d[j]);
        try {
          this.cells[i * catIds.length + k] = this.computeIoU(g, sorted, maxDet, iouArena);
        } catch (e) {
          if (e instanceof SoloError) throw e;
          throw new SoloError(`COCOeval: image ${imgId}, category ${catId}: ${(e as Error).message}`, { code: 'DATASET', cause: e });
        }
      });
    });
    this.evalImgs = [];
    const arena = new Arena();
    catIds.forEach((catId, k) => {
      for (const aRng of p.areaRng) {
        p.imgIds.forEach((imgId, i) => {
          const cell = this.cells[i * catIds.length + k];
          this.evalImgs.push(cell ? evaluateImg(cell, imgId, catId, aRng, maxDet, p.iouThrs, arena) : null);
        });
      }
    });
    this._paramsEval = p.clone();
  }

  /** `computeIoU`: detections already sorted by score; the first maxDets[-1] are compared with every gt. */
  private computeIoU(gts: EvalAnn[], dts: EvalAnn[], maxDet: number, arena: Arena): Cell {
    const m = Math.min(dts.length, maxDet);
    const n = gts.length;
    if (m === 0 || n === 0) return { gts, dts, ious: null, nIouRows: 0 };
    const out = arena.float64(m * n);
    const crowd = gts.map((g) => g.iscrowd);
    if (this.params.iouType === 'segm') {
      const D = dts.slice(0, m).map((d) => d.rle as RleData);
      const G = gts.map((g) => g.rle as RleData);
      rleIouInto(D, G, crowd, out, boxesOf(dts, m), boxesOf(gts, n));
    } else {
      const db: number[] = [];
      const gb: number[] = [];
      for (let i = 0; i < m; i++) for (let j = 0; j < 4; j++) db.push(dts[i].bbox[j]);
      for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) gb.push(gts[i].bbox[j]);
      bbIouInto(db, gb, m, n, crowd, out);
    }
    return { gts, dts, ious: out, nIouRows: m };
  }

  /** `self.ious[imgId, catId]` as pycocotools returns it: rows = detections by score, columns = gts; `[]` if none. */
  getIous(imgId: number, catId: number): number[][] {
    const i = this.params.imgIds.indexOf(imgId);
    const k = this.cellCats.indexOf(catId);
    const cell = i < 0 || k < 0 ? null : this.cells[i * this.cellCats.length + k];
    if (!cell || !cell.ious) return [];
    const n = cell.gts.length;
    const rows: number[][] = [];
    for (let d = 0; d < cell.nIouRows; d++) rows.push(Array.from(cell.ious.subarray(d * n, (d + 1) * n)));
    return rows;
  }

  /** Ids of the detections / gts behind `getIous(imgId, catId)` (rows, columns). */
  getIouIds(imgId: number, catId: number): { dtIds: number[]; gtIds: number[] } {
    const i = this.params.imgIds.indexOf(imgId);
    const k = this.cellCats.indexOf(catId);
    const cell = i < 0 || k < 0 ? null : this.cells[i * this.cellCats.length + k];
    if (!cell) return { dtIds: [], gtIds: [] };
    return { dtIds: cell.dts.slice(0, cell.nIouRows).map((d) => d.id), gtIds: cell.gts.map((g) => g.id) };
  }

  /** Accumulate per-image results into `eval` (precision / recall / scores). */
  accumulate(p?: Params): void {
    if (!this._paramsEval) throw new SoloError('COCOeval.accumulate: run evaluate() first', { code: 'RUNTIME' });
    this.eval = accumulateEval(this.evalImgs, p ?? this.params, this._paramsEval);
  }

  /** Compute (and log) the 12 summary stats; returns them. */
  summarize(): number[] {
    if (!this.eval) throw new SoloError('COCOeval.summarize: run accumulate() first', { code: 'RUNTIME' });
    const { stats, lines } = summarizeDets(this.eval, this.params);
    this.stats = stats;
    this.summaryLines = lines;
    for (const l of lines) this.log(l);
    return stats;
  }
}

function toEvalAnn(ann: CocoAnnotation, coco: COCO, isGt: boolean, iouType: IouType): EvalAnn {
  const what = isGt ? 'annotation' : 'detection';
  const need = (key: string): never => {
    throw new SoloError(`${coco.source}: ${what} id ${ann.id} (image_id ${ann.image_id}) has no "${key}"`, { code: 'DATASET' });
  };
  if (typeof ann.area !== 'number') need('area');
  if (!isGt && typeof ann.score !== 'number') need('score');
  const crowd = ann.iscrowd;
  const e: EvalAnn = {
    id: ann.id as number,
    imageId: ann.image_id,
    categoryId: ann.category_id,
    area: ann.area as number,
    iscrowd: crowd === undefined || crowd === null ? 0 : Math.trunc(Number(crowd)),
    ignore: isGt ? !!crowd : false,
    score: isGt ? 0 : (ann.score as number),
    bbox: ann.bbox ?? [],
  };
  if (iouType === 'segm') e.rle = coco.annToRleData(ann);
  else if (!ann.bbox || ann.bbox.length !== 4) need('bbox" ([x, y, w, h]');
  return e;
}

/** `rleToBbox` boxes of the first n annotations' masks, flattened (cached per annotation). */
function boxesOf(anns: EvalAnn[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = anns[i];
    if (!a.rleBox) a.rleBox = rleToBbox(a.rle as RleData);
    out.push(a.rleBox[0], a.rleBox[1], a.rleBox[2], a.rleBox[3]);
  }
  return out;
}

/** Per-cell data shared by the area ranges (computed once, read-only). */
interface CellCache {
  maxDet: number;
  D: number;
  dtIds: number[];
  dtScores: Float64Array;
  dtAreas: number[];
}
const cellCache = new WeakMap<Cell, CellCache>();

function cacheOf(cell: Cell, maxDet: number, arena: Arena): CellCache {
  let c = cellCache.get(cell);
  if (c && c.maxDet === maxDet) return c;
  const D = Math.min(cell.dts.length, maxDet);
  const dtIds = new Array<number>(D);
  const dtScores = arena.float64(D);
  const dtAreas = new Array<number>(D);
  for (let d = 0; d < D; d++) {
    const a = cell.dts[d];
    dtIds[d] = a.id;
    dtScores[d] = a.score;
    dtAreas[d] = a.area;
  }
  c = { maxDet, D, dtIds, dtScores, dtAreas };
  cellCache.set(cell, c);
  return c;
}

/** `evaluateImg` for one cell and area range. */
function evaluateImg(
  cell: Cell,
  imageId: number,
  categoryId: number,
  aRng: [number, number],
  maxDet: number,
  iouThrs: readonly number[],
  arena: Arena,
): EvalImg {
  const gts = cell.gts;
  const G = gts.length;
  const lo = aRng[0];
  const hi = aRng[1];
  // gt: ignore flag for this range, then a stable sort putting ignored gts last
  const gtind = new Array<number>(G);
  const gtIg = arena.uint8(G);
  let n = 0;
  for (let g = 0; g < G; g++) {
    const a = gts[g];
    if (!(a.ignore || a.area < lo || a.area > hi)) gtind[n++] = g;
  }
  const nReg = n;
  for (let g = 0; g < G; g++) {
    const a = gts[g];
    if (a.ignore || a.area < lo || a.area > hi) {
      gtIg[n] = 1;
      gtind[n++] = g;
    }
  }
  const gtIds = new Array<number>(G);
  for (let g = 0; g < G; g++) gtIds[g] = gts[gtind[g]].id;
  const { D, dtIds, dtScores, dtAreas } = cacheOf(cell, maxDet, arena);
  const T = iouThrs.length;
  const gtm = arena.float64(T * G);
  const dtm = arena.float64(T * D);
  const dtIg = arena.uint8(T * D);
  const ious = cell.ious;
  if (ious && G > 0) {
    const rows = Math.min(D, cell.nIouRows);
    const crowd = new Array<boolean>(G);
    for (let g = 0; g < G; g++) crowd[g] = !!gts[gtind[g]].iscrowd;
    for (let tind = 0; tind < T; tind++) {
      const t = iouThrs[tind];
      const gOff = tind * G;
      for (let dind = 0; dind < rows; dind++) {
        let iou = Math.min(t, 1 - 1e-10);
        let m = -1;
        const rowOff = dind * G;
        for (let gind = 0; gind < G; gind++) {
          // already matched and not a crowd
          if (gtm[gOff + gind] > 0 && !crowd[gind]) continue;
          // matched to a regular gt and reached the ignored ones: stop
          if (m > -1 && m < nReg && gind >= nReg) break;
          const v = ious[rowOff + gtind[gind]];
          if (v < iou) continue;
          iou = v;
          m = gind;
        }
        if (m === -1) continue;
        dtIg[tind * D + dind] = gtIg[m];
        dtm[tind * D + dind] = gtIds[m];
        gtm[gOff + m] = dtIds[dind];
      }
    }
  }
  // unmatched detections outside the area range are ignored
  for (let dind = 0; dind < D; dind++) {
    const a = dtAreas[dind];
    if (!(a < lo || a > hi)) continue;
    for (let tind = 0; tind < T; tind++) if (dtm[tind * D + dind] === 0) dtIg[tind * D + dind] = 1;
  }
  return { imageId, categoryId, aRng, maxDet, dtIds, gtIds, dtMatches: dtm, gtMatches: gtm, dtScores, gtIgnore: gtIg, dtIgnore: dtIg };
}
