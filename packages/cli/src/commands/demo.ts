// SPDX-License-Identifier: Apache-2.0
/**
 * `solo demo [--minutes M] [--config CONFIG] [--data DIR] [--work-dir DIR] [--threads N] [--workers N|auto]` (`npm run demo`)
 *
 * The main job, end to end on this machine: makes the synthetic shapes dataset if it is missing, trains the small
 * SOLOv2 demo config for a bounded time (default 10 minutes) on the selected backend (default: the fastest one
 * installed, WebAssembly out of the box), evaluates COCO mask AP on the synthetic val split, prints the metrics and
 * writes pictures of the predictions to `<work-dir>/vis/` and the loss curve to `<work-dir>/loss_curve.png`.
 * It says what it is (toy data, a small model) and how to run the same commands on COCO and on mmdetection's
 * released checkpoints.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { releaseBackendThreads, type BackendChoice } from '@solo-ts/backends';
import { parseWorkers } from '@solo-ts/engine';
import { runShapes, type ShapesRunResult } from '../demo/shapes-run.js';
import { cfgOptionsOption } from '../util/cfg-options.js';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';
import { formatMetrics } from './test.js';
import { numberOption } from './train.js';

export const DEMO_CONFIG = 'configs/demo/solov2-light_r18_shapes.yaml';
/** The dataset the demo and bench-learn make when it is missing. */
export const SHAPES_DATASET = { numTrain: 2000, numVal: 100, imageSize: [160, 120] as [number, number], seed: 1, maxObjects: 4, minSize: 16, maxSizeFrac: 0.6 };

export interface ShapesCommandOptions {
  minutes: string;
  config: string;
  data: string;
  workDir: string;
  threads?: string;
  workers?: string;
  cfgOptions?: string[];
  pictures: string;
  resume?: boolean;
}

export async function shapesCommand(opts: ShapesCommandOptions, backend: BackendChoice, print: (l: string) => void): Promise<ShapesRunResult> {
  return runShapes({
    config: opts.config,
    dataDir: opts.data,
    dataset: SHAPES_DATASET,
    workDir: opts.workDir,
    minutes: numberOption(opts.minutes, '--minutes', { min: 0.1 })!,
    backend,
    threads: numberOption(opts.threads, '--threads', { integer: true, min: 1 }),
    workers: parseWorkers(opts.workers),
    cfgOptions: opts.cfgOptions,
    pictures: numberOption(opts.pictures, '--pictures', { integer: true, min: 0 })!,
    print,
    resume: opts.resume,
  });
}

/** The closing explanation of the demo. */
export function demoEpilogue(r: ShapesRunResult, opts: ShapesCommandOptions): string {
  const ap = r.metrics['coco/segm_mAP'];
  const ckpt = r.checkpoint ? path.relative(process.cwd(), r.checkpoint) : '<checkpoint>';
  return [
    '',
    '== solo-ts demo: results ==',
    `trained ${r.summary.iters} iterations (${r.summary.epochs} epochs${r.summary.stoppedBy === 'max_seconds' ? ', stopped at the time limit' : ''}) in ${r.minutes.toFixed(1)} min, ${r.secondsPerIter.toFixed(2)} s per iteration${r.workers > 1 ? ` (${r.workers} data-parallel workers)` : ''}`,
    `COCO mask AP on the synthetic val split (${opts.data}):`,
    formatMetrics(r.metrics),
    ap !== undefined ? `  -> segm mAP ${ap.toFixed(3)}` : '',
    r.visDir ? `pictures of predictions: ${r.visDir}/` : '',
    r.curvePng ? `loss curve: ${r.curvePng}` : '',
    `checkpoint: ${ckpt}`,
    '',
    'What this is: a small SOLOv2 (light head, ResNet-18 layout with a quarter of the channels, from scratch) trained for',
    'minutes on CPU on synthetic shapes. It shows the whole pipeline (data, training, checkpoints, COCO evaluation,',
    'inference) working; it is not a COCO model and its AP says nothing about COCO.',
    '',
    'The same commands on real data and on mmdetection\'s released checkpoints:',
    '  # COCO: put train2017/, val2017/ and annotations/ under data/coco/, then',
    '  solo train configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml --work-dir work_dirs/solov2_light_r18',
    '  # released checkpoint (download the .pth from download.openmmlab.com, see docs/model-zoo.md), COCO val AP:',
    '  solo test configs/solov2/solov2_r50_fpn_1x_coco.yaml --checkpoint solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth',
    '  solo infer configs/solov2/solov2_r50_fpn_1x_coco.yaml --checkpoint solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth --image your.jpg --show vis.png',
    '  # this demo model on one image:',
    `  solo infer ${opts.config} --checkpoint ${ckpt} --image ${path.join(opts.data, 'val', '000001.png')} --show vis.png`,
    '  # your own COCO-format data (one or more classes): docs/training.md',
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
}

export function addShapesOptions(cmd: Command, defaults: { minutes: string; workDir: string; pictures: string }): Command {
  return cmd
    .option('--minutes <m>', 'training time limit in minutes', defaults.minutes)
    .option('--config <file>', 'config to train', DEMO_CONFIG)
    .option('--data <dir>', 'synthetic dataset directory (made when missing)', 'data/shapes')
    .option('--work-dir <dir>', 'work directory', defaults.workDir)
    .option('--pictures <n>', 'draw the predictions of this many val images', defaults.pictures)
    .option('--threads <n>', 'WebAssembly threads per worker (default: cores / workers)')
    .option('--workers <n>', 'data-parallel workers (threads of this process, each batch_size images, gradients averaged): a number, or auto = min(cores, 2)', 'auto')
    .option('--resume', 'continue the previous run in the work directory')
    .addOption(cfgOptionsOption());
}

export function registerDemo(program: Command): void {
  addShapesOptions(
    program.command('demo').description('make synthetic data, train a small SOLOv2 for a few minutes, evaluate mask AP, draw predictions'),
    { minutes: '10', workDir: 'work_dirs/demo', pictures: '12' },
  ).action(
    action(async (opts: ShapesCommandOptions, cmd: Command) => {
      const print = (l: string) => process.stdout.write(`${l}\n`);
      try {
        const r = await shapesCommand(opts, globalOptions(cmd).backend as BackendChoice, print);
        print(demoEpilogue(r, opts));
      } finally {
        releaseBackendThreads();
      }
    }),
  );
}
