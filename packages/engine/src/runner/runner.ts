// SPDX-License-Identifier: Apache-2.0
/**
 * The epoch-based training runner (mmengine's `Runner` + `EpochBasedTrainLoop`, in one class).
 *
 * Per iteration: fetch a batch (prefetched by the loader), preprocess, loss + backward, clip, SGD step, learning
 * rate from the schedulers (closed form of the iteration/epoch), logging every `log_interval` iterations.
 * Per epoch: checkpoint every `interval` epochs (`max_keep_ckpts`, best by `save_best`), validation every
 * `val_interval` epochs with the configured metric. SIGINT/SIGTERM finish the current iteration, save
 * `iter_<n>.safetensors` and exit. Everything is written to the work directory: the merged config, a text log,
 * a JSON-lines scalar log and TensorBoard event files.
 *
 * Data-parallel training: the runner only talks to the model through `preprocess`/`loss`/`predict` and to the
 * optimizer through a map of named gradients, so a multi-worker version averages the workers' gradient maps
 * before `optimizer.step` without touching the loop (see docs/training.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, SoloError, type DetDataSample, type InstanceData } from '@solo-ts/core';
import { readLastCheckpoint } from '@solo-ts/checkpoint';
import type { SGD } from '../optim/sgd.js';
import { lrAt, type LrScheduler } from '../optim/schedulers.js';
import { ScalarLog } from '../logging/scalar-log.js';
import { TensorBoardWriter } from '../logging/tensorboard.js';
import { hashText, loadRunCheckpoint, saveRunCheckpoint, type RunMeta } from './checkpointing.js';
import { formatTrainLine, fmtNum } from './format.js';
import { NonFiniteLossError, trainStep } from './train-step.js';
import type { EpochLoader, TrainableDetector } from './types.js';

export interface EvaluatorLike {
  /** Called once per validation run with all predictions; returns metric values (e.g. coco/segm_mAP). */
  evaluate(predictions: Array<{ sample: DetDataSample; pred: InstanceData }>): Promise<Record<string, number>> | Record<string, number>;
}

export interface RunnerSettings {
  maxEpochs: number;
  valInterval: number;
  /** begin validation at this epoch (mmengine val_begin) */
  valBegin: number;
  logInterval: number;
  checkpointInterval: number;
  maxKeepCkpts: number;
  /** metric key to keep the best checkpoint for, e.g. `coco/segm_mAP` ('auto' = first metric) */
  saveBest?: string;
  /** stop on a non-finite loss ('stop') or roll back to the last good checkpoint and skip the batch ('rollback') */
  nanAction: 'stop' | 'rollback';
  clipGrad?: { maxNorm: number; normType?: number };
  /** stop training after this many iterations in total (demo / benchmarks); undefined = no limit */
  maxIters?: number;
  /** stop after this many seconds of training (demo); checkpoints and validates before stopping */
  maxSeconds?: number;
  /** also save a checkpoint every this many iterations (0 = off) */
  checkpointEveryIters: number;
}

export interface RunnerOptions {
  model: TrainableDetector;
  optimizer: SGD;
  schedulers: LrScheduler[];
  trainLoader: EpochLoader;
  valLoader?: EpochLoader;
  evaluator?: EvaluatorLike;
  settings: RunnerSettings;
  workDir: string;
  /** merged config text (YAML) saved with every checkpoint and into the work dir */
  configText: string;
  seed: number;
  backendName: string;
  /** resume: a checkpoint path, or true for the work dir's last_checkpoint */
  resume?: string | boolean;
  /** weights to start from (partial load with a report) */
  loadFrom?: string;
  /** console output (default: stdout) */
  print?: (line: string) => void;
}

export interface TrainSummary {
  epochs: number;
  iters: number;
  seconds: number;
  lastLosses: Record<string, number>;
  metrics?: Record<string, number>;
  lossHistory: Array<{ iter: number; loss: number }>;
  stoppedBy: 'completed' | 'max_iters' | 'max_seconds' | 'signal';
  lastCheckpoint?: string;
}

const VERSION = '0.1.0';

export class Runner {
  readonly timestamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  readonly logDir: string;
  private readonly scalarLog: ScalarLog;
  private readonly tb: TensorBoardWriter;
  private readonly textLog: number;
  private readonly rng: SeededRandom;
  private readonly params: Map<string, tf.Variable>;
  private epoch = 0;
  private iter = 0;
  private innerIter = 0;
  private bestScore = -Infinity;
  private bestCheckpoint?: string;
  private stopRequested: NodeJS.Signals | null = null;
  private lastCheckpoint?: string;
  private readonly keptCheckpoints: string[] = [];

