// SPDX-License-Identifier: Apache-2.0
/**
 * The epoch-based training runner (mmengine's `Runner` + `EpochBasedTrainLoop` + the default hooks, in one class).
 *
 * Per iteration: take the next batch (the loader prepares the following ones meanwhile), preprocess, loss +
 * backward, clip, refuse a non-finite loss, optimizer step (SGD, Adam, AdamW) with the learning rate of the schedulers (closed form of
 * the position), a JSON-lines record, a log line every `logInterval` iterations (mmengine's format: epoch,
 * iteration, lr, eta, time, data_time, memory, each loss), interval checkpoints (`checkpoint.byEpoch: false`).
 * Per epoch: interval checkpoints, validation every `valInterval` epochs from `valBegin`, the best checkpoint by
 * `saveBest`. SIGINT/SIGTERM finish the current iteration, save `iter_<n>.safetensors` and stop. A run resumes
 * from a checkpoint exactly: weights, momentum buffers, position (the schedule and the data order follow from it)
 * and RNG state. Everything goes to the work directory: merged config, text log, scalars (JSONL), TensorBoard.
 *
 * Data-parallel training (`parallel`, a `DataParallelTrainer`): each batch goes to `parallel.step` instead of
 * `trainStep` (N ranks, gradients averaged before clip_grad and the optimizer); the workers start with training,
 * receive the whole model state after the weights are loaded and after a rollback, and stop when training ends,
 * fails or is interrupted. The world size is recorded in checkpoints; resuming with another one warns (the data
 * order then differs). Without `parallel` the loop is the single-process one (docs/training.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, SeededRandom, SoloError, createProgress, type Progress } from '@solo-ts/core';
import { readLastCheckpoint } from '@solo-ts/checkpoint';
import type { Evaluator } from '../build/evaluator.js';
import type { Optimizer, ParamGroupMult } from '../optim/optimizer.js';
import { lrAt, type LrScheduler } from '../optim/schedulers.js';
import { ScalarLog } from '../logging/scalar-log.js';
import { TensorBoardWriter } from '../logging/tensorboard.js';
import { CheckpointKeeper } from './checkpoint-keeper.js';
import { hashText, loadRunCheckpoint, saveRunCheckpoint, type RunMeta } from './checkpointing.js';
import { evaluateModel } from './evaluate.js';
import { formatTrainLine, fmtNum } from './format.js';
import type { RunnerHook, RunnerInfo } from './hooks.js';
import { NonFiniteLossError, trainStep } from './train-step.js';
import type { EpochLoader, ParallelStepper, TrainableDetector } from './types.js';

export interface CheckpointSettings {
  /** every this many epochs (byEpoch) or iterations; <= 0 = only at the end */
  interval: number;
  byEpoch: boolean;
  /** keep the newest N interval checkpoints (<= 0 = all) */
  maxKeep: number;
  saveLast: boolean;
  /** metric key for the best checkpoint ('auto' = the first metric) */
  saveBest?: string;
  rule?: 'greater' | 'less';
  /** first epoch/iteration at which interval checkpoints are saved */
  saveBegin: number;
  saveOptimizer: boolean;
}

export interface RunnerSettings {
  maxEpochs: number;
  valInterval: number;
  /** validation runs after epochs >= valBegin */
  valBegin: number;
  logInterval: number;
  checkpoint: CheckpointSettings;
  /** non-finite loss: stop with a report, or roll back to the last checkpoint and skip the batch */
  nan: { action: 'stop' | 'rollback'; maxRollbacks: number };
  clipGrad?: { maxNorm: number; normType?: number };
  /** stop after this many iterations of this run (demo, benchmarks, tests) */
  maxIters?: number;
  /** stop after this many seconds of training; validates and checkpoints before stopping */
  maxSeconds?: number;
}

export interface RunnerOptions {
  model: TrainableDetector;
  optimizer: Optimizer;
  /** per-parameter lr / weight decay multipliers */
  mults?: Map<string, ParamGroupMult>;
  schedulers: LrScheduler[];
  trainLoader: EpochLoader;
  valLoader?: EpochLoader;
  evaluator?: Evaluator;
  settings: RunnerSettings;
  workDir: string;
  /** merged config text (YAML), saved with every checkpoint and into the work dir */
  configText: string;
  seed: number;
  backendName: string;
  /** resume: a checkpoint path, or true for the work dir's last_checkpoint */
  resume?: string | boolean;
  /** weights to start from (partial load with a report) */
  loadFrom?: string;
  hooks?: RunnerHook[];
  /** console output (default: stdout) */
  print?: (line: string) => void;
  /** progress bar on stderr when it is a terminal (default true) */
  progress?: boolean;
  /** data-parallel step engine (world size >= 2); absent = single process */
  parallel?: ParallelStepper;
}

