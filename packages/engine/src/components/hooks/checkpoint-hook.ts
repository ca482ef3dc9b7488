// SPDX-License-Identifier: Apache-2.0
/**
 * mmengine's `CheckpointHook`: interval checkpoints (`epoch_N` / `iter_N.safetensors`, every `interval` epochs or
 * iterations from `save_begin`, the newest `max_keep_ckpts` kept), the best checkpoint by `save_best` (after each
 * validation), the last one at the end of training (`save_last`), and the one of an interrupted run (signal or
 * `requestStop`). With `out_dir` the files go to `<out_dir>/<basename of work_dir>` (as mmengine) and
 * `<work_dir>/last_checkpoint` points there, so `--resume` finds them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, defineOptions, resolveOptions, typed, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { CheckpointKeeper } from '../../runner/checkpoint-keeper.js';
import type { CheckpointInfo, Hook, HookPriority, TrainIterOutputs } from '../../runner/hooks.js';
import type { Runner } from '../../runner/runner.js';
import { priorityOption, requireValue, resolvePriority } from './options.js';

/** The options of {@link CheckpointHook} (mmengine `CheckpointHook.__init__`), declared once. */
export const checkpointHookOptions = defineOptions({
  interval: { type: 'integer', default: -1, doc: 'save every this many epochs (by_epoch) or iterations; <= 0 = only the last (mmengine default -1; default_runtime sets 1)' },
  by_epoch: { type: 'boolean', default: true, doc: 'interval counts epochs (true) or iterations (false)' },
  save_optimizer: { type: 'boolean', default: true, doc: 'store the momentum buffers (needed for an exact resume)' },
  save_param_scheduler: { type: 'boolean', default: true, doc: 'the schedulers have no state besides the run position, which every checkpoint stores; either value saves the same' },
  out_dir: { type: 'string', nullable: true, doc: 'checkpoints go to <out_dir>/<basename of work_dir> (default: the work dir); last_checkpoint in the work dir points there' },
  max_keep_ckpts: { type: 'integer', default: -1, doc: 'keep only the newest N interval checkpoints (-1 = all)' },
  save_last: { type: 'boolean', default: true, doc: 'save at the end of training' },
  save_best: typed<string | string[]>()({ type: 'any', nullable: true, doc: "metric key to keep the best checkpoint for (e.g. coco/segm_mAP), or 'auto' (the first metric); a list of one key" }),
  rule: { type: 'string', nullable: true, enum: ['greater', 'less', null], doc: "'greater' or 'less' is better (default: inferred from greater_keys / less_keys, else less for losses, greater otherwise)" },
  greater_keys: { type: 'array', nullable: true, doc: 'metric keys (substrings) for which greater is better' },
  less_keys: { type: 'array', nullable: true, doc: 'metric keys (substrings) for which less is better' },
  file_client_args: { type: 'any', nullable: true, doc: 'must be null (local files only)' },
  filename_tmpl: { type: 'string', nullable: true, doc: 'must be unset: files are epoch_N / iter_N .safetensors' },
  backend_args: { type: 'any', nullable: true, doc: 'must be null (local files only)' },
  published_keys: { type: 'any', nullable: true, doc: 'must be unset: no published checkpoint is written' },
  save_begin: { type: 'integer', default: 0, doc: 'first epoch/iteration at which interval checkpoints are saved' },
  priority: priorityOption('VERY_LOW'),
});

/** The settings a {@link CheckpointHook} runs with (its resolved options; `save_best` as one key). */
export type CheckpointHookOptions = Omit<ResolvedOptions<typeof checkpointHookOptions>, 'saveBest' | 'greaterKeys' | 'lessKeys'> & {
  saveBest?: string;
  greaterKeys?: string[];
  lessKeys?: string[];
};

/** A list of metric names (`greater_keys`, `less_keys`), or undefined when unset. */
function metricNames(key: string, v: unknown[] | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  const names: string[] = [];
  for (const x of v) {
    if (typeof x !== 'string') throw new ConfigError(`CheckpointHook: ${key} must be a list of metric names, got ${JSON.stringify(v)}`);
    names.push(x);
  }
  return names;
}

export class CheckpointHook implements Hook {
  static readonly type = 'CheckpointHook';
  static readonly description = 'saves checkpoints every `interval` epochs (or iterations with by_epoch: false), keeps max_keep_ckpts, the best by save_best, the last at the end';
  static readonly options = checkpointHookOptions;
  readonly priority: HookPriority;
  readonly o: CheckpointHookOptions;
  private keeper: CheckpointKeeper | null = null;

