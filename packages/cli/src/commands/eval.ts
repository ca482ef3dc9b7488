// SPDX-License-Identifier: Apache-2.0
/**
 * `solo eval --gt GT.json --dt DT.json [--iou-type segm|bbox] [--classwise] [--json] [--use-cats 0|1]`
 *
 * COCO evaluation identical to pycocotools. Prints pycocotools' 12-line summary (and mmdetection's per-class
 * table with `--classwise`); with `--json`, exactly one JSON object on stdout: `{iouType, stats, metrics,
 * classwise?}` (`stats` in pycocotools order; NaN written as null). For `segm` the detections' `bbox` is
 * dropped before loading (mmdetection/detectron2). Bad input is reported with the file and the annotation.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { parseJsonText } from '@solo-ts/cocoapi';
import { runEval, type RunEvalResult } from '@solo-ts/evaluation';
import { action } from '../util/errors.js';

export interface EvalCommandOptions {
  gt: string;
  dt: string;
  iouType?: string;
  classwise?: boolean;
  json?: boolean;
  useCats?: string;
}

/** Read and parse a JSON file, with `SoloError`s that name the option and the file. */
export function readJsonFile(file: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new SoloError(`${option} ${file}: ${why}`, { code: 'FILE', cause: e });
  }
  return parseJsonText(text, file);
}

/** Run `solo eval` and return what it prints (stdout). */
export function evalCommand(opts: EvalCommandOptions): string {
  const gt = readJsonFile(opts.gt, '--gt');
  const dt = readJsonFile(opts.dt, '--dt');
  const r = runEval({
    gt,
    dt,
    gtFile: opts.gt,
    dtFile: opts.dt,
    iouType: opts.iouType ?? 'segm',
    classwise: !!opts.classwise,
    useCats: opts.useCats ?? '1',
  });
  return opts.json ? `${toJson(r)}\n` : formatText(r);
}

function toJson(r: RunEvalResult): string {
  const out: Record<string, unknown> = { iouType: r.iouType, stats: r.stats, metrics: r.metrics };
  if (r.classwise) out.classwise = r.classwise;
  return JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

function formatText(r: RunEvalResult): string {
  let text = `Evaluate annotation type *${r.iouType}*\n${r.summary.join('\n')}\n`;
  if (r.classwiseTable) text += `${r.classwiseTable}\n`;
  return text;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('COCO evaluation of a detections file (results identical to pycocotools COCOeval)')
    .requiredOption('--gt <file>', 'ground truth in COCO format (images, annotations, categories)')
    .requiredOption('--dt <file>', 'detections in COCO results format (image_id, category_id, score, segmentation | bbox)')
    .option('--iou-type <type>', 'segm or bbox', 'segm')
    .option('--classwise', 'also print the per-category AP table')
    .option('--json', 'print one JSON object {iouType, stats, metrics, classwise?} instead of the tables')
    .option('--use-cats <0|1>', '0 evaluates without categories (pycocotools params.useCats)', '1')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo eval --gt instances_val2017.json --dt segm.json\n' +
        '  solo eval --gt instances_val2017.json --dt bbox.json --iou-type bbox --classwise --json',
    )
    .action(
      action((opts: EvalCommandOptions) => {
        process.stdout.write(evalCommand(opts));
      }),
    );
}
