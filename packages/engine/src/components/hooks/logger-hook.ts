// SPDX-License-Identifier: Apache-2.0
/**
 * mmengine's `LoggerHook` (with the formatting of its `LogProcessor`): every iteration a JSON-lines record in
 * `<log_dir>/vis_data/scalars.json`; every `interval` iterations (and at the end of an epoch and of the run) a
 * text line with the averages since the previous line, and the same values in TensorBoard
 * (`<log_dir>/vis_data/tensorboard`); after each validation the metrics line, record and TensorBoard values. The
 * files are opened in `beforeRun` and closed in `afterRun`, which the runner calls also when training fails.
 * With `out_dir`, `afterRun` then copies the log files ending in one of `out_suffix` to
 * `<out_dir>/<basename of work_dir>/<timestamp>/...` (as mmengine) and, with `keep_local: false`, removes the originals.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, defineOptions, resolveOptions, typed, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { ScalarLog } from '../../logging/scalar-log.js';
import { TensorBoardWriter } from '../../logging/tensorboard.js';
import { fmtNum, formatTrainLine } from '../../runner/format.js';
import type { Hook, HookPriority, TrainIterOutputs } from '../../runner/hooks.js';
import type { Runner } from '../../runner/runner.js';
import { priorityOption, requireValue, resolvePriority } from './options.js';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The options of {@link LoggerHook} (mmengine `LoggerHook.__init__`), declared once. */
export const loggerHookOptions = defineOptions({
  interval: { type: 'integer', default: 10, doc: 'a log line every this many iterations (mmengine default 10; default_runtime sets 50)' },
  ignore_last: { type: 'boolean', default: false, doc: 'true: no line at the end of an epoch when fewer than `interval` iterations are left over (mmengine defaults to true; solo-ts to false, its log format)' },
  log_metric_by_epoch: { type: 'boolean', default: false, doc: 'true: validation metrics are recorded with the epoch as step (JSON lines and TensorBoard); false: with the iteration (solo-ts default; mmengine defaults to true)' },
  interval_exp_name: { type: 'integer', nullable: true, doc: 'must be unset: the experiment name is not repeated in the log' },
  out_dir: { type: 'string', nullable: true, doc: 'at the end, copy the logs to <out_dir>/<basename of work_dir>/<timestamp>' },
  out_suffix: typed<string | string[]>()({ type: 'any', nullable: true, default: ['.json', '.log', '.py', 'yaml'], doc: 'with out_dir: the file endings to copy (one or a list; null = the default)' }),
  keep_local: { type: 'boolean', default: true, doc: 'with out_dir: false removes the local copies of the copied files' },
  file_client_args: { type: 'any', nullable: true, doc: 'must be null (local files only)' },
  backend_args: { type: 'any', nullable: true, doc: 'must be null (local files only)' },
  priority: priorityOption('BELOW_NORMAL'),
});
/** Resolved options of {@link LoggerHook}. */
export type LoggerHookOptions = ResolvedOptions<typeof loggerHookOptions>;

/** File endings from `out_suffix` (`null`: the declared default). */
function suffixes(value: string | string[] | null): string[] {
  const v: unknown = value ?? loggerHookOptions.out_suffix.default;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x): x is string => typeof x === 'string')) throw new ConfigError(`LoggerHook: out_suffix must be a file ending or a list of them, got ${JSON.stringify(value)}`);
  return list;
}

export class LoggerHook implements Hook {
  static readonly type = 'LoggerHook';
  static readonly description = 'log line every `interval` iterations: epoch, iteration, lr, eta, time, data_time, memory, each loss; JSON lines and TensorBoard';
  static readonly options = loggerHookOptions;
  readonly priority: HookPriority;
  readonly interval: number;
  readonly ignoreLast: boolean;
  readonly logMetricByEpoch: boolean;
  readonly outDir: string | null;
  readonly outSuffix: string[];
  readonly keepLocal: boolean;
  private scalars: ScalarLog | null = null;
  private tb: TensorBoardWriter | null = null;
  private win = { time: [] as number[], data: [] as number[], losses: {} as Record<string, number[]>, gradNorm: [] as number[] };

  constructor(options: OptionsInput<typeof loggerHookOptions> = {}) {
    const t = LoggerHook.type;
    const o = resolveOptions(loggerHookOptions, options, t);
    if (!(o.interval >= 1)) throw new ConfigError(`LoggerHook: interval must be >= 1, got ${String(o.interval)}`);
    this.interval = o.interval;
    this.ignoreLast = o.ignoreLast;
    this.logMetricByEpoch = o.logMetricByEpoch;
    requireValue(t, 'interval_exp_name', o.intervalExpName, null, 'the experiment name is not repeated in the log');
    this.outDir = o.outDir ?? null;
    this.outSuffix = suffixes(o.outSuffix);
    this.keepLocal = o.keepLocal;
    requireValue(t, 'file_client_args', o.fileClientArgs, null, 'local files only');
    requireValue(t, 'backend_args', o.backendArgs, null, 'local files only');
    this.priority = resolvePriority(LoggerHook, o.priority);
  }

