// SPDX-License-Identifier: Apache-2.0
/**
 * `DataParallelTrainer`: data-parallel training over `worker_threads` in one process (mmengine / PyTorch DDP
 * semantics, docs/training.md "Data-parallel training").
 *
 * World size N: the main thread is rank 0, ranks 1..N-1 are persistent worker threads, each with its own
 * TensorFlow.js backend (the main thread's: wasm with `threads` XNNPACK threads, or cpu) and its own copy of the
 * model built from the same config. The threads talk through a `SharedMemoryCollective` (the `Collective` interface
 * that MPI processes use too). Per step (`step`, same contract as `trainStep`):
 * 1. the batch (N x the per-worker batch size) is cut into N contiguous shards (`splitBatch`) and each worker is
 *    posted its shard;
 * 2. the main thread broadcasts every trainable parameter (`Collective.broadcast`); every rank copies them into
 *    its variables;
 * 3. every rank runs `syncGradients` (`grad-sync.ts`): forward / backward on its shard, the loss values gathered
 *    on every rank, the gradients averaged in rank order (float64 sums) onto rank 0;
 * 4. a non-finite loss on any rank is a `NonFiniteLossError` naming the (first) rank; otherwise clip_grad and the
 *    optimizer run once on the main thread exactly as in `trainStep`. The logged loss terms are the means over ranks.
 *
 * Non-trainable state (BatchNorm running statistics): `syncState` copies the main thread's whole state dict to
 * every worker (at the start of training, after a resume / load_from and after a non-finite-loss rollback); between
 * syncs every rank updates its own running statistics from its own shard and only rank 0's are checkpointed and
 * used for validation (mmengine's default `broadcast_buffers=False`). Training-mode forwards use batch statistics,
 * so the workers' running statistics never affect a gradient; frozen BN (norm_eval) is never updated anywhere.
 *
 * Workers are unreferenced while idle (an idle trainer never keeps the process alive) and terminated by `close()`;
 * an error in a worker rejects the step with a `SoloError` naming its rank. Under vitest (TypeScript sources) the
 * worker runs `worker-entry.ts` through tsx, as the data loader's workers do.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { pluginImports, type Config } from '@solo-ts/config';
import { resolveWorkerEntry, type WorkerEntry } from '@solo-ts/datasets';
import { applyGradients, NonFiniteLossError, type StepOptions, type StepResult } from '../runner/train-step.js';
import type { DataBatch, ParallelStepper, TrainableDetector } from '../runner/types.js';
import type { RegistryFactoryRef } from '../build/registry-factory.js';
import { encodeBatch, splitBatch } from './batch-codec.js';
import { syncGradients } from './grad-sync.js';
import { makeParamLayout, serializeError, workerError, type FromWorker, type ParamLayout, type StateRecord, type ToWorker, type WorkerInit } from './protocol.js';
import { GROUP_ABORTED, makeSharedMemoryGroup, SharedMemoryCollective, type SharedMemoryGroup } from './shared-memory.js';

export interface DataParallelOptions {
  /** number of ranks, >= 2 (the main thread is rank 0) */
  worldSize: number;
  /** the main thread's model (rank 0) */
  model: TrainableDetector;
  /** the config the model was built from: the workers build theirs from its data and plugins */
  config: Config;
  /** the model's initialisation seed */
  seed: number;
  /** backend of the workers: the main thread's (`wasm` or `cpu`) and WebAssembly threads per worker */
  backend: { name: string; threads: number };
  /** per-worker batch size (for the description line only) */
  batchSize?: number;
  /** the registry factory the workers import and call (the main thread's), before loading the config's plugins */
  registry: RegistryFactoryRef;
}

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (e: unknown) => void;
  during: string;
}

interface Slot {
  rank: number;
  worker: Worker;
  pending: Map<number, Pending>;
  ready: Promise<void>;
  dead?: SoloError;
}

/** Backends whose workers can run in a worker thread of this process. */
export const DATA_PARALLEL_BACKENDS: readonly string[] = ['wasm', 'cpu'];

export class DataParallelTrainer implements ParallelStepper {
  readonly worldSize: number;
  readonly description: string;
  private readonly layout: ParamLayout;
  private readonly vars: tf.Variable[];
  private readonly group: SharedMemoryGroup;
  private readonly comm: SharedMemoryCollective;
  private readonly paramFlat: Float32Array;
  private readonly gradFlat: Float32Array;
  private slots: Slot[] = [];
  private starting?: Promise<void>;
  private closed = false;
  private nextId = 0;

