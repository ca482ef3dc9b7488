// SPDX-License-Identifier: Apache-2.0
/**
 * `Params` of pycocotools' COCOeval for `segm` and `bbox` (defaults identical, float64-exact thresholds).
 */
import { SoloError } from '@solo-ts/core';
import { linspace } from './numpy.js';

export type IouType = 'segm' | 'bbox';

/** Evaluation parameters (pycocotools names). */
export class Params {
  /** Image ids to evaluate (COCOeval sets all gt images, sorted). */
  imgIds: number[] = [];
  /** Category ids to evaluate (COCOeval sets all gt categories, sorted). */
  catIds: number[] = [];
  /** IoU thresholds: `np.linspace(.5, .95, 10)` (note `iouThrs[8] = 0.8999999999999999`). */
  iouThrs: number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
  /** Recall thresholds: `np.linspace(0, 1, 101)`. */
  recThrs: number[] = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);
  /** Max detections per image (sorted by evaluate()). */
  maxDets: number[] = [1, 10, 100];
  /** Object area ranges [lo, hi], inclusive at both ends. */
  areaRng: [number, number][] = [
    [0 ** 2, 1e5 ** 2],
    [0 ** 2, 32 ** 2],
    [32 ** 2, 96 ** 2],
    [96 ** 2, 1e5 ** 2],
  ];
  areaRngLbl: string[] = ['all', 'small', 'medium', 'large'];
  /** 1: evaluate per category; 0: ignore categories (as in proposal scoring). */
  useCats: number | boolean = 1;
  iouType: IouType;

  constructor(iouType: IouType = 'segm') {
    if (iouType !== 'segm' && iouType !== 'bbox') {
      throw new SoloError(`COCOeval: iouType '${String(iouType)}' is not supported`, {
        code: 'ARGUMENT',
        expected: "'segm' or 'bbox' (keypoints are not implemented)",
      });
    }
    this.iouType = iouType;
  }

  /** A deep copy (COCOeval keeps the parameters used by evaluate() as `_paramsEval`). */
  clone(): Params {
    const p = new Params(this.iouType);
    p.imgIds = [...this.imgIds];
    p.catIds = [...this.catIds];
    p.iouThrs = [...this.iouThrs];
    p.recThrs = [...this.recThrs];
    p.maxDets = [...this.maxDets];
    p.areaRng = this.areaRng.map((r) => [r[0], r[1]] as [number, number]);
    p.areaRngLbl = [...this.areaRngLbl];
    p.useCats = this.useCats;
    return p;
  }
}

/** `sorted(np.unique(ids))` for numbers. */
export function uniqueSorted(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
