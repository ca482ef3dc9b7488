// SPDX-License-Identifier: Apache-2.0
/**
 * The training runner (mmengine's `Runner`): it owns the model, optimizer, loaders, work directory, text log,
 * position (epoch, iteration, batch of the epoch) and the hooks, and offers the services hooks call (log, save a
 * checkpoint, roll back, validate). The loop itself (`train-loop.ts`, mmengine's `EpochBasedTrainLoop`) only
 * steps; timing, logging, the learning rate, the non-finite guard, the progress bar, validation and checkpoints
 * are hooks (`hooks.ts`, built from `default_hooks` / `custom_hooks`, see docs/training.md).
 *
 * A run resumes from a checkpoint exactly: weights, momentum buffers, position (the schedule and the data order
 * follow from it) and RNG state. SIGINT/SIGTERM (or `requestStop`) finish the current iteration; the checkpoint
 * hook then saves `iter_<n>.safetensors` and training stops; a second signal ends the process at once (the
 * signal is raised again with the runner's handlers removed, so the default action applies).
 *
 * Data-parallel training (`parallel`, a `DataParallelTrainer`): each batch goes to `parallel.step` instead of
 * `trainStep`; the workers start with training, receive the whole model state after the weights are loaded and
 * after a rollback, and stop when training ends, fails or is interrupted. The world size is recorded in
 * checkpoints; resuming with another one warns (the data order then differs).
 *
 * Distributed training (`collective`, one process per rank started by an MPI launcher, `parallel` then a
 * `DistributedDataParallel`): every process runs this runner on its shard of each batch, with the same hooks and
 * position. Rank 0 alone writes: the work and log directories, the text / JSON / TensorBoard logs and the
 * checkpoints (the other ranks' `log` and `saveCheckpoint` write nothing; they still track the last checkpoint's
 * path, for the non-finite guard's rollback). Validation is sharded and its results gathered onto rank 0 before the
 * metric (`evaluateModel`); the ranks agree after each iteration on whether training stops (a signal, a time limit
 * on any rank stops every rank at the same iteration).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, SoloError, type Progress } from '@solo-ts/core';
import { writeLastCheckpoint } from '@solo-ts/checkpoint';
import type { Optimizer } from '../optim/optimizer.js';
import type { LrScheduler } from '../optim/schedulers.js';
import { hashText, loadRunCheckpoint, saveRunCheckpoint, type RunMeta } from './checkpointing.js';
import { logResume, restoreRun, type RestoreContext } from './resume.js';
import { evaluateModel, type EvaluateResult } from './evaluate.js';
import { DEFAULT_NUM_DIGITS } from './format.js';
import { sortHooks, type Hook, type HookPoint, type TrainIterOutputs } from './hooks.js';
import { runTrainLoop, type StopReason } from './train-loop.js';
import { trainStep } from './train-step.js';
import type { Collective } from '../parallel/collective.js';
import type { DataBatch, EpochLoader, TrainableDetector } from './types.js';
import type { RunnerOptions, SaveOptions, TrainSummary } from './runner-options.js';

const VERSION = '0.1.0';

export class Runner {
  readonly timestamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  readonly logDir: string;
  readonly workDir: string;
  /** hooks in calling order */
  readonly hooks: readonly Hook[];
  readonly rng: SeededRandom;
  readonly params: Map<string, tf.Variable>;
  /** mmengine's `MessageHub`: values hooks publish for other hooks (`time`, `data_time` of the last iteration) */
  readonly messageHub = new Map<string, number>();
  /** the last checkpoint written or resumed from (absolute path) */
  lastCheckpoint?: string;
  /** the best checkpoint so far (kept by the checkpoint hook) */
  bestCheckpoint?: string;
  /** the last validation's size and duration */
  lastValidation?: EvaluateResult;
  /** a progress bar on the terminal (set by the progress bar hook; log lines clear its line first) */
  bar: Progress | null = null;
  /** why training stopped, once it has ('completed' while it runs) */
  stoppedBy: StopReason = 'completed';
  /** last iteration of this run (set when training starts) */
  endIter = 0;
  /** mmengine's `log_processor`: digits of logged values */
  readonly logProcessor: { numDigits: number };
  private readonly textLog: string;
  private readonly pos = { epoch: 0, iter: 0, inner: 0 };
  private stopRequested: NodeJS.Signals | null = null;

  constructor(private readonly o: RunnerOptions) {
    this.workDir = path.resolve(o.workDir);
    this.logDir = path.join(this.workDir, this.timestamp);
    this.textLog = path.join(this.logDir, `${this.timestamp}.log`);
    if (this.isMain) {
      ensureWritable(this.workDir);
      fs.mkdirSync(path.join(this.logDir, 'vis_data'), { recursive: true });
      fs.writeFileSync(path.join(this.logDir, 'config.yaml'), o.configText);
    }
    this.rng = new SeededRandom(o.seed);
    this.params = new Map(o.model.trainableParameters().map(([n, p]) => [n, p.variable]));
    this.hooks = sortHooks(o.hooks ?? []);
    this.logProcessor = o.logProcessor ?? { numDigits: DEFAULT_NUM_DIGITS };
  }

  get epoch(): number {
    return this.pos.epoch;
  }
  /** completed iterations */
  get iter(): number {
    return this.pos.iter;
  }
  /** batch index inside the current epoch where training continues */
  get innerIter(): number {
    return this.pos.inner;
  }
  get maxEpochs(): number {
    return this.o.settings.maxEpochs;
  }
  get itersPerEpoch(): number {
    return this.o.trainLoader.length;
  }
  get model(): TrainableDetector {
    return this.o.model;
  }
  get optimizer(): Optimizer {
    return this.o.optimizer;
  }
  get schedulers(): readonly LrScheduler[] {
    return this.o.schedulers;
  }
  get trainLoader(): EpochLoader {
    return this.o.trainLoader;
  }
  /** whether a validation loader and evaluator are configured */
  get canValidate(): boolean {
    return Boolean(this.o.valLoader && this.o.evaluator);
  }
  get configText(): string {
    return this.o.configText;
  }
  get seed(): number {
    return this.o.seed;
  }
  /** the process group of distributed training (undefined: one process) */
  get collective(): Collective | undefined {
    return this.o.collective;
  }
  /** this process's rank (0 without distributed training) */
  get rank(): number {
    return this.o.collective?.rank ?? 0;
  }
  /** whether this process writes logs and checkpoints (rank 0) */
  get isMain(): boolean {
    return this.rank === 0;
  }
  /** the signal (or `requestStop` argument) that asked training to stop */
  get stopSignal(): NodeJS.Signals | null {
    return this.stopRequested;
  }

  /** A line to the console and the text log (`<log_dir>/<timestamp>.log`, appended and closed per line). */
  log(line: string): void {
    if (!this.isMain) return;
    const print = this.o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
    if (this.bar && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    print(line);
    fs.appendFileSync(this.textLog, `${new Date().toISOString()} - ${line}\n`);
  }

  /** Call `point` on every hook that implements it, in priority order. */
  async callHook<P extends HookPoint>(point: P, ...args: Parameters<NonNullable<Hook[P]>> extends [Runner, ...infer R] ? R : never): Promise<void> {
    for (const h of this.hooks) {
      const f = h[point] as ((runner: Runner, ...a: unknown[]) => unknown) | undefined;
      if (f) await f.call(h, this, ...args);
    }
  }

  /** The checkpoint metadata of the current position; `beforeSaveCheckpoint` hooks add their fields (best score). */
  private async meta(reason: string, file: string): Promise<RunMeta> {
    const position = {
      epoch: this.pos.epoch,
      iter: this.pos.iter,
      innerIter: this.pos.inner,
      lr: this.o.optimizer.lr,
      rng: this.rng.state(),
      configHash: hashText(this.o.configText),
      configText: this.o.configText,
      datasetFingerprint: this.o.trainLoader.fingerprint?.(),
    };
    const fromHooks: Record<string, unknown> = {};
    const tail = { savedAt: '', reason, soloTsVersion: VERSION, seed: this.o.seed, worldSize: this.o.parallel?.worldSize ?? 1 };
    await this.callHook('beforeSaveCheckpoint', { file, meta: Object.assign(fromHooks, position, tail) as RunMeta });
    // hook fields after the position and before `savedAt` (the key order of every checkpoint so far)
    for (const k of [...Object.keys(position), ...Object.keys(tail)]) delete fromHooks[k];
    return { ...position, ...fromHooks, ...tail, savedAt: new Date().toISOString() };
  }

  /**
   * Save a checkpoint of the run to `file` atomically (mmengine's `Runner.save_checkpoint`); hooks add to its
   * metadata first (`beforeSaveCheckpoint`). With `pointer` (default) `<work_dir>/last_checkpoint` points at it.
   */
  async saveCheckpoint(file: string, o: SaveOptions): Promise<string> {
    const abs = path.resolve(file);
    const pointer = o.pointer ?? true;
    const inWorkDir = path.dirname(abs) === this.workDir;
    if (!this.isMain) {
      if (pointer) this.lastCheckpoint = abs;
      return abs;
    }
    const meta = await this.meta(o.reason, abs);
    await saveRunCheckpoint(abs, this.o.model, o.optimizer ? this.o.optimizer : null, meta, pointer && inWorkDir);
    if (pointer && !inWorkDir) await writeLastCheckpoint(this.workDir, abs);
    if (pointer) this.lastCheckpoint = abs;
    return abs;
  }

  /** Reload weights and optimizer from `file` (the non-finite guard's rollback); the position is kept. */
  async rollback(file: string): Promise<void> {
    await loadRunCheckpoint(file, this.o.model, { strict: true, optimizer: this.o.optimizer });
    await this.o.parallel?.syncState();
  }

  /** Restore from a checkpoint (resume: then `afterLoadCheckpoint`) or load weights (load_from). */
  private async restore(): Promise<void> {
    const ctx: RestoreContext = { ...this.o, workDir: this.workDir, worldSize: this.o.parallel?.worldSize ?? 1, log: (l) => this.log(l) };
    const resumed = await restoreRun(ctx, this.pos, this.rng);
    if (!resumed) return;
    this.lastCheckpoint = resumed.file;
    await this.callHook('afterLoadCheckpoint', resumed);
    logResume(ctx, resumed.file, resumed.meta);
  }

  /**
   * Asks a running `train()` to stop as SIGINT/SIGTERM do: the current iteration finishes, a checkpoint is saved and
   * `train()` resolves with `stoppedBy: 'signal'` and `signal` set to `signal` (for applications that embed the
   * runner: a stop button, their own time limit). Later calls are ignored.
   */
  requestStop(signal: NodeJS.Signals = 'SIGINT'): void {
    if (this.stopRequested) return;
    this.stopRequested = signal;
    this.log(`stop requested (${signal}): finishing the current iteration, saving a checkpoint, then exiting`);
  }

  private installSignalHandlers(): () => void {
    const remove = () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
    const handler = (sig: NodeJS.Signals) => {
      if (this.stopRequested) {
        this.log(`${sig} again: exiting without saving`);
        // no process.exit in library code: without our handlers the signal's default action ends the process
        remove();
        process.kill(process.pid, sig);
        return;
      }
      this.stopRequested = sig;
      this.log(`${sig} received: finishing the current iteration, saving a checkpoint, then exiting`);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return remove;
  }

  /**
   * Distributed training: the stop reason every rank adopts after an iteration (the first rank's, in rank order,
   * that is not `completed`), so that all ranks leave the loop at the same iteration. One process: `reason`.
   */
  async agreeStop(reason: StopReason): Promise<StopReason> {
    const c = this.o.collective;
    if (!c || c.worldSize === 1) return reason;
    const all = await c.allGather({ reason, signal: this.stopRequested });
    const first = all.find((a) => a.reason !== 'completed');
    if (first?.signal && !this.stopRequested) this.stopRequested = first.signal;
    return first?.reason ?? 'completed';
  }

  /** One optimisation step on `batch` (trainStep, or the data-parallel engine); loss values read back. */
  async step(batch: DataBatch, lr: number): Promise<TrainIterOutputs> {
    const stepOptions = { model: this.o.model, optimizer: this.o.optimizer, params: this.params, mults: this.o.mults, clipGrad: this.o.settings.clipGrad, checkFinite: true, iter: this.pos.iter + 1 };
    const res = this.o.parallel ? await this.o.parallel.step(batch, stepOptions) : await trainStep(batch, stepOptions);
    const losses: Record<string, number> = {};
    for (const [k, t] of Object.entries(res.losses)) {
      losses[k] = (await t.data())[0];
      t.dispose();
    }
    let gradNorm: number | undefined;
    if (res.gradNorm) {
      gradNorm = (await res.gradNorm.data())[0];
      res.gradNorm.dispose();
    }
    return { losses, lr, gradNorm, timings: res.timings };
  }

  /**
   * The validation loop (mmengine's `ValLoop.run`): `beforeVal`, `beforeValEpoch`, predict + evaluate,
   * `afterValEpoch(metrics)`, `afterVal`. Returns the metrics.
   */
  async val(): Promise<Record<string, number>> {
    if (!this.o.valLoader || !this.o.evaluator) throw new SoloError('validation needs val_dataloader and val_evaluator', { code: 'CONFIG' });
    await this.callHook('beforeVal');
    await this.callHook('beforeValEpoch');
    const ev = this.o.evaluator;
    ev.onLog = (line) => this.log(line);
    const r = await evaluateModel(this.o.model, this.o.valLoader, ev, { label: `val epoch ${this.pos.epoch}`, progress: (this.o.progress ?? true) && this.isMain ? undefined : null, collective: this.o.collective });
    this.lastValidation = r;
    await this.callHook('afterValEpoch', r.metrics);
    await this.callHook('afterVal');
    return r.metrics;
  }

  /** The number of validation images. */
  get numValSamples(): number {
    return this.o.valLoader?.numSamples ?? 0;
  }

  /** Train: restore, `beforeRun`, the loop, `afterRun` (also when training fails), a summary. */
  async train(): Promise<TrainSummary> {
    const s = this.o.settings;
    const ipe = this.o.trainLoader.length;
    this.log(`solo-ts ${VERSION} | backend ${this.o.backendName} | ${os.cpus().length} CPU(s) | seed ${this.o.seed} | work dir ${this.workDir}`);
    this.log(`model: ${this.o.model.numParameters()} parameters (${this.o.model.numParameters(true)} trainable); ${this.o.trainLoader.numSamples} training images, ${ipe} iterations per epoch`);
    const par = this.o.parallel;
    if (par) this.log(par.description);
    try {
      await this.restore();
      if (par) {
        await par.start();
        await par.syncState();
      }
    } catch (e) {
      await par?.close();
      throw e;
    }
    const startIter = this.pos.iter;
    this.endIter = s.maxIters !== undefined ? Math.min(startIter + s.maxIters, s.maxEpochs * ipe) : s.maxEpochs * ipe;
    const start = performance.now();
    let result;
    let removeSignals = () => {};
    try {
      await this.callHook('beforeRun');
      removeSignals = this.installSignalHandlers();
      this.o.model.train();
      result = await runTrainLoop(this, this.pos, { maxIters: s.maxIters, maxSeconds: s.maxSeconds, stopRequested: () => this.stopRequested !== null });
      const minutes = ((performance.now() - start) / 60000).toFixed(1);
      this.log(`Training finished (${this.stoppedBy}): ${this.pos.iter} iterations, ${minutes} min${this.stoppedBy === 'signal' ? `; resume with --resume (continues from ${this.lastCheckpoint})` : ''}`);
    } finally {
      try {
        await this.callHook('afterRun');
      } finally {
        this.bar = null;
        await par?.close();
        removeSignals();
      }
    }
    const seconds = (performance.now() - start) / 1000;
    return { epochs: this.pos.epoch, iters: this.pos.iter, seconds, lastLosses: result.lastLosses, metrics: this.lastValidation?.metrics, history: result.history, stoppedBy: this.stoppedBy, signal: this.stopRequested ?? undefined, lastCheckpoint: this.lastCheckpoint, bestCheckpoint: this.bestCheckpoint, logDir: this.logDir, rank: this.rank, worldSize: this.o.parallel?.worldSize ?? 1 };
  }
}

function ensureWritable(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    const probe = path.join(dir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new SoloError(`cannot write to the work directory ${dir}: ${(e as Error).message}`, { code: 'FILE', expected: 'a writable directory (--work-dir DIR)' });
  }
}
