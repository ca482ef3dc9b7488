// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { Registry, SeededRandom } from '@solo-ts/core';
import { datasetsComponents } from '../components.js';
import type { CocoInstance } from '../coco/types.js';
import { RandomFlip } from './flip.js';
import { LoadAnnotations } from './load-annotations.js';
import { isPolygonMasks, toBitmapMasks } from './masks.js';
import { PackDetInputs } from './pack.js';
import { rescaleSize } from '@solo-ts/ops';
import { RandomChoiceResize, Resize } from './resize.js';
import type { PipelineResults } from './results.js';

const rect = (x: number, y: number, w: number, h: number): number[] => [x, y, x + w, y, x + w, y + h, x, y + h];

function sample(): PipelineResults {
  const h = 40;
  const w = 60;
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
  const instances: CocoInstance[] = [
    { bbox: [10, 5, 30, 25], bboxLabel: 0, ignoreFlag: 0, annId: 1, mask: [rect(10, 5, 20, 20)] },
    { bbox: [40, 10, 70, 30], bboxLabel: 1, ignoreFlag: 1, annId: 2, mask: [rect(40, 10, 20, 20)] },
    { bbox: [0, 0, 8, 8], bboxLabel: 1, ignoreFlag: 0, annId: 3, mask: [[0, 0, 8, 0]] }, // degenerate polygon
    { bbox: [0, 30, 8, 38], bboxLabel: 0, ignoreFlag: 0, annId: 4 }, // no segmentation
  ];
  return { imgPath: 'x.png', imgId: 7, height: h, width: w, instances, img: { data, height: h, width: w, channels: 3 }, imgShape: [h, w], oriShape: [h, w] };
}

describe('LoadAnnotations', () => {
  it('loads boxes, labels, masks and marks unusable masks as ignored', () => {
    const r = new LoadAnnotations({ withMask: true }).transform(sample());
    expect(Array.from(r.gtBboxes!)).toEqual([10, 5, 30, 25, 40, 10, 70, 30, 0, 0, 8, 8, 0, 30, 8, 38]);
    expect(Array.from(r.gtBboxesLabels!)).toEqual([0, 1, 1, 0]);
    expect(Array.from(r.gtIgnoreFlags!)).toEqual([0, 1, 1, 1]);
    const m = toBitmapMasks(r.gtMasks!);
    expect([m.count, m.height, m.width]).toEqual([4, 40, 60]);
    // polygon rect(10,5,20,20) rasterised by pycocotools covers columns 10..29 and rows 5..24 (20x20 pixels)
    let area = 0;
    for (let i = 0; i < 2400; i++) area += m.data[i];
    expect(area).toBe(400);
    expect(m.data[5 * 60 + 10]).toBe(1);
    expect(m.data[25 * 60 + 10]).toBe(0);
  });

  it('poly2mask: false keeps polygons and rasterises them identically when packed', () => {
    const a = new LoadAnnotations({ withMask: true, poly2mask: false }).transform(sample());
    expect(isPolygonMasks(a.gtMasks)).toBe(true);
    const b = new LoadAnnotations({ withMask: true }).transform(sample());
    expect(toBitmapMasks(a.gtMasks!).data).toEqual(toBitmapMasks(b.gtMasks!).data);
  });
});