  constructor(private readonly o: DataParallelOptions) {
    const n = o.worldSize;
    if (!Number.isInteger(n) || n < 2) throw new SoloError(`data-parallel training needs at least 2 workers, got ${n}`, { code: 'ARGUMENT' });
    if (!DATA_PARALLEL_BACKENDS.includes(o.backend.name)) {
      throw new SoloError(`data-parallel training runs its workers on the wasm or cpu backend, not ${o.backend.name}`, { code: 'BACKEND', hint: 'use --backend wasm, or --workers 1' });
    }
    if (typeof SharedArrayBuffer === 'undefined') throw new SoloError('data-parallel training needs SharedArrayBuffer', { code: 'BACKEND' });
    const params = o.model.trainableParameters();
    for (const [name, p] of params) {
      if (p.variable.dtype !== 'float32') throw new SoloError(`data-parallel training supports float32 parameters only; ${name} is ${p.variable.dtype}`, { code: 'RUNTIME' });
    }
    this.layout = makeParamLayout(params.map(([name, p]) => [name, { shape: p.shape }]));
    this.vars = params.map(([, p]) => p.variable);
    this.worldSize = n;
    // a region per rank: the gradients and one flag per parameter (the largest operation), or 1 MiB of loss values
    this.group = makeSharedMemoryGroup(n, Math.max((this.layout.total + this.layout.names.length) * 4, 2 ** 20));
    this.comm = new SharedMemoryCollective(this.group, 0);
    this.paramFlat = new Float32Array(this.layout.total);
    this.gradFlat = new Float32Array(this.layout.total + this.layout.names.length);
    const b = o.batchSize;
    const th = o.backend.name === 'wasm' ? `, ${o.backend.threads} thread${o.backend.threads === 1 ? '' : 's'} each` : `, ${o.backend.name} backend`;
    this.description = `data parallel: ${n} workers x batch ${b ?? '?'}${b !== undefined ? ` (total ${b * n})` : ''}${th}`;
  }

  /** Start the worker threads (ranks 1..N-1) and wait until each has built its model. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new SoloError('the data-parallel trainer was closed', { code: 'RUNTIME' }));
    this.starting ??= this.spawn();
    return this.starting;
  }

  private async spawn(): Promise<void> {
    let data: Record<string, unknown>;
    try {
      data = structuredClone(this.o.config.data);
    } catch (e) {
      throw new SoloError(`the config cannot be sent to data-parallel workers: ${(e as Error).message}`, { code: 'CONFIG' });
    }
    const entry = resolveWorkerEntry(import.meta.url, 'worker-entry');
    const base: Omit<WorkerInit, 'rank'> = {
      worldSize: this.worldSize,
      backend: this.o.backend,
      config: { data, filename: this.o.config.filename },
      registry: { module: this.o.registry.module, exportName: this.o.registry.exportName },
      plugins: structuredClone(pluginImports(this.o.config)),
      seed: this.o.seed,
      layout: this.layout,
      group: this.group,
    };
    for (let rank = 1; rank < this.worldSize; rank++) this.slots.push(this.makeSlot(rank, entry, { ...base, rank }));
    try {
      await Promise.all(this.slots.map((s) => s.ready));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private makeSlot(rank: number, entry: WorkerEntry, init: WorkerInit): Slot {
    const worker = new Worker(entry.url, { eval: entry.eval, workerData: init, execArgv: entry.execArgv });
    const slot: Slot = { rank, worker, pending: new Map(), ready: Promise.resolve() };
    const fail = (err: SoloError) => {
      slot.dead ??= err;
      // a peer waiting in a collective operation for this rank would wait forever
      this.comm.abort();
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      worker.unref();
    };
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          worker.unref();
          resolve();
        } else if (m.type === 'init-error') {
          const err = workerError(rank, m.error, 'to start');
          fail(err);
          reject(err);
        } else {
          const p = slot.pending.get(m.id);
          if (!p) return;
          slot.pending.delete(m.id);
          if (slot.pending.size === 0) worker.unref();
          if (m.type === 'error') p.reject(workerError(rank, m.error, p.during));
          else p.resolve(m);
        }
      });
      worker.on('error', (e) => {
        const err = workerError(rank, serializeError(e), 'with an uncaught error');
        fail(err);
        reject(err);
      });
      worker.on('exit', (code) => {
        const err = new SoloError(`data-parallel worker rank ${rank} exited${this.closed ? '' : ` unexpectedly (exit code ${code})`}`, { code: 'RUNTIME' });
        fail(err);
        reject(err);
      });
    });
    slot.ready.catch(() => undefined);
    return slot;
  }

  private request(slot: Slot, msg: ToWorker, during: string, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (slot.dead) return Promise.reject(slot.dead);
    return new Promise((resolve, reject) => {
      slot.pending.set(msg.id, { resolve, reject, during });
      slot.worker.ref();
      slot.worker.postMessage(msg, transfer);
    });
  }

  private async ready(): Promise<void> {
    if (!this.starting) throw new SoloError('DataParallelTrainer.start() was not called', { code: 'RUNTIME' });
    await this.starting;
  }

  /** Copy the main thread's whole state dict (parameters and buffers, our layout) to every worker. */
  async syncState(): Promise<void> {
    await this.ready();
    const records: Array<[string, StateRecord]> = [];
    for (const [name, { tensor }] of this.o.model.stateDict()) {
      if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new SoloError(`cannot send ${name} (${tensor.dtype}) to data-parallel workers`, { code: 'RUNTIME' });
      records.push([name, { dtype: tensor.dtype, shape: [...tensor.shape], data: tensor.dataSync() as Float32Array | Int32Array }]);
    }
    await Promise.all(this.slots.map((s) => this.request(s, { type: 'state', id: this.nextId++, records }, 'to load the model state')));
  }

