// SPDX-License-Identifier: Apache-2.0
import { COCO_CONFORMANCE_ROOT } from '../../../test/helpers/shared-dir.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSoloError } from '@solo-ts/core';
import type { CocoAnnotation } from '@solo-ts/cocoapi';
import { asciiTable } from './classwise.js';
import { COCO, CocoMetric, classwiseTable, evaluateDetections, maskUtils, runEval, type CocoPrediction } from './index.js';
import { formatFixed, roundPy } from './numpy.js';

const ROOT = `${COCO_CONFORMANCE_ROOT}/eval/`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (f: string): any => JSON.parse(readFileSync(ROOT + f, 'utf8'));

/** Expect `fn` to throw a SoloError whose message matches every pattern. */
function expectSoloError(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isSoloError(err), `expected a SoloError, got ${String(err)}`).toBe(true);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('evaluateDetections / runEval', () => {
  const gt = load('realistic/gt.json');
  const dt = load('realistic/dt.json');
  const exp = load('realistic/expected.json').results;

  it('segm (bbox dropped), bbox and keepBbox match pycocotools', () => {
    expect(evaluateDetections({ gt, dt, iouType: 'segm' }).stats).toEqual(exp.segm.stats);
    expect(evaluateDetections({ gt, dt, iouType: 'bbox' }).stats).toEqual(exp.bbox.stats);
    expect(evaluateDetections({ gt, dt, iouType: 'segm', keepBbox: true }).stats).toEqual(exp.segm_keep_bbox.stats);
    expect(evaluateDetections({ gt, dt, iouType: 'segm', useCats: false }).stats).toEqual(exp.segm_useCats0.stats);
    expect(dt[0].bbox).toBeDefined(); // inputs are not mutated
  });

  it('classwise mAP equals the per-category AP of pycocotools, table in mmdet format', () => {
    const r = runEval({ gt, dt, iouType: 'segm', classwise: true });
    expect(r.stats).toEqual(exp.segm.stats);
    expect(r.metrics.AP).toBe(exp.segm.stats[0]);
    expect(r.metrics.ARl).toBe(exp.segm.stats[11]);
    expect(r.metrics.segm_mAP_75).toBe(exp.segm.stats[2]);
    expect(r.classwise!.map((c) => c.mAP)).toEqual(exp.segm.per_category.map((c: { ap: number }) => c.ap));
    expect(r.classwise!.map((c) => c.mAP_50)).toEqual(exp.segm.per_category.map((c: { ap50: number }) => c.ap50));
    expect(r.classwise!.map((c) => c.name)).toEqual(['bicycle_1', 'car_2', 'dog_3', 'cat_4', 'bird_5']);
    const lines = r.classwiseTable!.split('\n');
    expect(lines[1]).toMatch(/^\| category +\| mAP +\| mAP_50 +\| mAP_75 +\| mAP_s +\| mAP_m +\| mAP_l +\|$/);
    expect(lines.length).toBe(5 + 4);
    expect(r.summary[0]).toBe(` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ${formatFixed(exp.segm.stats[0], 3)}`);
    expect(r.summary[6]).toMatch(/^ Average Recall     \(AR\) @\[ IoU=0\.50:0\.95 \| area=   all \| maxDets=  1 \] = \d\.\d{3}$/);
  });

  it('an empty detections list gives the no_detections expectations (0, -1 where no gt)', () => {
    const e = load('no_detections/expected.json');
    const r = runEval({ gt: load('no_detections/gt.json'), dt: [], iouType: 'segm' });
    expect(r.stats).toEqual(e.results.segm.stats);
    expect(runEval({ gt: load('no_detections/gt.json'), dt: [], iouType: 'bbox' }).stats).toEqual(e.results.bbox.stats);
  });

  it('bad input throws SoloError naming the file and annotation', () => {
    const g = structuredClone(gt);
    expectSoloError(() => runEval({ gt: [], dt, gtFile: 'gt.json' }), /gt\.json/, /JSON object/);
    expectSoloError(() => runEval({ gt: { images: [], annotations: [] }, dt, gtFile: 'gt.json' }), /gt\.json: missing key "categories"/);
    g.annotations[3].segmentation = { foo: 1 };
    expectSoloError(() => runEval({ gt: g, dt, gtFile: 'gt.json' }), /gt\.json: annotation #3 \(id \d+\)/, /segmentation of unknown format/);
    const g2 = structuredClone(gt);
    delete g2.annotations[5].area;
    expectSoloError(() => runEval({ gt: g2, dt, gtFile: 'gt.json' }), /annotation #5 .*"area"/);
    const g3 = structuredClone(gt);
    g3.annotations[2].segmentation = { size: [2, 2], counts: [1, 2] };
    expectSoloError(() => runEval({ gt: g3, dt, gtFile: 'gt.json' }), /annotation #2 .*add up to 3, expected height\*width = 4/);
    const d = structuredClone(dt);
    d[7].image_id = 123456789;
    expectSoloError(() => runEval({ gt, dt: d, dtFile: 'dt.json' }), /dt\.json: detection #7 \(image_id 123456789\)/, /not an image of the ground truth/);
    const d2 = structuredClone(dt);
    d2[4].segmentation = 'abc';
    expectSoloError(() => runEval({ gt, dt: d2, dtFile: 'dt.json' }), /dt\.json: detection #4/, /segmentation of unknown format/);
    const d3 = structuredClone(dt);
    delete d3[9].score;
    expectSoloError(() => runEval({ gt, dt: d3, dtFile: 'dt.json' }), /detection #9 .*"score"/);
    expectSoloError(() => runEval({ gt, dt: { a: 1 }, dtFile: 'dt.json' }), /dt\.json: detections must be a JSON list/);
    expectSoloError(() => runEval({ gt, dt, iouType: 'keypoints' }), /iou-type/);
    expectSoloError(() => runEval({ gt, dt, useCats: '2' }), /use-cats/);
  });

  it('COCO.loadRes checks image ids and assigns ids / areas like pycocotools', () => {
    const coco = new COCO(gt, 'gt.json');
    expectSoloError(() => coco.loadRes([{ image_id: -5, category_id: 1, bbox: [0, 0, 1, 1], score: 1 }]), /detection #0 \(image_id -5\)/);
    const res = coco.loadRes([{ image_id: gt.images[0].id, category_id: 1, bbox: [1, 2, 3, 4.5], score: 0.5 }]);
    const a = res.loadAnns(1)[0];
    expect(a.area).toBe(13.5);
    expect(a.iscrowd).toBe(0);
    expect(a.segmentation).toEqual([[1, 2, 1, 6.5, 4, 6.5, 4, 2]]);
    const seg = maskUtils.frPyObjects([[10, 10, 30, 10, 30, 25]], gt.images[0].height, gt.images[0].width);
    const res2 = coco.loadRes([{ image_id: gt.images[0].id, category_id: 1, segmentation: maskUtils.merge(seg), score: 1 }]);
    expect(res2.loadAnns(1)[0].area).toBe(maskUtils.area(maskUtils.merge(seg)));
    expect(res2.loadAnns(1)[0].bbox).toEqual(maskUtils.toBbox(maskUtils.merge(seg)));
  });
});

describe('CocoMetric', () => {
  const gt = load('realistic/gt.json');
  const dt: CocoAnnotation[] = load('realistic/dt.json');
  const exp = load('realistic/expected.json').results;
  const catIds: number[] = gt.categories.map((c: { id: number }) => c.id);

  function predictions(): CocoPrediction[] {
    const byImg = new Map<number, CocoAnnotation[]>();
    for (const d of dt) byImg.set(d.image_id, [...(byImg.get(d.image_id) ?? []), d]);
    return [...byImg].map(([imageId, ds]) => ({
      imageId,
      labels: ds.map((d) => catIds.indexOf(d.category_id)),
      scores: ds.map((d) => d.score as number),
      masks: ds.map((d) => d.segmentation as { size: [number, number]; counts: string }),
      bboxes: ds.map((d) => [d.bbox![0], d.bbox![1], d.bbox![0] + d.bbox![2], d.bbox![1] + d.bbox![3]]),
    }));
  }

  it('reports mmdetection keys (rounded stats[0..5]) for segm and bbox', () => {
    const m = new CocoMetric({ metric: ['segm', 'bbox'], classwise: true });
    expect(CocoMetric.type).toBe('CocoMetric');
    const lines: string[] = [];
    m.log = (l) => lines.push(l);
    m.process(predictions());
    const r = m.computeMetrics(gt);
    const names = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'];
    // at most 5 detections per image and category here, so maxDets 1000 / 100 agree
    names.forEach((n, i) => expect(r[`coco/segm_${n}`]).toBe(roundPy(exp.segm.stats[i], 3)));
    // as in mmdetection, `<class>_precision` of the later metric (bbox) overwrites the earlier one
    exp.bbox.per_category.forEach((c: { ap: number }, k: number) => {
      expect(Math.abs(r[`coco/${gt.categories[k].name}_precision`] - roundPy(c.ap, 3))).toBeLessThanOrEqual(0.001);
    });
    const segmOnly = new CocoMetric({ metric: 'segm', classwise: true });
    segmOnly.process(predictions());
    const rs = segmOnly.computeMetrics(gt);
    exp.segm.per_category.forEach((c: { ap: number }, k: number) => {
      expect(rs[`coco/${gt.categories[k].name}_precision`]).toBe(roundPy(c.ap, 3));
    });
    expect(lines.some((l) => l.startsWith('segm_mAP_copypaste: '))).toBe(true);
    expect(lines.some((l) => /maxDets=1000/.test(l))).toBe(true);
    // the bbox pass uses xyxy -> xywh boxes: w = x2 - x1 in float64 may differ from the file's w by an ulp
    expect(Math.abs(r['coco/bbox_mAP'] - roundPy(exp.bbox.stats[0], 3))).toBeLessThanOrEqual(0.001);
  });

  it('accepts DetDataSamples with bitmap masks; empty predictions evaluate to zeros', () => {
    const img = gt.images[0];
    const ann = gt.annotations.find((a: CocoAnnotation) => a.image_id === img.id && !a.iscrowd);
    const mask = maskUtils.decode(new COCO(gt).annToRLE(ann));
    const m = new CocoMetric({ metric: 'segm' });
    m.process([
      {
        metainfo: { imgId: img.id, oriShape: [img.height, img.width], imgShape: [img.height, img.width], scaleFactor: [1, 1] },
        predInstances: {
          labels: Int32Array.of(catIds.indexOf(ann.category_id)),
          scores: Float32Array.of(0.9),
          masks: { count: 1, height: mask.height, width: mask.width, data: mask.data },
        },
      },
    ]);
    const r = m.computeMetrics(gt);
    expect(r['coco/segm_mAP']).toBeGreaterThan(0);
    expect(m.resultsJson.segm[0].segmentation).toEqual(new COCO(gt).annToRLE(ann));
    const empty = new CocoMetric({ metric: 'segm' });
    empty.process([{ imageId: img.id, labels: [], scores: [], masks: [] }]);
    expect(empty.computeMetrics(gt)['coco/segm_mAP']).toBe(0);
  });
});

describe('formatting helpers', () => {
  it('formats like Python (round half to even on the exact value)', () => {
    expect(formatFixed(0.0625, 3)).toBe('0.062');
    expect(formatFixed(0.1875, 3)).toBe('0.188');
    expect(formatFixed(-1, 3)).toBe('-1.000');
    expect(formatFixed(0.3445, 3)).toBe((0.3445).toFixed(3));
    expect(roundPy(0.0625, 3)).toBe(0.062);
  });
  it('asciiTable / classwiseTable', () => {
    expect(asciiTable([['a', 'bb'], ['ccc', 'd']])).toBe('+-----+----+\n| a   | bb |\n+-----+----+\n| ccc | d  |\n+-----+----+');
    const t = classwiseTable([{ categoryId: 1, name: 'x', mAP: Number.NaN, mAP_50: 1, mAP_75: 0.5, mAP_s: 0.1234, mAP_m: 0, mAP_l: 0.0625 }]);
    expect(t.split('\n')[3]).toBe('| x        | nan | 1.0    | 0.5    | 0.123 | 0.0   | 0.062 |');
  });
});

describe('registry', () => {
  it('evaluationComponents registers CocoMetric under metrics and builds it from snake_case options', async () => {
    const { Registry } = await import('@solo-ts/core');
    const { evaluationComponents } = await import('./index.js');
    const reg = new Registry().load(evaluationComponents);
    const m = reg.build<CocoMetric>('metrics', { type: 'CocoMetric', metric: 'segm', classwise: true, proposal_nums: [1, 10, 100] }, 'val_evaluator');
    expect(m).toBeInstanceOf(CocoMetric);
    expect(m.metrics).toEqual(['segm']);
    expect(m.classwise).toBe(true);
    expect(m.proposalNums).toEqual([1, 10, 100]);
  });
});