  constructor(private readonly o: RunnerOptions) {
    this.ensureWritable(o.workDir);
    this.logDir = path.join(o.workDir, this.timestamp);
    fs.mkdirSync(path.join(this.logDir, 'vis_data'), { recursive: true });
    this.textLog = fs.openSync(path.join(this.logDir, `${this.timestamp}.log`), 'a');
    this.scalarLog = new ScalarLog(path.join(this.logDir, 'vis_data', 'scalars.json'));
    this.tb = new TensorBoardWriter(path.join(this.logDir, 'vis_data', 'tensorboard'));
    fs.writeFileSync(path.join(o.workDir, 'config.yaml'), o.configText);
    fs.writeFileSync(path.join(this.logDir, 'config.yaml'), o.configText);
    this.rng = new SeededRandom(o.seed);
    this.params = new Map(o.model.trainableParameters().map(([n, p]) => [n, p.variable]));
  }

  private ensureWritable(dir: string): void {
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
      throw new SoloError(`cannot write to the work directory ${dir}: ${(e as Error).message}`, { code: 'FILE', expected: 'a writable directory (--work-dir)' });
    }
  }

  log(line: string): void {
    (this.o.print ?? ((l: string) => process.stdout.write(l + '\n')))(line);
    fs.writeSync(this.textLog, `${new Date().toISOString()} - ${line}\n`);
  }

  private get configHash(): string {
    return hashText(this.o.configText);
  }

  private meta(reason: string): RunMeta {
    return {
      epoch: this.epoch,
      iter: this.iter,
      innerIter: this.innerIter,
      lr: this.o.optimizer.lr,
      rng: this.rng.state(),
      configHash: this.configHash,
      configText: this.o.configText,
      datasetFingerprint: this.o.trainLoader.fingerprint?.(),
      bestScore: Number.isFinite(this.bestScore) ? this.bestScore : undefined,
      bestCheckpoint: this.bestCheckpoint,
      savedAt: new Date().toISOString(),
      reason,
      soloTsVersion: VERSION,
      seed: this.o.seed,
    };
  }

  async saveCheckpoint(name: string, reason: string, keep = true): Promise<string> {
    const file = path.join(this.o.workDir, name);
    await saveRunCheckpoint(file, this.o.model, this.o.optimizer, this.meta(reason), true);
    this.lastCheckpoint = file;
    this.log(`Saved checkpoint ${file} (${reason})`);
    if (keep && /^epoch_\d+\.safetensors$/.test(name)) {
      this.keptCheckpoints.push(file);
      const max = this.o.settings.maxKeepCkpts;
      while (max > 0 && this.keptCheckpoints.length > max) {
        const old = this.keptCheckpoints.shift()!;
        if (old !== this.bestCheckpoint) fs.rmSync(old, { force: true });
      }
    }
    return file;
  }

  /** Restore from a checkpoint (resume) or load weights (load_from). */
  async restore(): Promise<void> {
    const { resume, loadFrom, workDir } = this.o;
    if (resume) {
      const file = resume === true ? await readLastCheckpoint(workDir) : resume;
      if (!file) {
        this.log(`No checkpoint to resume from in ${workDir} (no last_checkpoint); starting from scratch`);
      } else {
        const r = await loadRunCheckpoint(file, this.o.model, { strict: true, optimizer: this.o.optimizer });
        const m = r.meta!;
        this.epoch = m.epoch;
        this.iter = m.iter;
        this.innerIter = m.innerIter;
        this.rng.setState(m.rng);
        if (m.bestScore !== undefined) this.bestScore = m.bestScore;
        this.bestCheckpoint = m.bestCheckpoint;
        this.log(`Resumed from ${file}: epoch ${m.epoch + 1}, iteration ${m.iter} (batch ${m.innerIter} of the epoch)`);
        if (m.configHash !== this.configHash) this.log(`WARNING: the config changed since ${file} was saved (hash ${m.configHash} -> ${this.configHash}); continuing with the new config`);
        const fp = this.o.trainLoader.fingerprint?.();
        if (m.datasetFingerprint && fp && m.datasetFingerprint !== fp) this.log(`WARNING: the training data changed since ${file} was saved; the data order will differ`);
        return;
      }
    }
    if (loadFrom) {
      const r = await loadRunCheckpoint(loadFrom, this.o.model, { strict: false });
      const skipped = r.report.mismatched.map((m) => `${m.key} [${m.got}] -> [${m.expected}]`);
      this.log(`Loaded ${r.report.loaded.length} tensors from ${loadFrom}`);
      if (r.report.missing.length) this.log(`  not in the checkpoint (kept initialised): ${r.report.missing.length}: ${r.report.missing.slice(0, 8).join(', ')}${r.report.missing.length > 8 ? ', ...' : ''}`);
      if (r.report.unexpected.length) this.log(`  ignored (not in the model): ${r.report.unexpected.length}: ${r.report.unexpected.slice(0, 8).join(', ')}${r.report.unexpected.length > 8 ? ', ...' : ''}`);
      if (skipped.length) this.log(`  skipped, shape differs: ${skipped.join('; ')}`);
    }
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

  async train(): Promise<TrainSummary> {
    const s = this.o.settings;
    this.log(`solo-ts ${VERSION} | backend ${this.o.backendName} | ${os.cpus().length} CPU(s) | work dir ${this.o.workDir}`);
    this.log(`model: ${this.o.model.numParameters()} parameters (${this.o.model.numParameters(true)} trainable); ${this.o.trainLoader.numSamples} training images, ${this.o.trainLoader.length} iterations per epoch`);
    await this.restore();
    const removeSignals = this.installSignalHandlers();
    const itersPerEpoch = this.o.trainLoader.length;
    const totalIters = s.maxIters !== undefined ? Math.min(s.maxIters, s.maxEpochs * itersPerEpoch) : s.maxEpochs * itersPerEpoch;
    const start = performance.now();
    const lossHistory: Array<{ iter: number; loss: number }> = [];
    let lastLosses: Record<string, number> = {};
    let metrics: Record<string, number> | undefined;
    let stoppedBy: TrainSummary['stoppedBy'] = 'completed';
    const window: { time: number[]; data: number[]; losses: Record<string, number[]>; gradNorm: number[] } = { time: [], data: [], losses: {}, gradNorm: [] };
    const startIter = this.iter;
    this.o.model.train();
    try {
      outer: while (this.epoch < s.maxEpochs) {
        let tData = performance.now();
        for await (const batch of this.o.trainLoader.iterate(this.epoch, this.innerIter)) {
          const dataTime = (performance.now() - tData) / 1000;
          const lr = this.lrFor(this.epoch, this.iter);
          this.o.optimizer.setLr(lr);
          const t0 = performance.now();
          let res;
          try {
            res = trainStep(batch, { model: this.o.model, optimizer: this.o.optimizer, params: this.params, clipGrad: s.clipGrad, checkFinite: true, iter: this.iter + 1 });
          } catch (e) {
            if (e instanceof NonFiniteLossError && s.nanAction === 'rollback' && this.lastCheckpoint) {
              this.log(`${e.message}; rolling back to ${this.lastCheckpoint} and skipping this batch`);
              await loadRunCheckpoint(this.lastCheckpoint, this.o.model, { strict: true, optimizer: this.o.optimizer });
              this.iter++;
              this.innerIter++;
              continue;
            }
            throw e;
          }
          this.iter++;
          this.innerIter++;
          const iterTime = (performance.now() - t0) / 1000 + dataTime;
          window.time.push(iterTime);
          window.data.push(dataTime);
          const lossVals: Record<string, number> = {};
          for (const [k, t] of Object.entries(res.losses)) {
            lossVals[k] = (await t.data())[0];
            t.dispose();
          }
          let gradNorm: number | undefined;
          if (res.gradNorm) {
            gradNorm = (await res.gradNorm.data())[0];
            res.gradNorm.dispose();
            window.gradNorm.push(gradNorm);
          }
          for (const [k, v] of Object.entries(lossVals)) (window.losses[k] ??= []).push(v);
          lastLosses = lossVals;
          lossHistory.push({ iter: this.iter, loss: lossVals.loss });
          const record: Record<string, number> = { lr, ...lossVals, time: iterTime, data_time: dataTime, epoch: this.epoch + 1, iter: this.iter, step: this.iter };
          if (gradNorm !== undefined) record.grad_norm = gradNorm;
          this.scalarLog.write(record);
          if (this.iter % s.logInterval === 0 || this.innerIter === itersPerEpoch || this.iter === totalIters) {
            const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
            const avgTime = mean(window.time);
            const losses = Object.fromEntries(Object.entries(window.losses).map(([k, v]) => [k, mean(v)]));
            this.log(
              formatTrainLine({
                epoch: this.epoch + 1,
                maxEpochs: s.maxEpochs,
                innerIter: this.innerIter,
                itersPerEpoch,
                lr,
                eta: avgTime * (totalIters - this.iter),
                time: avgTime,
                dataTime: mean(window.data),
                memoryMb: process.memoryUsage().rss / 2 ** 20,
                losses,
                gradNorm: window.gradNorm.length ? mean(window.gradNorm) : undefined,
              }),
            );
            this.tb.addScalars({ lr, ...losses, time: avgTime, data_time: mean(window.data) }, this.iter, 'train/');
            window.time = [];
            window.data = [];
            window.losses = {};
            window.gradNorm = [];
          }
          if (s.checkpointEveryIters > 0 && this.iter % s.checkpointEveryIters === 0 && this.innerIter < itersPerEpoch) {
            await this.saveCheckpoint(`iter_${this.iter}.safetensors`, 'iteration interval', false);
          }
          if (this.stopRequested) {
            await this.saveCheckpoint(`iter_${this.iter}.safetensors`, `interrupted by ${this.stopRequested}`, false);
            stoppedBy = 'signal';
            break outer;
          }
          if (s.maxIters !== undefined && this.iter - startIter >= s.maxIters) {
            stoppedBy = 'max_iters';
            break;
          }
          if (s.maxSeconds !== undefined && (performance.now() - start) / 1000 >= s.maxSeconds) {
            stoppedBy = 'max_seconds';
            break;
          }
          tData = performance.now();
        }
        const epochDone = this.innerIter >= itersPerEpoch;
        if (epochDone) {
          this.epoch++;
          this.innerIter = 0;
        }
        const finishing = stoppedBy !== 'completed' || this.epoch >= s.maxEpochs;
        if (epochDone || finishing) {
          const doVal = this.o.valLoader && this.o.evaluator && ((epochDone && this.epoch >= s.valBegin && this.epoch % s.valInterval === 0) || finishing);
          if (doVal) metrics = await this.validate();
          if ((epochDone && this.epoch % s.checkpointInterval === 0) || finishing) {
            const name = epochDone ? `epoch_${this.epoch}.safetensors` : `iter_${this.iter}.safetensors`;
            const file = await this.saveCheckpoint(name, epochDone ? 'epoch end' : stoppedBy, epochDone);
            if (metrics && s.saveBest) this.updateBest(metrics, file);
          }
        }
        if (stoppedBy !== 'completed') break;
      }
    } finally {
      removeSignals();
      this.scalarLog.close();
      this.tb.close();
    }
    const seconds = (performance.now() - start) / 1000;
    this.log(`Training finished (${stoppedBy}): ${this.iter} iterations, ${(seconds / 60).toFixed(1)} min`);
    return { epochs: this.epoch, iters: this.iter, seconds, lastLosses, metrics, lossHistory, stoppedBy, lastCheckpoint: this.lastCheckpoint };
  }

  private updateBest(metrics: Record<string, number>, file: string): void {
    const key = this.o.settings.saveBest === 'auto' ? Object.keys(metrics)[0] : this.o.settings.saveBest!;
    const v = metrics[key];
    if (v === undefined || !(v > this.bestScore)) return;
    this.bestScore = v;
    const best = path.join(this.o.workDir, `best_${key.replace(/[/]/g, '_')}_epoch_${this.epoch}.safetensors`);
    if (this.bestCheckpoint && this.bestCheckpoint !== best) fs.rmSync(this.bestCheckpoint, { force: true });
    fs.copyFileSync(file, best);
    this.bestCheckpoint = best;
    this.log(`New best ${key} = ${fmtNum(v)}: ${best}`);
  }

  /** Run the validation loader through predict and the evaluator; logs and returns the metrics. */
  async validate(): Promise<Record<string, number>> {
    const loader = this.o.valLoader!;
    this.o.model.eval();
    const preds: Array<{ sample: DetDataSample; pred: InstanceData }> = [];
    const t0 = performance.now();
    let n = 0;
    for await (const batch of loader.iterate(0, 0)) {
      const { inputs, dataSamples } = this.o.model.preprocess(batch, false);
      try {
        const out = await this.o.model.predict(inputs, dataSamples);
        for (let i = 0; i < out.length; i++) preds.push({ sample: dataSamples[i], pred: out[i] });
      } finally {
        inputs.dispose();
      }
      n++;
      if (n % 50 === 0 || n === loader.length) this.log(`Epoch(val) [${this.epoch}][${n}/${loader.length}]`);
    }
    const metrics = await this.o.evaluator!.evaluate(preds);
    this.o.model.train();
    this.log(`Epoch(val) [${this.epoch}] ${Object.entries(metrics).map(([k, v]) => `${k}: ${fmtNum(v)}`).join('  ')}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    this.scalarLog.write({ ...metrics, epoch: this.epoch, iter: this.iter, step: this.iter });
    this.tb.addScalars(metrics, this.iter, 'val/');
    return metrics;
  }
}