  constructor(options: OptionsInput<typeof checkpointHookOptions> = {}) {
    const t = CheckpointHook.type;
    const o = resolveOptions(checkpointHookOptions, options, t);
    const sb = o.saveBest;
    if (sb !== null && sb !== undefined && typeof sb !== 'string' && !(Array.isArray(sb) && sb.length === 1 && typeof sb[0] === 'string')) {
      throw new ConfigError(`CheckpointHook: save_best must be a metric name, 'auto' or a list of one name, got ${JSON.stringify(sb)}`, { hint: 'solo-ts keeps one best checkpoint' });
    }
    requireValue(t, 'file_client_args', o.fileClientArgs, null, 'local files only');
    requireValue(t, 'backend_args', o.backendArgs, null, 'local files only');
    requireValue(t, 'filename_tmpl', o.filenameTmpl, null, 'checkpoints are named epoch_N.safetensors / iter_N.safetensors');
    requireValue(t, 'published_keys', o.publishedKeys, null, 'no published checkpoint is written; the last checkpoint holds weights, optimizer and metadata');
    this.o = { ...o, saveBest: Array.isArray(sb) ? sb[0] : (sb ?? undefined), greaterKeys: metricNames('greater_keys', o.greaterKeys), lessKeys: metricNames('less_keys', o.lessKeys) };
    this.priority = resolvePriority(CheckpointHook, o.priority);
  }

  /** Where the checkpoints go: `<out_dir>/<basename of work_dir>`, or the work dir. */
  dirOf(runner: Runner): string {
    return this.o.outDir ? path.join(path.resolve(this.o.outDir), path.basename(runner.workDir)) : runner.workDir;
  }

  private keeperOf(runner: Runner): CheckpointKeeper {
    this.keeper ??= new CheckpointKeeper(this.dirOf(runner), { maxKeep: this.o.maxKeepCkpts, saveBest: this.o.saveBest, rule: this.o.rule ?? undefined, greaterKeys: this.o.greaterKeys, lessKeys: this.o.lessKeys }, (l) => runner.log(l));
    return this.keeper;
  }

  afterLoadCheckpoint(runner: Runner, ck: CheckpointInfo): void {
    this.keeperOf(runner).restore(ck.meta, ck.file);
    runner.bestCheckpoint = this.keeperOf(runner).best;
  }

  beforeRun(runner: Runner): void {
    if (runner.isMain) fs.mkdirSync(this.dirOf(runner), { recursive: true });
  }

  beforeSaveCheckpoint(runner: Runner, ck: CheckpointInfo): void {
    Object.assign(ck.meta, this.keeperOf(runner).metaFields());
  }

  private async save(runner: Runner, name: string, reason: string, interval: boolean): Promise<void> {
    const file = await runner.saveCheckpoint(path.join(this.dirOf(runner), name), { reason, optimizer: this.o.saveOptimizer });
    runner.log(`Saved checkpoint ${file} (${reason})`);
    // distributed training: rank 0 alone writes (and removes) checkpoints
    if (runner.isMain) this.keeperOf(runner).saved(file, interval);
  }

  /** The name a checkpoint of the current position has (`epoch_N` at an epoch's end, else `iter_N`). */
  private position(runner: Runner): string {
    return runner.innerIter === 0 ? `epoch_${runner.epoch}` : `iter_${runner.iter}`;
  }

  async afterTrainIter(runner: Runner, _batchIdx: number, _batch: unknown, outputs: TrainIterOutputs): Promise<void> {
    if (outputs.nonFinite) return;
    const { byEpoch, interval, saveBegin } = this.o;
    if (!byEpoch && interval > 0 && runner.iter % interval === 0 && runner.iter >= saveBegin) await this.save(runner, `iter_${runner.iter}.safetensors`, 'iteration interval', true);
  }

  async afterValEpoch(runner: Runner, metrics: Record<string, number>): Promise<void> {
    if (!runner.isMain) return;
    const keeper = this.keeperOf(runner);
    const position = runner.stoppedBy === 'completed' ? `epoch_${runner.epoch}` : `iter_${runner.iter}`;
    await keeper.updateBest(metrics, position, async (file) => {
      await runner.saveCheckpoint(file, { reason: 'best checkpoint', optimizer: false, pointer: false });
    });
    runner.bestCheckpoint = keeper.best;
  }

  async afterTrainEpoch(runner: Runner): Promise<void> {
    const { byEpoch, interval, saveBegin, saveLast } = this.o;
    const epoch = runner.epoch;
    if (byEpoch && interval > 0 && epoch % interval === 0 && epoch >= saveBegin) await this.save(runner, `epoch_${epoch}.safetensors`, 'epoch end', true);
    else if (epoch >= runner.maxEpochs && saveLast) await this.saveFinal(runner, 'end of training');
  }

  async afterTrain(runner: Runner): Promise<void> {
    const stopped = runner.stoppedBy;
    if (stopped === 'completed') return;
    if (stopped === 'signal') await this.saveFinal(runner, `interrupted by ${runner.stopSignal}`);
    else if (this.o.saveLast) await this.saveFinal(runner, stopped);
  }

  /** The last checkpoint of a run, unless the current position was just saved. */
  private async saveFinal(runner: Runner, reason: string): Promise<void> {
    const name = `${this.position(runner)}.safetensors`;
    if (runner.lastCheckpoint === path.join(this.dirOf(runner), name)) return;
    await this.save(runner, name, reason, false);
  }
}
