// SPDX-License-Identifier: Apache-2.0
/** What a `Runner` (runner.ts) is built from and what its training run returns. */
import type { Evaluator } from '../build/evaluator.js';
import type { Optimizer, ParamGroupMult } from '../optim/optimizer.js';
import type { LrScheduler } from '../optim/schedulers.js';
import type { Collective } from '../parallel/collective.js';
import type { Hook } from './hooks.js';
import type { StopReason } from './train-loop.js';
import type { EpochLoader, ParallelStepper, TrainableDetector } from './types.js';

export interface RunnerSettings {
  maxEpochs: number;
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
  /** every hook of the run (default and custom), called in priority order */
  hooks?: Hook[];
  /** formatting of logged values (`log_processor`; default num_digits 4) */
  logProcessor?: { numDigits: number };
  /** console output (default: stdout) */
  print?: (line: string) => void;
  /** progress output of validation (default true: stderr) */
  progress?: boolean;
  /** data-parallel step engine (world size >= 2); absent = single process */
  parallel?: ParallelStepper;
  /** the process group of distributed training (one process per rank); rank 0 writes logs and checkpoints */
  collective?: Collective;
}

export interface TrainSummary {
  epochs: number;
  iters: number;
  seconds: number;
  lastLosses: Record<string, number>;
  metrics?: Record<string, number>;
  /** per iteration of this run: total loss and live tensors after the step */
  history: Array<{ iter: number; loss: number; numTensors: number; time: number }>;
  stoppedBy: StopReason;
  /** the signal that stopped training (SIGINT, SIGTERM) */
  signal?: string;
  lastCheckpoint?: string;
  bestCheckpoint?: string;
  logDir: string;
  /** distributed training: this process's rank (0 otherwise) and the world size (data-parallel ranks, 1 without) */
  rank: number;
  worldSize: number;
}

/** Options of `Runner.saveCheckpoint`. */
export interface SaveOptions {
  /** for the log and the checkpoint's metadata */
  reason: string;
  /** store the optimizer's buffers (needed for an exact resume) */
  optimizer: boolean;
  /** point `<work_dir>/last_checkpoint` at the file and make it the run's last checkpoint (default true) */
  pointer?: boolean;
}
