// SPDX-License-Identifier: Apache-2.0
/**
 * `makeShapesDataset`: writes a small COCO instance-segmentation dataset of synthetic shapes to disk,
 * deterministic from a seed (same seed and options -> byte-identical files):
 *
 * ```
 * OUT/annotations/instances_train.json   OUT/train/000001.png ...
 * OUT/annotations/instances_val.json     OUT/val/000001.png ...
 * ```
 * Image sizes vary around `imageSize` (x0.8..x1.2 per side, about a quarter portrait) unless `varySize` is
 * false. Each image is rendered from its own seed (seed, split, index), so images can be generated in any
 * order. PNGs are written by sharp. Node-only. See `render.ts` for the content.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DatasetError, SeededRandom } from '@solo-ts/core';
import { deriveSeed } from '../loader/sample-rng.js';
import { SHAPE_CATEGORIES, renderShapesImage } from './render.js';

export interface MakeShapesOptions {
  /** Output directory (created). */
  out: string;
  numTrain: number;
  numVal: number;
  seed?: number;
  /** Base image size [w, h] (default [320, 240]). */
  imageSize?: [number, number];
  /** Vary each image's size around imageSize, some portrait (default true). */
  varySize?: boolean;
  minObjects?: number;
  maxObjects?: number;
  /** Smallest object size, sqrt(area) in px (default 10). */
  minSize?: number;
  /** Largest object size as a fraction of the shorter image side (default 0.55). */
  maxSizeFrac?: number;
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Images rendered and encoded concurrently (default 4). */
  concurrency?: number;
}

export interface MakeShapesResult {
  out: string;
  trainAnn: string;
  valAnn: string;
  numImages: { train: number; val: number };
  numAnnotations: { train: number; val: number };
  categories: string[];
}

function imageSizeFor(base: [number, number], vary: boolean, rng: SeededRandom): [number, number] {
  if (!vary) return base;
  let w = Math.round(base[0] * (0.8 + 0.4 * rng.random()));
  let h = Math.round(base[1] * (0.8 + 0.4 * rng.random()));
  const portrait = rng.random() < 0.25;
  if (portrait !== h > w) [w, h] = [h, w];
  return [Math.max(32, w), Math.max(32, h)];
}

async function writeSplit(split: 'train' | 'val', n: number, o: Required<Omit<MakeShapesOptions, 'onProgress'>> & Pick<MakeShapesOptions, 'onProgress'>, progress: () => void): Promise<{ file: string; annotations: number }> {
  const dir = join(o.out, split);
  await mkdir(dir, { recursive: true });
  const images: unknown[] = new Array(n);
  const perImage: unknown[][] = new Array(n);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const seed = deriveSeed(o.seed, split === 'train' ? 1 : 2, i);
      const [w, h] = imageSizeFor(o.imageSize, o.varySize, new SeededRandom(seed ^ 0x5bd1e995));
      const img = renderShapesImage({ width: w, height: h, seed, minObjects: o.minObjects, maxObjects: o.maxObjects, minSize: o.minSize, maxSizeFrac: o.maxSizeFrac });
      const fileName = `${String(i + 1).padStart(6, '0')}.png`;
      const png = await sharp(img.rgb, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
      await writeFile(join(dir, fileName), png);
      images[i] = { id: i + 1, file_name: fileName, height: h, width: w };
      perImage[i] = img.annotations.map((a) => ({
        image_id: i + 1,
        category_id: a.categoryId,
        segmentation: a.segmentation,
        area: a.area,
        bbox: a.bbox,
        iscrowd: 0,
      }));
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, work));
  let annId = 1;
  const annotations = perImage.flatMap((list) => list.map((a) => ({ id: annId++, ...(a as object) })));
  const coco = {
    info: {
      description: `solo-ts synthetic shapes (${split})`,
      version: '1.0',
      seed: o.seed,
      image_size: o.imageSize,
      vary_size: o.varySize,
      num_images: n,
      min_objects: o.minObjects,
      max_objects: o.maxObjects,
      min_size: o.minSize,
      max_size_frac: o.maxSizeFrac,
    },
    licenses: [],
    images,
    annotations,
    categories: SHAPE_CATEGORIES.map((name, i) => ({ id: i + 1, name, supercategory: 'shape' })),
  };
  await mkdir(join(o.out, 'annotations'), { recursive: true });
  const file = join(o.out, 'annotations', `instances_${split}.json`);
  await writeFile(file, JSON.stringify(coco));
  return { file, annotations: annotations.length };
}

/** The defaults of `makeShapesDataset` for the options that shape the content (also what the `info` block records). */
export const SHAPES_CONTENT_DEFAULTS = { minObjects: 1, maxObjects: 6, minSize: 10, maxSizeFrac: 0.55 } as const;

export async function makeShapesDataset(options: MakeShapesOptions): Promise<MakeShapesResult> {
  const o = {
    seed: 0,
    imageSize: [320, 240] as [number, number],
    varySize: true,
    ...SHAPES_CONTENT_DEFAULTS,
    concurrency: 4,
    // keys given as `undefined` (e.g. an optional setting passed through) keep their defaults
    ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as MakeShapesOptions),
  };
  for (const [k, v] of [['numTrain', o.numTrain], ['numVal', o.numVal]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new DatasetError(`make-shapes: ${k} must be a non-negative integer, got ${v}`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new DatasetError(`make-shapes: seed must be a non-negative integer, got ${o.seed}`);
  if (!o.imageSize.every((v) => Number.isInteger(v) && v >= 32 && v <= 4096)) throw new DatasetError(`make-shapes: image size must be two integers in 32..4096, got ${o.imageSize.join('x')}`);
  if (!(o.minObjects >= 1 && o.maxObjects >= o.minObjects)) throw new DatasetError(`make-shapes: need 1 <= minObjects <= maxObjects, got ${o.minObjects}..${o.maxObjects}`);
  const total = o.numTrain + o.numVal;
  let done = 0;
  const progress = (): void => {
    done++;
    o.onProgress?.(done, total);
  };
  await mkdir(o.out, { recursive: true });
  const train = await writeSplit('train', o.numTrain, o, progress);
  const val = await writeSplit('val', o.numVal, o, progress);
  return {
    out: o.out,
    trainAnn: train.file,
    valAnn: val.file,
    numImages: { train: o.numTrain, val: o.numVal },
    numAnnotations: { train: train.annotations, val: val.annotations },
    categories: [...SHAPE_CATEGORIES],
  };
}
