// SPDX-License-Identifier: Apache-2.0
/**
 * `solo make-shapes --out DIR --num-train N --num-val M [--seed S] [--size WxH] [--fixed-size]
 *  [--max-objects K] [--min-size PX] [--max-size-frac F]`
 *
 * Writes a synthetic COCO instance-segmentation dataset of filled shapes (circle, triangle, square, star,
 * hexagon) on textured backgrounds: `DIR/annotations/instances_{train,val}.json` and `DIR/{train,val}/*.png`.
 * Deterministic from the seed. See docs/datasets.md.
 */
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { makeShapesDataset } from '@solo-ts/datasets';
import { action } from '../util/errors.js';
import { stderrProgress } from '../util/progress.js';

interface MakeShapesCommandOptions {
  out: string;
  numTrain: string;
  numVal: string;
  seed: string;
  size: string;
  fixedSize?: boolean;
  maxObjects: string;
  minSize: string;
  maxSizeFrac: string;
  quiet?: boolean;
}

function int(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new SoloError(`${option} must be an integer >= ${min}, got "${value}"`, { code: 'ARGUMENT' });
  }
  return n;
}

/** `WxH` -> [w, h]. */
export function parseSize(text: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m) throw new SoloError(`--size must look like 320x240 (width x height), got "${text}"`, { code: 'ARGUMENT' });
  return [Number(m[1]), Number(m[2])];
}

export function registerMakeShapes(program: Command): void {
  program
    .command('make-shapes')
    .description('write a synthetic COCO dataset of shapes (train/val images + instances JSON), deterministic from a seed')
    .requiredOption('--out <dir>', 'output directory')
    .requiredOption('--num-train <n>', 'number of training images')
    .requiredOption('--num-val <n>', 'number of validation images')
    .option('--seed <s>', 'random seed', '0')
    .option('--size <WxH>', 'base image size (each image varies x0.8..x1.2, some portrait)', '320x240')
    .option('--fixed-size', 'every image exactly --size')
    .option('--max-objects <k>', 'at most this many objects per image', '6')
    .option('--min-size <px>', 'smallest object, square root of its area in pixels', '10')
    .option('--max-size-frac <f>', 'largest object as a fraction of the shorter image side (0-1]', '0.55')
    .option('--quiet', 'no progress display')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo make-shapes --out data/shapes --num-train 2000 --num-val 200\n' +
        '  solo make-shapes --out /tmp/tiny --num-train 20 --num-val 5 --seed 3 --size 160x120 --fixed-size',
    )
    .action(
      action(async (opts: MakeShapesCommandOptions) => {
        const numTrain = int(opts.numTrain, '--num-train', 0);
        const numVal = int(opts.numVal, '--num-val', 0);
        const seed = int(opts.seed, '--seed', 0);
        const maxObjects = int(opts.maxObjects, '--max-objects', 1);
        const imageSize = parseSize(opts.size);
        const minSize = Number(opts.minSize);
        if (!(minSize >= 1)) throw new SoloError(`--min-size must be a number >= 1 (pixels), got "${opts.minSize}"`, { code: 'ARGUMENT' });
        const maxSizeFrac = Number(opts.maxSizeFrac);
        if (!(maxSizeFrac > 0 && maxSizeFrac <= 1)) throw new SoloError(`--max-size-frac must be a number in (0, 1], got "${opts.maxSizeFrac}"`, { code: 'ARGUMENT' });
        const progress = opts.quiet ? undefined : stderrProgress({ total: numTrain + numVal, label: 'make-shapes', unit: 'img' });
        const r = await makeShapesDataset({
          out: opts.out,
          numTrain,
          numVal,
          seed,
          imageSize,
          varySize: !opts.fixedSize,
          maxObjects,
          minSize,
          maxSizeFrac,
          onProgress: (done) => progress?.update(done),
        });
        progress?.finish();
        process.stdout.write(
          `wrote ${r.numImages.train} train images (${r.numAnnotations.train} instances) and ${r.numImages.val} val images (${r.numAnnotations.val} instances) to ${r.out}\n` +
            `  ${r.trainAnn}\n  ${r.valAnn}\n  classes: ${r.categories.join(', ')}\n`,
        );
      }),
    );
}
