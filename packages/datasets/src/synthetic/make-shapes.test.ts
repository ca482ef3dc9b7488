// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { annToRleData, rleDecodeRowMajor } from '@solo-ts/cocoapi';
import { CocoDataset } from '../coco/coco-dataset.js';
import { checkDataset } from '../validate/check-dataset.js';
import { makeShapesDataset } from './make-shapes.js';
import { renderShapesImage } from './render.js';

describe('synthetic shapes', () => {
  it('is deterministic from the seed and writes a valid COCO dataset', async () => {
    const a = mkdtempSync(join(tmpdir(), 'solo-shapes-a-'));
    const b = mkdtempSync(join(tmpdir(), 'solo-shapes-b-'));
    const progress: number[] = [];
    const ra = await makeShapesDataset({ out: a, numTrain: 5, numVal: 2, seed: 7, imageSize: [96, 72], onProgress: (d) => progress.push(d) });
    await makeShapesDataset({ out: b, numTrain: 5, numVal: 2, seed: 7, imageSize: [96, 72], concurrency: 1 });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const f of ['annotations/instances_train.json', 'annotations/instances_val.json', 'train/000003.png', 'val/000002.png']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f)))).toBe(true);
    }
    const c = mkdtempSync(join(tmpdir(), 'solo-shapes-c-'));
    await makeShapesDataset({ out: c, numTrain: 5, numVal: 0, seed: 8, imageSize: [96, 72] });
    expect(readFileSync(join(a, 'annotations/instances_train.json')).equals(readFileSync(join(c, 'annotations/instances_train.json')))).toBe(false);

    const ds = new CocoDataset({ annFile: ra.trainAnn, dataPrefix: { img: join(a, 'train') } });
    expect(ds.length).toBe(5);
    expect(ds.metainfo.classes).toEqual(['circle', 'triangle', 'square', 'star', 'hexagon']);
    const report = await checkDataset({ annFile: ra.trainAnn, imgDir: join(a, 'train') });
    expect(report.problems).toEqual([]);
    expect(report.imagesChecked).toBe(5);
  });

  it('annotations describe exactly the visible object pixels', () => {
    let occluded = 0;
    let sizes: number[] = [];
    for (let seed = 0; seed < 12; seed++) {
      const img = renderShapesImage({ width: 128, height: 96, seed, minObjects: 4, maxObjects: 6 });
      const masks = img.annotations.map((a) => rleDecodeRowMajor(annToRleData(a.segmentation, 96, 128)));
      // visible masks do not overlap and each has the annotated area
      const cover = new Uint8Array(128 * 96);
      img.annotations.forEach((a, k) => {
        let area = 0;
        for (let i = 0; i < cover.length; i++) {
          if (masks[k][i]) {
            expect(cover[i]).toBe(0);
            cover[i] = 1;
            area++;
          }
        }
        expect(area).toBe(a.area);
        if (a.occluded) occluded++;
        sizes.push(Math.sqrt(a.area));
      });
    }
    expect(occluded).toBeGreaterThan(0);
    sizes = sizes.sort((x, y) => x - y);
    expect(sizes[0]).toBeLessThan(16);
    expect(sizes[sizes.length - 1]).toBeGreaterThan(40);
  });

  it('options passed as undefined keep their defaults (as the demo passes them)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'solo-shapes-u-'));
    const r = await makeShapesDataset({ out: d, numTrain: 2, numVal: 1, seed: 3, imageSize: [96, 72], maxObjects: undefined, minSize: undefined, maxSizeFrac: undefined });
    expect(r).toBeDefined();
    const ann = JSON.parse(readFileSync(join(d, 'annotations', 'instances_train.json'), 'utf8')) as { images: unknown[] };
    expect(ann.images.length).toBe(2);
  });
});
