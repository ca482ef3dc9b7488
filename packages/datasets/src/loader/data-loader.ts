// SPDX-License-Identifier: Apache-2.0
/**
 * `DataLoader`: batches of packed samples for the engine, mmengine-style (one epoch = one pass of the batch
 * sampler), with:
 * - background prefetching: the next `prefetch` batches are prepared while the current one is used (image
 *   decoding runs in sharp's libuv threads; with `numWorkers > 0` the whole pipeline runs in worker threads,
 *   see `worker-pool.ts`);
 * - deterministic order and augmentation: same seed -> same batches (sampler order from the seed and epoch,
 *   per-sample random streams from seed, epoch, position and slot);
 * - resumable state: `state()` = {epoch, position, seed}; `restore(state)` continues at that batch;
 * - failures: in training a sample whose pipeline fails with a `DatasetError` (missing or corrupt image, ...) or
 *   returns null is replaced by another random sample (at most `maxRefetch` tries per slot; counted in
 *   `stats`, reported through `onWarning`); in test mode the error propagates, naming the file;
 * - `close()`: stops workers; pending work is discarded. Nothing keeps the process alive after the last batch.
 * Node-only (uses the dataset's file access).
 */
import { DatasetError, isSoloError, type DetDataSample, type RandomSource } from '@solo-ts/core';
import type { DetDataset } from '../coco/coco-dataset.js';
import type { PackedInputs, PackedSample } from '../transforms/results.js';
import { PlainBatchSampler, DefaultSampler, shardSizes, type BatchSampler } from './samplers.js';
import { sampleRng } from './sample-rng.js';

/** One batch: the packed samples in order plus their dataset indices. */
export interface DataBatch {
  inputs: PackedInputs[];
  dataSamples: DetDataSample[];
  /** Dataset index of each sample (after refetches). */
  indices: number[];
  epoch: number;
  /** Position of the batch in its epoch (0-based). */
  iter: number;
}

export interface LoaderState {
  epoch: number;
  /** Batches of `epoch` already handed out. */
  position: number;
  seed: number;
}

export interface LoaderFailure {
  index: number;
  imgPath?: string;
  message: string;
  epoch: number;
}

export interface LoaderStats {
  batches: number;
  samples: number;
  /** Samples replaced by another one because they failed or were dropped. */
  refetches: number;
  /** The first 100 failures. */
  failures: LoaderFailure[];
  /** Total milliseconds spent preparing samples (sum over samples, may overlap). */
  prepareMs: number;
  /** Milliseconds the consumer waited for a batch that was not ready yet. */
  waitMs: number;
}

/** Runs `prepareData` somewhere (in process or in a worker). */
export interface SampleRunner {
  prepare(index: number, seedParts: [number, number, number, number, number]): Promise<unknown | null>;
  close(): Promise<void>;
}

export interface DataLoaderOptions {
  dataset: DetDataset;
  batchSize?: number;
  /** A ready batch sampler (takes precedence over `shuffle` / `batchSize` / `dropLast`). */
  batchSampler?: BatchSampler;
  shuffle?: boolean;
  dropLast?: boolean;
  /** Run seed: sampler order and augmentation. Default: random (recorded in `state()`). */
  seed?: number;
  /** Batches prepared ahead of the consumer (default 2). */
  prefetch?: number;
  /** Where samples are prepared (default: in process). */
  runner?: SampleRunner;
  /** Retries per slot in training (default: the dataset's `maxRefetch`). */
  maxRefetch?: number;
  onWarning?: (message: string) => void;
  /** Called after each batch is handed out. */
  onProgress?: (p: { epoch: number; position: number; length: number }) => void;
  /**
   * Distributed data parallel: this process is rank `rank` of `worldSize`. The batch sampler then makes the
   * global batches (worldSize x the per-rank batch size, from the same seeded epoch order on every rank) and this
   * loader prepares only rank `rank`'s contiguous share of each (`shardSizes`), each sample with the augmentation
   * of its slot in the global batch: the ranks together see exactly the batches one process would. With
   * `perRank`, rank r takes samples [r x perRank, (r+1) x perRank) of each global batch instead (a short last batch
   * fills the first ranks): every rank's batches are then batches one process with batch size `perRank` makes
   * (distributed evaluation gives the predictions of one process).
   */
  shard?: { rank: number; worldSize: number; perRank?: number };
}

