// SPDX-License-Identifier: Apache-2.0
/** Interfaces the runner uses to talk to models, data and hooks. */
import type * as tf from '@tensorflow/tfjs-core';
import type { DetDataSample, InstanceData, Module } from '@solo-ts/core';
import type { StepOptions, StepResult } from './train-step.js';

/** A batch as the data loader yields it (mmengine's `data_batch`: packed inputs + data samples). */
export interface DataBatch {
  /** Per-image packed inputs (uint8 HWC images) as produced by PackDetInputs. */
  inputs: unknown[];
  dataSamples: DetDataSample[];
}

/** What the runner needs from a detector (SOLO / SOLOv2 / plugins). */
export interface TrainableDetector extends Module {
  /** data preprocessor: normalise + pad the batch, returns NHWC input (caller owns) and updated samples */
  preprocess(batch: DataBatch, training: boolean): { inputs: tf.Tensor4D; dataSamples: DetDataSample[] };
  loss(inputs: tf.Tensor4D, samples: DetDataSample[]): Record<string, tf.Scalar>;
  predict(inputs: tf.Tensor4D, samples: DetDataSample[]): Promise<InstanceData[]>;
}

/** A restartable, seeded loader over one split. */
export interface EpochLoader {
  /** batches per epoch */
  readonly length: number;
  /** number of samples */
  readonly numSamples: number;
  /** Iterate epoch `epoch` starting at batch `start` (for resume); order depends only on (seed, epoch). */
  iterate(epoch: number, start?: number): AsyncIterable<DataBatch>;
  /** counters (refetched samples after decode errors, ...) */
  stats?(): Record<string, number>;
  /** A fingerprint of the dataset (files + annotation digest) for resume checks. */
  fingerprint?(): string;
  close(): Promise<void>;
}

/**
 * A data-parallel step engine: the runner hands it its batches instead of calling `trainStep`. `DataParallelTrainer`
 * (worker threads) gets whole batches and shards them; `DistributedDataParallel` (one process per rank) gets this
 * rank's shard from its loader. Absent = one process, `trainStep` (the single-worker path).
 */
export interface ParallelStepper {
  /** number of ranks (the main thread is rank 0) */
  readonly worldSize: number;
  /** one line for the start of the log, e.g. `data parallel: 2 workers x batch 8 (total 16), 1 thread each` */
  readonly description: string;
  /** Start the workers (idempotent; resolves when every worker has built its model). */
  start(): Promise<void>;
  /** Rank 0's whole model state (parameters and buffers) onto every rank: after loading weights or a rollback. */
  syncState(): Promise<void>;
  /** One optimisation step over all ranks: same contract as `trainStep`. */
  step(batch: DataBatch, o: StepOptions): Promise<StepResult>;
  /** Stop the workers (idempotent). */
  close(): Promise<void>;
}

export interface RunnerState {
  epoch: number;
  /** global iteration count (number of completed iterations) */
  iter: number;
  /** batch index inside the current epoch where training continues */
  innerIter: number;
}

export interface LogRecord {
  mode: 'train' | 'val' | 'test';
  epoch: number;
  iter: number;
  innerIter?: number;
  itersPerEpoch?: number;
  lr?: number;
  time?: number;
  dataTime?: number;
  eta?: number;
  memory?: number;
  losses?: Record<string, number>;
  metrics?: Record<string, number>;
  [k: string]: unknown;
}