  beforeRun(runner: Runner): void {
    if (!runner.isMain) return; // distributed training: rank 0 alone writes logs
    const vis = path.join(runner.logDir, 'vis_data');
    this.scalars = new ScalarLog(path.join(vis, 'scalars.json'));
    this.tb = new TensorBoardWriter(path.join(vis, 'tensorboard'));
  }

  afterRun(runner: Runner): void {
    try {
      this.scalars?.close();
    } finally {
      this.tb?.close();
      this.scalars = null;
      this.tb = null;
    }
    if (this.outDir && runner.isMain) this.copyLogs(runner, path.join(path.resolve(this.outDir), path.basename(runner.workDir), runner.timestamp));
  }

  /** Copy the log files (by `out_suffix`) of this run to `target`, keeping the layout of the log dir. */
  private copyLogs(runner: Runner, target: string): void {
    runner.log(`Copying the logs of this run to ${target}${this.keepLocal ? '' : ' (and removing the local copies)'}`);
    const copied: string[] = [];
    for (const rel of fs.readdirSync(runner.logDir, { recursive: true }) as string[]) {
      const src = path.join(runner.logDir, rel);
      if (!this.outSuffix.some((s) => rel.endsWith(s)) || !fs.statSync(src).isFile()) continue;
      fs.mkdirSync(path.dirname(path.join(target, rel)), { recursive: true });
      fs.copyFileSync(src, path.join(target, rel));
      copied.push(src);
    }
    if (!this.keepLocal) for (const f of copied) fs.rmSync(f, { force: true });
  }

  afterTrainIter(runner: Runner, _batchIdx: number, _batch: unknown, outputs: TrainIterOutputs): void {
    if (outputs.nonFinite) return;
    const { losses, lr, gradNorm } = outputs;
    const time = runner.messageHub.get('time');
    const dataTime = runner.messageHub.get('data_time');
    const win = this.win;
    if (gradNorm !== undefined) win.gradNorm.push(gradNorm);
    if (time !== undefined) win.time.push(time);
    if (dataTime !== undefined) win.data.push(dataTime);
    for (const [k, v] of Object.entries(losses)) (win.losses[k] ??= []).push(v);
    const record: Record<string, number> = { lr, ...losses };
    if (time !== undefined) record.time = time;
    if (dataTime !== undefined) record.data_time = dataTime;
    Object.assign(record, { epoch: runner.epoch + 1, iter: runner.iter, step: runner.iter });
    if (gradNorm !== undefined) record.grad_norm = gradNorm;
    if (outputs.timings.sync !== undefined) record.sync_time = outputs.timings.sync / 1000;
    this.scalars?.write(record);
    const ipe = runner.itersPerEpoch;
    const endOfEpoch = runner.innerIter === ipe && (!this.ignoreLast || ipe <= this.interval);
    if (runner.iter % this.interval !== 0 && !endOfEpoch && runner.iter !== runner.endIter) return;
    const avgTime = mean(win.time);
    const avg = Object.fromEntries(Object.entries(win.losses).map(([k, v]) => [k, mean(v)]));
    const memoryMb = process.memoryUsage().rss / 2 ** 20;
    const gn = win.gradNorm.length ? mean(win.gradNorm) : undefined;
    const digits = runner.logProcessor.numDigits;
    runner.log(formatTrainLine({ epoch: runner.epoch + 1, maxEpochs: runner.maxEpochs, innerIter: runner.innerIter, itersPerEpoch: ipe, lr, eta: avgTime * (runner.endIter - runner.iter), time: avgTime, dataTime: mean(win.data), memoryMb, losses: avg, gradNorm: gn }, digits));
    this.tb?.addScalars({ lr, ...avg, time: avgTime, data_time: mean(win.data), memory: memoryMb, ...(gn !== undefined ? { grad_norm: gn } : {}) }, runner.iter, 'train/');
    this.win = { time: [], data: [], losses: {}, gradNorm: [] };
  }

  afterValEpoch(runner: Runner, metrics: Record<string, number>): void {
    const digits = runner.logProcessor.numDigits;
    const r = runner.lastValidation;
    const time = r ? `  time: ${r.seconds.toFixed(1)} s` : '';
    runner.log(`Epoch(val) [${runner.epoch}][${r?.images ?? 0}/${runner.numValSamples}]  ${Object.entries(metrics).map(([k, v]) => `${k}: ${fmtNum(v, digits)}`).join('  ')}${time}`);
    const step = this.logMetricByEpoch ? runner.epoch : runner.iter;
    this.scalars?.write({ ...metrics, epoch: runner.epoch, iter: runner.iter, step });
    this.tb?.addScalars(metrics, step, 'val/');
  }
}
