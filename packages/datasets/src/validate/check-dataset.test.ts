// SPDX-License-Identifier: Apache-2.0
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeShapesDataset } from '../synthetic/make-shapes.js';
import { checkDataset, formatCheckReport, type CheckReport } from './check-dataset.js';

let clean: string;
let broken: string;

beforeAll(async () => {
  clean = mkdtempSync(join(tmpdir(), 'solo-check-'));
  await makeShapesDataset({ out: clean, numTrain: 6, numVal: 0, seed: 3, imageSize: [96, 72], minObjects: 2, maxObjects: 4 });
  broken = mkdtempSync(join(tmpdir(), 'solo-check-broken-'));
  cpSync(clean, broken, { recursive: true });
});

interface Ann {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  area?: number;
  iscrowd?: number;
  segmentation?: unknown;
}

describe('check-dataset', () => {
  it('finds no problem in a clean synthetic dataset and summarises it', async () => {
    const r = await checkDataset({ annFile: join(clean, 'annotations/instances_train.json'), imgDir: join(clean, 'train'), scaleRanges: [[1, 24], [12, 48], [24, 2048]], trainScale: [192, 144] });
    expect(r.problems).toEqual([]);
    expect(r.errors + r.warnings).toBe(0);
    expect(r.classes.reduce((a, c) => a + c.instances, 0)).toBe(r.annotations);
    expect(r.sizes.small + r.sizes.medium + r.sizes.large).toBe(r.annotations);
    expect(r.scaleRanges!.ranges.map((x) => x.range)).toEqual([[1, 24], [12, 48], [24, 2048]]);
    expect(formatCheckReport(r)).toMatch(/no problems found/);
  });

  it('reports every planted problem with its annotation id', async () => {
    const annFile = join(broken, 'annotations/instances_train.json');
    const coco = JSON.parse(readFileSync(annFile, 'utf8')) as { images: { id: number; file_name: string; width: number; height: number }[]; annotations: Ann[] };
    const A = coco.annotations;
    const img1 = coco.images[0];
    const nextId = Math.max(...A.map((a) => a.id)) + 1;
    const poly = (x: number, y: number): number[][] => [[x, y, x + 10, y, x + 10, y + 10, x, y + 10]];
    const base = { image_id: img1.id, category_id: 1, bbox: [5, 5, 10, 10], area: 100, iscrowd: 0 };
    A.push({ id: nextId, ...base, segmentation: poly(5, 5), bbox: [5, 5, 10, 10] }); // NaN planted below
    A.push({ id: nextId, ...base, segmentation: poly(5, 5) }); // duplicate id
    A.push({ id: nextId + 2, ...base, image_id: 9999, segmentation: poly(5, 5) }); // image id nowhere
    A.push({ id: nextId + 3, ...base, category_id: 77, segmentation: poly(5, 5) }); // undeclared category
    A.push({ id: nextId + 4, ...base, segmentation: [[1, 2, 3, 4], ...poly(5, 5)] }); // degenerate polygon
    A.push({ id: nextId + 5, ...base, segmentation: 'a polygon' }); // unknown format
    A.push({ id: nextId + 6, ...base, segmentation: [[5, 5, 500, 5, 500, 15, 5, 15]] }); // polygon outside the image
    A.push({ id: nextId + 7, ...base, iscrowd: 2, segmentation: poly(5, 5) }); // bad crowd flag
    A.push({ id: nextId + 8, ...base, bbox: [60, 40, 10, 10], segmentation: poly(5, 5) }); // box far from mask
    const noArea: Ann = { id: nextId + 9, ...base, segmentation: poly(5, 5) };
    delete noArea.area;
    A.push(noArea); // missing key
    A.push({ id: nextId + 10, ...base, segmentation: { size: [10, 10], counts: [100] } }); // RLE of the wrong size
    A.push({ id: nextId + 11, ...base, bbox: [5, 5, 0.5, 10], segmentation: poly(5, 5) }); // box skipped (w < 1)
    coco.images.push({ ...coco.images[1] }); // duplicate image id
    let text = JSON.stringify(coco);
    text = text.replace(`{"id":${nextId},"image_id":${img1.id},"category_id":1,"bbox":[5,5,10,10]`, `{"id":${nextId},"image_id":${img1.id},"category_id":1,"bbox":[5,NaN,10,10]`);
    writeFileSync(annFile, text);
    // images: one missing, one corrupt, one with another size
    rmSync(join(broken, 'train', coco.images[2].file_name));
    writeFileSync(join(broken, 'train', coco.images[3].file_name), 'not a png');
    const im4 = coco.images[4];
    await sharp({ create: { width: im4.width + 3, height: im4.height, channels: 3, background: '#808080' } }).png().toFile(join(broken, 'train', im4.file_name));

    const r: CheckReport = await checkDataset({ annFile, imgDir: join(broken, 'train') });
    const has = (kind: string, annId?: number, re?: RegExp): void => {
      const hit = r.problems.find((p) => p.kind === kind && (annId === undefined || p.annId === annId) && (!re || re.test(p.message)));
      expect(hit, `expected a "${kind}" problem${annId !== undefined ? ` for annotation ${annId}` : ''}\n${formatCheckReport(r)}`).toBeDefined();
      if (annId !== undefined) expect(hit!.message).toContain(`annotation id ${annId}`);
    };
    has('nan', nextId, /bbox/);
    has('duplicate-id', nextId, /appears more than once/);
    has('image-id', nextId + 2);
    has('category-id', nextId + 3);
    has('polygon', nextId + 4, /4 coordinates/);
    has('segmentation-format', nextId + 5);
    has('out-of-image', nextId + 6, /polygon 0/);
    has('crowd', nextId + 7);
    has('bbox', nextId + 8, /does not match its segmentation/);
    has('missing-key', nextId + 9, /`area`/);
    has('rle', nextId + 10, /does not match its image/);
    has('bbox', nextId + 11, /skipped/);
    has('duplicate-id', undefined, new RegExp(`image id ${coco.images[1].id} appears more than once`));
    has('image-decode', undefined, /file not found/);
    has('image-decode', undefined, new RegExp(`cannot decode .*${coco.images[3].file_name}`));
    has('image-size', undefined, new RegExp(`decoded size ${im4.width + 3}x${im4.height} differs`));
    expect(r.errors).toBeGreaterThan(0);
    const text2 = formatCheckReport(r);
    expect(text2).toMatch(/problems \(\d+ errors, \d+ warnings\)/);
  });

  it('reports malformed JSON as a problem', async () => {
    const f = join(broken, 'annotations/bad.json');
    writeFileSync(f, '{"images": [}');
    const r = await checkDataset({ annFile: f });
    expect(r.errors).toBe(1);
    expect(r.problems[0].message).toMatch(/malformed JSON/);
  });
});