describe('Resize', () => {
  it('keep_ratio follows mmcv rescale_size', () => {
    expect(rescaleSize(640, 427, [1333, 800]).size).toEqual([1199, 800]);
    expect(rescaleSize(640, 427, [208, 124]).size).toEqual([186, 124]);
    expect(rescaleSize(427, 640, [768, 448]).size).toEqual([448, 671]);
  });

  it('scales and clips boxes in float32, resizes masks with nearest', () => {
    const r0 = new LoadAnnotations({ withMask: true }).transform(sample());
    const r = new Resize({ scale: [90, 60], keepRatio: true }).transform(r0);
    expect(r.imgShape).toEqual([60, 90]);
    expect(r.scaleFactor).toEqual([1.5, 1.5]);
    expect(r.scale).toEqual([90, 60]);
    expect(Array.from(r.gtBboxes!.subarray(4, 8))).toEqual([60, 15, 90, 45]); // x2 105 clipped to 90
    const m = toBitmapMasks(r.gtMasks!);
    expect([m.height, m.width]).toEqual([60, 90]);
  });

  it('keep_ratio false resizes to exactly scale; scale_factor derives the target', () => {
    const r = new Resize({ scale: [30, 30], keepRatio: false }).transform(sample());
    expect(r.imgShape).toEqual([30, 30]);
    expect(r.scaleFactor).toEqual([0.5, 0.75]);
    const s = new Resize({ scaleFactor: 0.5, keepRatio: true }).transform(sample());
    expect(s.imgShape).toEqual([20, 30]);
    expect(() => new Resize({})).toThrow(/scale/);
  });

  it('RandomChoiceResize picks a scale with the seeded generator (reproducible)', async () => {
    const reg = new Registry().load(datasetsComponents);
    const t = reg.build<RandomChoiceResize>('transforms', { type: 'RandomChoiceResize', scales: [[60, 20], [60, 30], [60, 40]], keep_ratio: true });
    const pick = async (seed: number): Promise<number[]> => {
      const rng = new SeededRandom(seed);
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push((await t.transform(sample(), rng))!.imgShape![0]);
      return out;
    };
    const a = await pick(3);
    expect(await pick(3)).toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(1);
    for (const h of a) expect([20, 30, 40]).toContain(h);
  });
});

describe('RandomFlip', () => {
  it('prob 1 horizontal flips image, boxes and masks', () => {
    const r0 = new LoadAnnotations({ withMask: true }).transform(sample());
    const img0 = r0.img!.data.slice();
    const mask0 = toBitmapMasks(r0.gtMasks!).data.slice();
    const r = new RandomFlip({ prob: 1 }).transform(r0);
    expect(r.flip).toBe(true);
    expect(r.flipDirection).toBe('horizontal');
    expect(Array.from(r.gtBboxes!.subarray(0, 4))).toEqual([30, 5, 50, 25]);
    expect(Array.from(r.img!.data.subarray(0, 3))).toEqual(Array.from(img0.subarray(59 * 3, 60 * 3)));
    const m = toBitmapMasks(r.gtMasks!).data;
    expect(m[5 * 60 + 49]).toBe(mask0[5 * 60 + 10]);
  });

  it('prob 0 never flips; probabilities per direction', () => {
    const r = new RandomFlip({ prob: 0 }).transform(sample());
    expect(r.flip).toBe(false);
    const t = new RandomFlip({ prob: [0.3, 0.3], direction: ['horizontal', 'vertical'] });
    const rng = new SeededRandom(1);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) {
      const d = String(t.chooseDirection(rng));
      counts[d] = (counts[d] ?? 0) + 1;
    }
    expect(counts.horizontal / 3000).toBeCloseTo(0.3, 1);
    expect(counts.vertical / 3000).toBeCloseTo(0.3, 1);
    expect(counts.null / 3000).toBeCloseTo(0.4, 1);
    expect(() => new RandomFlip({ prob: 2 })).toThrow(/prob/);
    expect(() => new RandomFlip({ prob: 0.5, direction: 'sideways' as 'horizontal' })).toThrow(/direction/);
  });
});

describe('PackDetInputs', () => {
  it('splits valid and ignored instances and fills the meta information', () => {
    const r = new LoadAnnotations({ withMask: true }).transform(sample());
    const p = new PackDetInputs({}).transform(r);
    expect(p.inputs).toMatchObject({ height: 40, width: 60, channels: 3, channelOrder: 'bgr' });
    expect(Array.from(p.dataSample.gtInstances!.labels!)).toEqual([0]);
    expect(Array.from(p.dataSample.gtInstances!.annIds as Int32Array)).toEqual([1]);
    expect(Array.from(p.dataSample.ignoredInstances!.annIds as Int32Array)).toEqual([2, 3, 4]);
    expect(p.dataSample.gtInstances!.masks!.count).toBe(1);
    expect(p.dataSample.metainfo).toMatchObject({ imgId: 7, imgPath: 'x.png', oriShape: [40, 60], imgShape: [40, 60], scaleFactor: [1, 1] });
    const q = new PackDetInputs({ metaKeys: ['img_id'] }).transform(new LoadAnnotations({}).transform(sample()));
    expect(q.dataSample.metainfo.imgPath).toBeUndefined();
  });
});