class InProcessRunner implements SampleRunner {
  constructor(private readonly dataset: DetDataset) {}
  prepare(index: number, seedParts: [number, number, number, number, number]): Promise<unknown | null> {
    const rng: RandomSource = sampleRng(...seedParts);
    return this.dataset.prepareData(index, rng);
  }
  async close(): Promise<void> {}
}

interface Pending {
  position: number;
  promise: Promise<DataBatch>;
}

export class DataLoader {
  readonly dataset: DetDataset;
  readonly batchSampler: BatchSampler;
  readonly seed: number;
  readonly prefetch: number;
  readonly stats: LoaderStats = { batches: 0, samples: 0, refetches: 0, failures: [], prepareMs: 0, waitMs: 0 };
  private epochNo = 0;
  private position = 0;
  private readonly runner: SampleRunner;
  private readonly maxRefetch: number;
  private readonly warn: (m: string) => void;
  private readonly onProgress?: DataLoaderOptions['onProgress'];
  private closed = false;
  private generation = 0;
  private readonly shard?: { rank: number; worldSize: number; perRank?: number };

  constructor(options: DataLoaderOptions) {
    this.dataset = options.dataset;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (options.batchSampler) this.batchSampler = options.batchSampler;
    else {
      const sampler = new DefaultSampler({ dataset: this.dataset, shuffle: options.shuffle ?? !this.dataset.testMode, seed: this.seed });
      this.batchSampler = new PlainBatchSampler(sampler, options.batchSize ?? 1, options.dropLast ?? false);
    }
    this.prefetch = Math.max(0, options.prefetch ?? 2);
    this.runner = options.runner ?? new InProcessRunner(this.dataset);
    this.maxRefetch = options.maxRefetch ?? this.dataset.maxRefetch;
    this.warn = options.onWarning ?? ((m) => console.warn(m));
    this.onProgress = options.onProgress;
    const sh = options.shard;
    if (sh && !(Number.isInteger(sh.worldSize) && sh.worldSize >= 1 && Number.isInteger(sh.rank) && sh.rank >= 0 && sh.rank < sh.worldSize)) {
      throw new DatasetError(`invalid loader shard: rank ${sh.rank} of ${sh.worldSize}`);
    }
    this.shard = sh && sh.worldSize > 1 ? sh : undefined;
  }

  /** Batches per epoch (for the aspect-ratio sampler without drop_last, an upper bound). */
  get length(): number {
    return this.batchSampler.length;
  }

  get epoch(): number {
    return this.epochNo;
  }

  /** Resumable position: the next batch handed out is batch `position` of `epoch`. */
  state(): LoaderState {
    return { epoch: this.epochNo, position: this.position, seed: this.seed };
  }

  /** Continue from a saved state (the seed must match the run's seed). */
  restore(state: LoaderState): void {
    if (state.seed !== this.seed) {
      throw new DatasetError(`loader state was saved with seed ${state.seed} but this loader uses seed ${this.seed}`, { hint: 'build the loader with the seed of the run being resumed' });
    }
    if (!Number.isInteger(state.epoch) || state.epoch < 0 || !Number.isInteger(state.position) || state.position < 0) {
      throw new DatasetError(`invalid loader state ${JSON.stringify(state)}`);
    }
    this.epochNo = state.epoch;
    this.position = state.position;
    this.generation++;
  }

  /** Set the epoch (position restarts at 0), like mmengine's `sampler.set_epoch`. */
  setEpoch(epoch: number): void {
    this.epochNo = epoch;
    this.position = 0;
    this.generation++;
  }

