// SPDX-License-Identifier: Apache-2.0
/**
 * `solo plot-log LOG [LOG ...] --keys loss loss_mask --out curve.png [--smooth N] [--title T] [--log-y]`
 *
 * Line charts of training logs as PNG (mmdetection's `analyze_logs.py plot_curve`). LOG is a JSON-lines scalar file
 * (`<work_dir>/<timestamp>/vis_data/scalars.json`), a TensorBoard event file, or a directory holding either.
 * With several logs each series is named `<log>:<key>`. `--smooth N` draws the moving average over N points.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { readLogSeries, smooth, writeLineChartPng, type Series } from '@solo-ts/engine';
import { action } from '../util/errors.js';
import { numberOption } from './train.js';

export interface PlotLogOptions {
  keys: string[];
  out: string;
  smooth?: string;
  title?: string;
  logY?: boolean;
}

export async function plotLogCommand(logs: string[], opts: PlotLogOptions): Promise<{ out: string; series: Array<{ name: string; points: number }> }> {
  const window = numberOption(opts.smooth, '--smooth', { integer: true, min: 1 }) ?? 1;
  const all: Series[] = [];
  for (const log of logs) {
    const { file, series } = readLogSeries(log);
    for (const key of opts.keys) {
      const pts = series.get(key);
      if (!pts || pts.length === 0) {
        throw new SoloError(`${file} has no values for \`${key}\``, { code: 'ARGUMENT', hint: `keys in this log: ${[...series.keys()].sort().join(', ')}` });
      }
      all.push({ name: logs.length > 1 ? `${path.basename(path.dirname(file))}:${key}` : key, points: smooth(pts, window) });
    }
  }
  await writeLineChartPng(opts.out, all, { title: opts.title ?? `${opts.keys.join(', ')}${window > 1 ? ` (moving average of ${window})` : ''}`, xLabel: 'iteration', logY: opts.logY });
  return { out: opts.out, series: all.map((s) => ({ name: s.name, points: s.points.length })) };
}

export function registerPlotLog(program: Command): void {
  program
    .command('plot-log')
    .description('plot training curves (losses, lr, metrics) from scalars.json or TensorBoard logs to a PNG')
    .argument('<logs...>', 'scalars.json, events.out.tfevents.* or a work/log directory (several to compare)')
    .requiredOption('--keys <keys...>', 'series to plot, e.g. loss loss_mask loss_cls lr coco/segm_mAP')
    .requiredOption('--out <file>', 'PNG file to write')
    .option('--smooth <n>', 'moving average over n points')
    .option('--title <text>', 'chart title')
    .option('--log-y', 'logarithmic y axis')
    .addHelpText('after', '\nExamples:\n  solo plot-log work_dirs/demo --keys loss loss_mask loss_cls --out curve.png --smooth 10\n  solo plot-log work_dirs/demo --keys coco/segm_mAP --out map.png')
    .action(
      action(async (logs: string[], opts: PlotLogOptions) => {
        const r = await plotLogCommand(logs, opts);
        process.stdout.write(`wrote ${r.out} (${r.series.map((s) => `${s.name}: ${s.points} points`).join(', ')})\n`);
      }),
    );
}
