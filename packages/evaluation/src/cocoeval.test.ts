// SPDX-License-Identifier: Apache-2.0
// Conformance with pycocotools' COCOeval: every scenario and variant of shared/coco-conformance/eval, compared
// exactly (stats, per-category summaries, recall / precision / scores arrays, IoU matrices).
import { COCO_CONFORMANCE_ROOT } from '../../../test/helpers/shared-dir.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CocoAnnotation } from '@solo-ts/cocoapi';
import { COCO, COCOeval, Params, perCategorySummary, precisionIndex, recallIndex } from './index.js';

const ROOT = `${COCO_CONFORMANCE_ROOT}/eval/`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (f: string): any => JSON.parse(readFileSync(ROOT + f, 'utf8'));

/** One variant of a scenario's expected.json (pycocotools' output). */
interface ExpectedVariant {
  stats: number[];
  imgIds: number[];
  catIds: number[];
  precision_shape: number[];
  per_category: unknown;
  recall: number[][][][];
  precision_maxdets_100?: number[][][][];
  scores_area_all_maxdets_100: number[][][];
  ious?: { image_id: number; category_id: number; dt_ids: number[]; gt_ids: number[]; iou: unknown }[];
}

const index = load('index.json');
const params = load('params.json');

describe('Params', () => {
  it('iouThrs and recThrs are np.linspace bit for bit', () => {
    const p = new Params('segm');
    expect(p.iouThrs).toEqual(params.segm.iouThrs);
    expect(p.recThrs).toEqual(params.segm.recThrs);
    expect(p.maxDets).toEqual(params.segm.maxDets);
    expect(p.areaRng).toEqual(params.segm.areaRng);
    expect(p.areaRngLbl).toEqual(params.segm.areaRngLbl);
    expect(new Params('bbox').iouThrs).toEqual(params.bbox.iouThrs);
  });
});

function runVariant(name: string, variant: string): COCOeval {
  const gtJson = load(`${name}/gt.json`);
  const dtJson: CocoAnnotation[] = load(`${name}/dt.json`);
  const iouType = variant.startsWith('bbox') ? 'bbox' : 'segm';
  const dropBbox = variant === 'segm' || variant === 'segm_useCats0';
  const dets = dropBbox ? dtJson.map(({ bbox: _b, ...rest }) => rest as CocoAnnotation) : dtJson;
  const gt = new COCO(gtJson);
  const dt = gt.loadRes(dets);
  const E = new COCOeval(gt, dt, iouType);
  if (variant.endsWith('useCats0')) E.params.useCats = 0;
  E.evaluate();
  E.accumulate();
  E.summarize();
  return E;
}

for (const sc of index.scenarios as { name: string }[]) {
  describe(`scenario ${sc.name}`, () => {
    const expected = load(`${sc.name}/expected.json`);
    for (const [variant, exp] of Object.entries<ExpectedVariant>(expected.results)) {
      it(variant, () => {
        const E = runVariant(sc.name, variant);
        const ev = E.eval!;
        expect(E.stats).toEqual(exp.stats);
        expect(E.params.imgIds).toEqual(exp.imgIds);
        expect(E.params.catIds).toEqual(exp.catIds);
        expect(ev.counts).toEqual(exp.precision_shape);
        expect(perCategorySummary(ev, E.params)).toEqual(exp.per_category);
        const [T, R, K, A, M] = ev.counts;
        const recall = [];
        for (let t = 0; t < T; t++) {
          const kk = [];
          for (let k = 0; k < K; k++) {
            const aa = [];
            for (let a = 0; a < A; a++) {
              const mm = [];
              for (let m = 0; m < M; m++) mm.push(ev.recall[recallIndex(ev.counts, t, k, a, m)]);
              aa.push(mm);
            }
            kk.push(aa);
          }
          recall.push(kk);
        }
        expect(recall).toEqual(exp.recall);
        if (exp.precision_maxdets_100) {
          for (let t = 0; t < T; t++)
            for (let r = 0; r < R; r++)
              for (let k = 0; k < K; k++)
                for (let a = 0; a < A; a++) {
                  const got = ev.precision[precisionIndex(ev.counts, t, r, k, a, 2)];
                  if (got !== exp.precision_maxdets_100[t][r][k][a]) {
                    expect({ t, r, k, a, got }).toEqual({ t, r, k, a, got: exp.precision_maxdets_100[t][r][k][a] });
                  }
                }
          for (let t = 0; t < T; t++)
            for (let r = 0; r < R; r++)
              for (let k = 0; k < K; k++) {
                expect(ev.scores[precisionIndex(ev.counts, t, r, k, 0, 2)]).toBe(exp.scores_area_all_maxdets_100[t][r][k]);
              }
        }
        if (exp.ious) {
          for (const c of exp.ious) {
            expect(E.getIouIds(c.image_id, c.category_id)).toEqual({ dtIds: c.dt_ids, gtIds: c.gt_ids });
            expect(E.getIous(c.image_id, c.category_id)).toEqual(c.iou);
          }
        }
        expect(E.summaryLines.length).toBe(12);
      });
    }
  });
}