  /** One step over all ranks (see the module doc). */
  async step(batch: DataBatch, o: StepOptions): Promise<StepResult> {
    await this.ready();
    if (o.params.size !== this.vars.length) throw new SoloError(`step: ${o.params.size} parameters, the trainer has ${this.vars.length}`, { code: 'RUNTIME' });
    // a worker that died cannot join the collective operations of this step
    const dead = this.slots.find((s) => s.dead);
    if (dead) throw dead.dead!;
    const { layout, worldSize: n } = this;
    const shards = splitBatch(batch, n);
    // encode every shard before posting any: a batch that cannot be sent fails the step before it starts
    const encoded = this.slots.map((slot) => encodeBatch(shards[slot.rank]));
    const t0 = performance.now();
    this.vars.forEach((v, i) => this.paramFlat.set(v.dataSync() as Float32Array, layout.offsets[i]));
    const replies = this.slots.map((slot, k) => this.request(slot, { type: 'step', id: this.nextId++, iter: o.iter, checkFinite: o.checkFinite, batch: encoded[k].batch }, `at iteration ${o.iter}`, encoded[k].transfer));
    let own: Awaited<ReturnType<typeof syncGradients>> | undefined;
    let ownError: unknown;
    let tBroadcast = 0;
    try {
      await this.comm.broadcast(this.paramFlat, 0);
      tBroadcast = performance.now() - t0;
      own = await syncGradients(shards[0], { model: o.model, params: o.params, layout, comm: this.comm, iter: o.iter, checkFinite: o.checkFinite, root: 0, flat: this.gradFlat });
    } catch (e) {
      ownError = e;
      // release the workers waiting in a collective operation (a non-finite loss is seen by every rank alike)
      if (!(e instanceof NonFiniteLossError)) this.comm.abort();
    }
    // even when rank 0 failed: the workers must be done with the shared buffers before anything else
    const settled = await Promise.allSettled(replies);
    // every rank is out of the collective operations now: a failed step leaves the group usable
    if (this.comm.aborted) this.comm.reset();
    // the error that caused the abort, rather than the ranks that were merely released by it
    const errors = [...settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : [])), ...(ownError !== undefined ? [ownError] : [])];
    if (errors.length > 0) throw errors.find((e) => !String((e as Error)?.message).includes(GROUP_ABORTED)) ?? errors[0];
    const { grads, terms, timings } = own!;
    const t3 = performance.now();
    const gradNorm = applyGradients(grads!, o);
    const t4 = performance.now();
    const losses: Record<string, tf.Scalar> = {};
    for (const [k, v] of Object.entries(terms)) losses[k] = tf.scalar(v);
    return { losses, gradNorm, timings: { preprocess: timings.preprocess, forwardBackward: timings.forwardBackward, optimizer: t4 - t3, sync: tBroadcast + timings.sync } };
  }

  /** Terminate the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Worker threads still running (tests). */
  get liveWorkers(): number {
    return this.slots.filter((s) => !s.dead).length;
  }
}

/** `--workers auto`: min(cores, 2) (two ranks already use both cores of a small machine; more rarely pay off). */
export function autoWorkers(cores: number): number {
  return Math.max(1, Math.min(cores, 2));
}

/** Parse `--workers`: a positive integer, or `auto` (resolved by `buildRunnerFromConfig`, see `autoWorkers`). */
export function parseWorkers(value: string | undefined): number | 'auto' | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === 'auto') return 'auto';
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) {
    throw new SoloError(`--workers must be a positive integer or auto, got "${value}"`, { code: 'ARGUMENT' });
  }
  return n;
}

/** WebAssembly threads per worker: the option, else max(1, floor(cores / workers)). */
export function threadsPerWorker(threads: number | undefined, workers: number, cores: number): number {
  return threads ?? Math.max(1, Math.floor(cores / workers));
}
