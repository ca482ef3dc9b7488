// SPDX-License-Identifier: Apache-2.0
/**
 * `solo bench-learn [--minutes 30] [--config CONFIG] [--target 0.5] ...` (`npm run bench:learn`)
 *
 * The learning benchmark: makes the synthetic shapes dataset if needed, trains the small SOLOv2 config within the
 * time budget, evaluates COCO mask AP on the synthetic val split, draws the loss curve, and prints as its LAST line
 * one JSON object: `{segm_mAP, segm_mAP_50, segm_mAP_75, minutes, iters, epochs, seconds_per_iter, target,
 * reached, curve, checkpoint, config, backend, workers}` (mAP in 0-1; `workers`: data-parallel world size, default
 * auto = min(cores, 2), each iteration then takes workers x batch_size images). Exit code 0 even when the target is missed (the JSON
 * says `reached: false`).
 */
import type { Command } from 'commander';
import { releaseBackendThreads, type BackendChoice } from '@solo-ts/backends';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';
import { addShapesOptions, shapesCommand, type ShapesCommandOptions } from './demo.js';
import { formatMetrics } from './test.js';
import { numberOption } from './train.js';

export function registerBenchLearn(program: Command): void {
  addShapesOptions(
    program.command('bench-learn').description('learning benchmark: train the small SOLOv2 on synthetic shapes within a time budget; last line = JSON with segm_mAP and minutes'),
    { minutes: '28', workDir: 'work_dirs/bench-learn', pictures: '8' },
  )
    .option('--target <ap>', 'mask AP (0-1) the run is expected to reach', '0.5')
    .action(
      action(async (opts: ShapesCommandOptions & { target: string }, cmd: Command) => {
        const target = numberOption(opts.target, '--target')!;
        const backend = globalOptions(cmd).backend as BackendChoice;
        const print = (l: string) => process.stdout.write(`${l}\n`);
        try {
          const r = await shapesCommand(opts, backend, print);
          const m = r.metrics;
          print(`\nmask AP on the synthetic val split after ${r.minutes.toFixed(1)} min (${r.summary.iters} iterations):\n${formatMetrics(m)}`);
          const ap = m['coco/segm_mAP'] ?? 0;
          print(
            JSON.stringify({
              segm_mAP: ap,
              segm_mAP_50: m['coco/segm_mAP_50'] ?? null,
              segm_mAP_75: m['coco/segm_mAP_75'] ?? null,
              minutes: Number(r.minutes.toFixed(2)),
              iters: r.summary.iters,
              epochs: r.summary.epochs,
              seconds_per_iter: Number(r.secondsPerIter.toFixed(3)),
              target,
              reached: ap >= target,
              curve: r.curvePng ?? null,
              checkpoint: r.checkpoint ?? null,
              config: opts.config,
              backend,
              workers: r.workers,
            }),
          );
        } finally {
          releaseBackendThreads();
        }
      }),
    );
}