  /**
   * The remaining batches of the current epoch. When the epoch is exhausted, the loader moves to the next
   * epoch (position 0). Breaking out early keeps the position (see `state()`).
   */
  async *epochBatches(): AsyncGenerator<DataBatch> {
    if (this.closed) throw new DatasetError('the data loader was closed');
    const epoch = this.epochNo;
    const gen = ++this.generation;
    this.batchSampler.setEpoch(epoch);
    const batches = this.batchSampler.batches();
    const pending: Pending[] = [];
    let next = this.position;
    const fill = (): void => {
      while (pending.length <= this.prefetch && next < batches.length) {
        const position = next++;
        const promise = this.makeBatch(batches[position], epoch, position);
        promise.catch(() => undefined); // handled when awaited
        pending.push({ position, promise });
      }
    };
    try {
      fill();
      while (pending.length > 0) {
        const head = pending.shift()!;
        fill();
        const t0 = performance.now();
        const batch = await head.promise;
        this.stats.waitMs += performance.now() - t0;
        if (gen !== this.generation || this.closed) return; // restored / closed meanwhile
        this.position = head.position + 1;
        this.stats.batches++;
        this.stats.samples += batch.indices.length;
        this.onProgress?.({ epoch, position: this.position, length: batches.length });
        yield batch;
        if (gen !== this.generation || this.closed) return;
        fill();
      }
      this.epochNo = epoch + 1;
      this.position = 0;
    } finally {
      pending.length = 0;
    }
  }

  private async makeBatch(global: number[], epoch: number, position: number): Promise<DataBatch> {
    let first = 0;
    let indices = global;
    const sh = this.shard;
    if (sh?.perRank !== undefined) {
      first = Math.min(global.length, sh.rank * sh.perRank);
      indices = global.slice(first, Math.min(global.length, first + sh.perRank));
    } else if (sh) {
      const sizes = shardSizes(global.length, sh.worldSize);
      for (let r = 0; r < sh.rank; r++) first += sizes[r];
      indices = global.slice(first, first + sizes[sh.rank]);
    }
    const samples = await Promise.all(indices.map((idx, k) => this.prepareSlot(idx, epoch, position, first + k)));
    return {
      inputs: samples.map((s) => s.sample.inputs),
      dataSamples: samples.map((s) => s.sample.dataSample),
      indices: samples.map((s) => s.index),
      epoch,
      iter: position,
    };
  }

  private async prepareSlot(index: number, epoch: number, position: number, slot: number): Promise<{ sample: PackedSample; index: number }> {
    const n = this.dataset.length;
    let idx = index;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      let out: unknown | null;
      let failure: unknown;
      try {
        out = await this.runner.prepare(idx, [this.seed, epoch, position, slot, attempt]);
      } catch (e) {
        if (!isSoloError(e)) throw e; // a bug, not bad data
        failure = e;
        out = null;
      } finally {
        this.stats.prepareMs += performance.now() - t0;
      }
      if (out) return { sample: out as PackedSample, index: idx };
      const imgPath = this.safeImgPath(idx);
      if (this.dataset.testMode) {
        if (failure) throw failure;
        throw new DatasetError(`the test pipeline dropped sample ${idx}${imgPath ? ` (${imgPath})` : ''}; test-time pipelines must not return null`);
      }
      const message = failure ? (failure as Error).message : 'the pipeline dropped the sample';
      if (this.stats.failures.length < 100) this.stats.failures.push({ index: idx, imgPath, message, epoch });
      if (attempt >= this.maxRefetch) {
        throw new DatasetError(`cannot find a valid sample after ${this.maxRefetch} refetches (last: sample ${idx}${imgPath ? `, ${imgPath}` : ''}: ${message})`, { cause: failure });
      }
      this.stats.refetches++;
      const another = sampleRng(this.seed, epoch, position, slot, 1000003 + attempt).randint(n);
      this.warn(`warning: sample ${idx}${imgPath ? ` (${imgPath})` : ''} skipped: ${message}; using sample ${another} instead`);
      idx = another;
    }
  }

  private safeImgPath(idx: number): string | undefined {
    try {
      return this.dataset.getDataInfo(idx).imgPath;
    } catch {
      return undefined;
    }
  }

  /** Stop workers and discard pending work. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    await this.runner.close();
  }
}
