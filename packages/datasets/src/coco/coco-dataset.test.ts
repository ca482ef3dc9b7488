// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError, Registry } from '@solo-ts/core';
import { datasetsComponents } from '../components.js';
import { CocoDataset } from './coco-dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'solo-coco-'));
let n = 0;
function write(content: unknown): string {
  const f = join(dir, `ann${n++}.json`);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

const square = (x: number, y: number, s: number): number[] => [x, y, x + s, y, x + s, y + s, x, y + s];
function base(): { images: unknown[]; categories: unknown[]; annotations: Record<string, unknown>[] } {
  return {
    images: [
      { id: 1, file_name: 'a.png', height: 100, width: 120 },
      { id: 2, file_name: 'b.png', height: 80, width: 60 },
      { id: 3, file_name: 'c.png', height: 20, width: 20 },
    ],
    categories: [
      { id: 5, name: 'circle' },
      { id: 9, name: 'square' },
    ],
    annotations: [
      { id: 10, image_id: 1, category_id: 9, bbox: [10, 10, 20, 20], area: 400, iscrowd: 0, segmentation: [square(10, 10, 20)] },
      { id: 11, image_id: 1, category_id: 5, bbox: [50, 50, 10, 10], area: 100, iscrowd: 1, segmentation: [square(50, 50, 10)] },
      { id: 12, image_id: 1, category_id: 5, bbox: [0, 0, 0.5, 10], area: 5, segmentation: [square(0, 0, 1)] },
      { id: 13, image_id: 1, category_id: 5, bbox: [200, 200, 10, 10], area: 100, segmentation: [square(0, 0, 1)] },
      { id: 14, image_id: 1, category_id: 5, bbox: [5, 5, 10, 10], area: 100, ignore: 1, segmentation: [square(5, 5, 10)] },
      { id: 20, image_id: 2, category_id: 5, bbox: [1, 2, 30, 40], area: 1200, segmentation: [square(1, 2, 30)] },
    ],
  };
}

const quiet = { onWarning: () => undefined };

describe('CocoDataset parsing (mmdetection rules)', () => {
  it('maps categories to labels in file order and applies the instance rules', () => {
    const ds = new CocoDataset({ annFile: write(base()), testMode: true, ...quiet });
    expect(ds.length).toBe(3);
    expect(ds.metainfo.classes).toEqual(['circle', 'square']);
    expect(ds.metainfo.catIds).toEqual([5, 9]);
    expect(ds.metainfo.palette).toHaveLength(2);
    const d = ds.getDataInfo(0);
    expect(d.imgPath).toBe('a.png');
    // 12: w < 1; 13: outside the image; 14: ignore
    expect(d.instances.map((i) => i.annId)).toEqual([10, 11]);
    expect(d.instances[0]).toMatchObject({ bbox: [10, 10, 30, 30], bboxLabel: 1, ignoreFlag: 0 });
    expect(d.instances[1]).toMatchObject({ bboxLabel: 0, ignoreFlag: 1 });
  });

  it('supports a single class and metainfo.classes ordering / restriction', () => {
    const ds = new CocoDataset({ annFile: write(base()), metainfo: { classes: ['square'] }, testMode: true, ...quiet });
    expect(ds.metainfo.classes).toEqual(['square']);
    expect(ds.metainfo.catIds).toEqual([9]);
    expect(ds.getDataInfo(0).instances.map((i) => [i.annId, i.bboxLabel])).toEqual([[10, 0]]);
    const swapped = new CocoDataset({ annFile: write(base()), metainfo: { classes: ['square', 'circle'] }, testMode: true, ...quiet });
    expect(swapped.getDataInfo(0).instances.map((i) => [i.annId, i.bboxLabel])).toEqual([
      [10, 0],
      [11, 1],
    ]);
  });

  it('filters empty / small images in training only', () => {
    const f = write(base());
    const train = new CocoDataset({ annFile: f, filterCfg: { filter_empty_gt: true, min_size: 32 }, ...quiet });
    expect(Array.from({ length: train.length }, (_, i) => train.getDataInfo(i).imgId)).toEqual([1, 2]);
    const test = new CocoDataset({ annFile: f, filterCfg: { filter_empty_gt: true, min_size: 32 }, testMode: true, ...quiet });
    expect(test.length).toBe(3);
  });

  it('joins data_root and data_prefix like mmengine', () => {
    const f = write(base());
    const ds = new CocoDataset({ annFile: f.split('/').pop()!, dataRoot: dir, dataPrefix: { img: 'imgs/' }, testMode: true, ...quiet });
    expect(ds.getDataInfo(0).imgPath).toBe(join(dir, 'imgs/a.png'));
  });

  it('is built through the registry with its pipeline', async () => {
    const reg = new Registry().load(datasetsComponents);
    const ds = reg.build<CocoDataset>('datasets', { type: 'CocoDataset', ann_file: write(base()), test_mode: true, pipeline: [{ type: 'LoadAnnotations', with_mask: true }] });
    const r = (await ds.prepareData(0)) as { gtMasks: { count: number }; gtIgnoreFlags: Uint8Array };
    expect(r.gtMasks.count).toBe(2);
    expect(Array.from(r.gtIgnoreFlags)).toEqual([0, 1]);
    expect(() => reg.build('datasets', { type: 'CocoDataset', ann_file: 'x.json', pipelines: [] })).toThrow(/unknown option `pipelines`/);
  });
});

describe('CocoDataset bad input', () => {
  const expectError = (content: unknown, re: RegExp): DatasetError => {
    let err: unknown;
    try {
      new CocoDataset({ annFile: write(content), testMode: true, ...quiet });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    const e = err as DatasetError;
    expect(e.format()).toMatch(re);
    return e;
  };

  it('missing file', () => {
    expect(() => new CocoDataset({ annFile: join(dir, 'nope.json') })).toThrow(/cannot read annotation file .*nope\.json: file not found/);
  });

  it('malformed JSON names file, line and column', () => {
    const e = expectError('{\n "images": [\n  {"id": 1,,}\n ]}', /malformed JSON/);
    expect(e.location?.file).toMatch(/ann\d+\.json$/);
    expect(e.location?.line).toBe(3);
  });

  it('missing keys and wrong types name the annotation id', () => {
    const b = base();
    delete b.annotations[0].bbox;
    b.annotations[1].area = 'big';
    expectError(b, /annotation id 10: missing key `bbox`[\s\S]*annotation id 11: `area` must be a number, got string "big"/);
  });

  it('NaN coordinates (Python json writes NaN) are reported per annotation', () => {
    const text = JSON.stringify(base()).replace('"bbox":[1,2,30,40]', '"bbox":[1,NaN,30,40]').replace('[10,10,30,10,30,30,10,30]', '[10,10,30,NaN,30,30,10,30]');
    expectError(text, /annotation id 10: polygon 0 has a non-finite coordinate NaN[\s\S]*annotation id 20: `bbox` has a non-finite coordinate/);
  });

  it('unknown segmentation format', () => {
    const b = base();
    b.annotations[0].segmentation = [10, 10, 20, 10, 20, 20];
    expectError(b, /annotation id 10: unknown segmentation format/);
    b.annotations[0].segmentation = 'polygon';
    expectError(b, /annotation id 10: unknown segmentation format/);
  });

  it('RLE of the wrong size', () => {
    const b = base();
    b.annotations[0].segmentation = { size: [10, 10], counts: [100] };
    expectError(b, /annotation id 10: RLE size \[10, 10\] does not match its image \(id 1\)/);
  });

  it('duplicate annotation / image ids', () => {
    const b = base();
    b.annotations[1].id = 10;
    expectError(b, /annotation id 10 appears more than once/);
    const c = base();
    (c.images[1] as { id: number }).id = 1;
    expectError(c, /image id 1 appears more than once/);
  });

  it('image ids that point nowhere are skipped with a warning', () => {
    const b = base();
    b.annotations[0].image_id = 77;
    const warnings: string[] = [];
    const ds = new CocoDataset({ annFile: write(b), testMode: true, onWarning: (m) => warnings.push(m) });
    expect(ds.getDataInfo(0).instances.map((i) => i.annId)).toEqual([11]);
    expect(warnings.join('\n')).toMatch(/annotation id 10: image_id 77 points to no image/);
  });

  it('wrong top-level structure', () => {
    expectError([], /must hold a JSON object/);
    expectError({ images: {}, categories: [] }, /`images` must be a list/);
    expectError({ images: [] }, /missing key `categories`/);
  });

  it('bad image records', () => {
    const b = base();
    (b.images[0] as Record<string, unknown>).height = -3;
    expectError(b, /image id 1: `height` must be a positive integer, got number -3/);
  });
});