export interface TrainSummary {
  epochs: number;
  iters: number;
  seconds: number;
  lastLosses: Record<string, number>;
  metrics?: Record<string, number>;
  /** per iteration of this run: total loss and live tensors after the step */
  history: Array<{ iter: number; loss: number; numTensors: number; time: number }>;
  stoppedBy: 'completed' | 'max_iters' | 'max_seconds' | 'signal';
  /** the signal that stopped training (SIGINT, SIGTERM) */
  signal?: string;
  lastCheckpoint?: string;
  bestCheckpoint?: string;
  logDir: string;
}

const VERSION = '0.1.0';
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export class Runner implements RunnerInfo {
  readonly timestamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  readonly logDir: string;
  readonly workDir: string;
  private readonly scalarLog: ScalarLog;
  private readonly tb: TensorBoardWriter;
  private readonly textLog: number;
  private readonly rng: SeededRandom;
  private readonly params: Map<string, tf.Variable>;
  private readonly keeper: CheckpointKeeper;
  private epochNo = 0;
  private iterNo = 0;
  private inner = 0;
  private stopRequested: NodeJS.Signals | null = null;
  private bar: Progress | null = null;

  constructor(private readonly o: RunnerOptions) {
    this.workDir = path.resolve(o.workDir);
    ensureWritable(this.workDir);
    this.logDir = path.join(this.workDir, this.timestamp);
    fs.mkdirSync(path.join(this.logDir, 'vis_data'), { recursive: true });
    this.textLog = fs.openSync(path.join(this.logDir, `${this.timestamp}.log`), 'a');
    this.scalarLog = new ScalarLog(path.join(this.logDir, 'vis_data', 'scalars.json'));
    this.tb = new TensorBoardWriter(path.join(this.logDir, 'vis_data', 'tensorboard'));
    fs.writeFileSync(path.join(this.logDir, 'config.yaml'), o.configText);
    this.rng = new SeededRandom(o.seed);
    this.params = new Map(o.model.trainableParameters().map(([n, p]) => [n, p.variable]));
    this.keeper = new CheckpointKeeper(this.workDir, o.settings.checkpoint, (l) => this.log(l));
  }

  get epoch(): number {
    return this.epochNo;
  }
  get iter(): number {
    return this.iterNo;
  }
  get innerIter(): number {
    return this.inner;
  }
  get model(): TrainableDetector {
    return this.o.model;
  }

  log(line: string): void {
    const print = this.o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
    if (this.bar && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    print(line);
    fs.writeSync(this.textLog, `${new Date().toISOString()} - ${line}\n`);
  }

  private meta(reason: string): RunMeta {
    return {
      epoch: this.epochNo,
      iter: this.iterNo,
      innerIter: this.inner,
      lr: this.o.optimizer.lr,
      rng: this.rng.state(),
      configHash: hashText(this.o.configText),
      configText: this.o.configText,
      datasetFingerprint: this.o.trainLoader.fingerprint?.(),
      ...this.keeper.metaFields(),
      savedAt: new Date().toISOString(),
      reason,
      soloTsVersion: VERSION,
      seed: this.o.seed,
      worldSize: this.o.parallel?.worldSize ?? 1,
    };
  }

  /** Save `name` in the work dir (atomically; `last_checkpoint` points at it). */
  async saveCheckpoint(name: string, reason: string, interval = false): Promise<string> {
    const file = path.join(this.workDir, name);
    await saveRunCheckpoint(file, this.o.model, this.o.settings.checkpoint.saveOptimizer ? this.o.optimizer : null, this.meta(reason), true);
    this.log(`Saved checkpoint ${file} (${reason})`);
    this.keeper.saved(file, interval);
    return file;
  }

  /** Restore from a checkpoint (resume) or load weights (load_from). */
  async restore(): Promise<void> {
    const { resume, loadFrom } = this.o;
    if (resume) {
      const file = resume === true ? await readLastCheckpoint(this.workDir) : path.resolve(resume);
      if (!file) {
        this.log(`No checkpoint to resume from in ${this.workDir} (no last_checkpoint); starting from scratch`);
      } else {
        const r = await loadRunCheckpoint(file, this.o.model, { strict: true, optimizer: this.o.optimizer });
        const m = r.meta!;
        this.epochNo = m.epoch;
        this.iterNo = m.iter;
        this.inner = m.innerIter;
        this.rng.setState(m.rng);
        this.keeper.restore(m, file);
        this.log(`Resumed from ${file}: epoch ${m.epoch + 1}, iteration ${m.iter} (batch ${m.innerIter} of the epoch)`);
        if (m.configHash !== hashText(this.o.configText)) this.log(`WARNING: the config changed since ${file} was saved; continuing with the new config`);
        const ws = typeof m.worldSize === 'number' ? m.worldSize : 1;
        const nowWs = this.o.parallel?.worldSize ?? 1;
        if (ws !== nowWs) this.log(`WARNING: ${file} was saved by a run with ${ws} data-parallel worker${ws === 1 ? '' : 's'}, this run has ${nowWs}: the batches (and with them the data order from here on) differ from an uninterrupted run`);
        const fp = this.o.trainLoader.fingerprint?.();
        if (m.datasetFingerprint && fp && m.datasetFingerprint !== fp) this.log(`WARNING: the training data changed since ${file} was saved; the data order will differ`);
        return;
      }
    }
    if (loadFrom) {
      const r = await loadRunCheckpoint(loadFrom, this.o.model, { strict: false });
      const rep = r.report;
      const list = (xs: string[]) => `${xs.slice(0, 8).join(', ')}${xs.length > 8 ? ', ...' : ''}`;
      this.log(`Loaded ${rep.loaded.length} of ${this.o.model.stateDict().size} tensors from ${loadFrom}`);
      if (rep.missing.length) this.log(`  not in the checkpoint (kept initialised): ${rep.missing.length}: ${list(rep.missing)}`);
      if (rep.unexpected.length) this.log(`  ignored (not in the model): ${rep.unexpected.length}: ${list(rep.unexpected)}`);
      if (rep.mismatched.length) this.log(`  skipped, shape differs (checkpoint -> model): ${rep.mismatched.map((m) => `${m.key} [${m.got}] -> [${m.expected}]`).join('; ')}`);
      if (rep.loaded.length === 0) throw new CheckpointError(`no tensor of ${loadFrom} matches the model (is it a checkpoint of this model family?)`);
    }
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
    const handler = (sig: NodeJS.Signals) => {
      if (this.stopRequested) {
        this.log(`${sig} again: exiting without saving`);
        process.exit(130);
      }
      this.stopRequested = sig;
      this.log(`${sig} received: finishing the current iteration, saving a checkpoint, then exiting`);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  }

  private lrFor(epoch: number, iter: number): number {
    return lrAt(this.o.schedulers, this.o.optimizer.baseLr, { epoch, iter, itersPerEpoch: this.o.trainLoader.length });
  }

  private async callHooks(k: keyof RunnerHook, ...args: unknown[]): Promise<void> {
    for (const h of this.o.hooks ?? []) await (h[k] as ((...a: unknown[]) => unknown) | undefined)?.call(h, this, ...args);
  }

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
    const removeSignals = this.installSignalHandlers();
    const startIter = this.iterNo;
    const endIter = s.maxIters !== undefined ? Math.min(startIter + s.maxIters, s.maxEpochs * ipe) : s.maxEpochs * ipe;
    const start = performance.now();
    const history: TrainSummary['history'] = [];
    let lastLosses: Record<string, number> = {};
    let metrics: Record<string, number> | undefined;
    let stoppedBy: TrainSummary['stoppedBy'] = 'completed';
    let win = { time: [] as number[], data: [] as number[], losses: {} as Record<string, number[]>, gradNorm: [] as number[] };
    let rollbacks = 0;
    const showBar = (this.o.progress ?? true) && Boolean(process.stderr.isTTY);
    this.o.model.train();
    await this.callHooks('beforeTrain');
    try {
      while (this.epochNo < s.maxEpochs && stoppedBy === 'completed') {
        this.bar = showBar ? createProgress({ write: (t) => process.stderr.write(t), isTTY: true, total: ipe, label: `epoch ${this.epochNo + 1}/${s.maxEpochs}`, columns: process.stderr.columns ?? 80 }) : null;
        this.bar?.update(this.inner);
        let tData = performance.now();
        for await (const batch of this.o.trainLoader.iterate(this.epochNo, this.inner)) {
          const dataTime = (performance.now() - tData) / 1000;
          const lr = this.lrFor(this.epochNo, this.iterNo);
          this.o.optimizer.setLr(lr);
          const t0 = performance.now();
          let res;
          try {
            const stepOptions = { model: this.o.model, optimizer: this.o.optimizer, params: this.params, mults: this.o.mults, clipGrad: s.clipGrad, checkFinite: true, iter: this.iterNo + 1 };
            res = par ? await par.step(batch, stepOptions) : trainStep(batch, stepOptions);
            rollbacks = 0;
          } catch (e) {
            if (!(e instanceof NonFiniteLossError)) throw e;
            const last = this.keeper.last;
            if (s.nan.action !== 'rollback' || !last || rollbacks >= s.nan.maxRollbacks) {
              if (s.nan.action === 'rollback') this.log(last ? `giving up after ${rollbacks} rollbacks in a row` : 'no checkpoint to roll back to');
              throw e;
            }
            rollbacks++;
            this.log(`${e.message}; rolling back to ${last} and skipping this batch`);
            await loadRunCheckpoint(last, this.o.model, { strict: true, optimizer: this.o.optimizer });
            await par?.syncState();
            this.iterNo++;
            this.inner++;
            tData = performance.now();
            continue;
          }
          this.iterNo++;
          this.inner++;
          const lossVals: Record<string, number> = {};
          for (const [k, t] of Object.entries(res.losses)) {
            lossVals[k] = (await t.data())[0];
            t.dispose();
          }
          let gradNorm: number | undefined;
          if (res.gradNorm) {
            gradNorm = (await res.gradNorm.data())[0];
            res.gradNorm.dispose();
            win.gradNorm.push(gradNorm);
          }
          const iterTime = (performance.now() - t0) / 1000 + dataTime;
          win.time.push(iterTime);
          win.data.push(dataTime);
          for (const [k, v] of Object.entries(lossVals)) (win.losses[k] ??= []).push(v);
          lastLosses = lossVals;
          history.push({ iter: this.iterNo, loss: lossVals.loss, numTensors: tf.memory().numTensors, time: iterTime });
          const record: Record<string, number> = { lr, ...lossVals, time: iterTime, data_time: dataTime, epoch: this.epochNo + 1, iter: this.iterNo, step: this.iterNo };
          if (gradNorm !== undefined) record.grad_norm = gradNorm;
          if (res.timings.sync !== undefined) record.sync_time = res.timings.sync / 1000;
          this.scalarLog.write(record);
          this.bar?.update(this.inner, `loss ${fmtNum(lossVals.loss)}`);
          if (this.iterNo % s.logInterval === 0 || this.inner === ipe || this.iterNo === endIter) {
            const avgTime = mean(win.time);
            const losses = Object.fromEntries(Object.entries(win.losses).map(([k, v]) => [k, mean(v)]));
            const memoryMb = process.memoryUsage().rss / 2 ** 20;
            const gn = win.gradNorm.length ? mean(win.gradNorm) : undefined;
            this.log(formatTrainLine({ epoch: this.epochNo + 1, maxEpochs: s.maxEpochs, innerIter: this.inner, itersPerEpoch: ipe, lr, eta: avgTime * (endIter - this.iterNo), time: avgTime, dataTime: mean(win.data), memoryMb, losses, gradNorm: gn }));
            this.tb.addScalars({ lr, ...losses, time: avgTime, data_time: mean(win.data), memory: memoryMb, ...(gn !== undefined ? { grad_norm: gn } : {}) }, this.iterNo, 'train/');
            win = { time: [], data: [], losses: {}, gradNorm: [] };
          }
          await this.callHooks('afterTrainIter', { losses: lossVals, lr });
          const ck = s.checkpoint;
          if (!ck.byEpoch && ck.interval > 0 && this.iterNo % ck.interval === 0 && this.iterNo >= ck.saveBegin) {
            await this.saveCheckpoint(`iter_${this.iterNo}.safetensors`, 'iteration interval', true);
          }
          if (this.stopRequested) stoppedBy = 'signal';
          else if (this.iterNo >= endIter && s.maxIters !== undefined && this.iterNo < s.maxEpochs * ipe) stoppedBy = 'max_iters';
          else if (s.maxSeconds !== undefined && (performance.now() - start) / 1000 >= s.maxSeconds) stoppedBy = 'max_seconds';
          if (stoppedBy !== 'completed') break;
          // One turn of the event loop per iteration: when the loader is ahead every await above resolves as a
          // microtask, and signal handlers (SIGINT/SIGTERM), timers and worker messages would never run.
          await yieldToEventLoop();
          tData = performance.now();
        }
        this.bar?.finish();
        this.bar = null;
        if (stoppedBy === 'completed') {
          this.epochNo++;
          this.inner = 0;
          await this.callHooks('afterTrainEpoch');
        }
        const finishing = stoppedBy !== 'completed' || this.epochNo >= s.maxEpochs;
        const epochEnded = stoppedBy === 'completed';
        const doVal = this.o.valLoader && this.o.evaluator && stoppedBy !== 'signal' && ((epochEnded && this.epochNo >= s.valBegin && this.epochNo % s.valInterval === 0) || finishing);
        if (doVal) {
          metrics = await this.validate();
          // the best checkpoint first, so that the interval checkpoint below records it
          await this.keeper.updateBest(metrics, epochEnded ? `epoch_${this.epochNo}` : `iter_${this.iterNo}`, (f) => saveRunCheckpoint(f, this.o.model, null, this.meta('best checkpoint'), false));
        }
        const ck = s.checkpoint;
        const intervalCkpt = epochEnded && ck.byEpoch && ck.interval > 0 && this.epochNo % ck.interval === 0 && this.epochNo >= ck.saveBegin;
        if (intervalCkpt) await this.saveCheckpoint(`epoch_${this.epochNo}.safetensors`, 'epoch end', true);
        else if (finishing && (ck.saveLast || stoppedBy === 'signal') && this.keeper.last !== this.currentFile()) {
          await this.saveCheckpoint(epochEnded ? `epoch_${this.epochNo}.safetensors` : `iter_${this.iterNo}.safetensors`, stoppedBy === 'signal' ? `interrupted by ${this.stopRequested}` : stoppedBy === 'completed' ? 'end of training' : stoppedBy);
        }
      }
      await this.callHooks('afterTrain');
    } finally {
      this.bar?.finish();
      this.bar = null;
      await par?.close();
      removeSignals();
      this.scalarLog.close();
      this.tb.close();
    }
    const seconds = (performance.now() - start) / 1000;
    this.log(`Training finished (${stoppedBy}): ${this.iterNo} iterations, ${(seconds / 60).toFixed(1)} min${stoppedBy === 'signal' ? `; resume with --resume (continues from ${this.keeper.last})` : ''}`);
    fs.closeSync(this.textLog);
    return { epochs: this.epochNo, iters: this.iterNo, seconds, lastLosses, metrics, history, stoppedBy, signal: this.stopRequested ?? undefined, lastCheckpoint: this.keeper.last, bestCheckpoint: this.keeper.best, logDir: this.logDir };
  }

  /** The file a checkpoint of the current position would have been saved as by an interval save. */
  private currentFile(): string {
    return path.join(this.workDir, this.inner === 0 ? `epoch_${this.epochNo}.safetensors` : `iter_${this.iterNo}.safetensors`);
  }

  /** Run the validation loader through predict and the evaluator; logs and returns the metrics. */
  async validate(): Promise<Record<string, number>> {
    const ev = this.o.evaluator!;
    ev.onLog = (line) => this.log(line);
    const r = await evaluateModel(this.o.model, this.o.valLoader!, ev, { label: `val epoch ${this.epochNo}`, progress: (this.o.progress ?? true) ? undefined : null });
    this.log(`Epoch(val) [${this.epochNo}][${r.images}/${this.o.valLoader!.numSamples}]  ${Object.entries(r.metrics).map(([k, v]) => `${k}: ${fmtNum(v)}`).join('  ')}  time: ${r.seconds.toFixed(1)} s`);
    this.scalarLog.write({ ...r.metrics, epoch: this.epochNo, iter: this.iterNo, step: this.iterNo });
    this.tb.addScalars(r.metrics, this.iterNo, 'val/');
    await this.callHooks('afterValEpoch', r.metrics);
    return r.metrics;
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

/** Resolves after the event loop has gone through its poll phase once (signals, I/O, worker messages). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
