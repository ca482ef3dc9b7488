// SPDX-License-Identifier: Apache-2.0
/**
 * Distributed data-parallel training across processes (mmengine's `MMDistributedDataParallel` over
 * torch.distributed; here over a `Collective`, MPI in practice): one process per rank, each a whole runner with its
 * own backend, model, optimizer and loaders, on one or several hosts.
 *
 * - `launcherEnv` reads who this process is from the launcher's environment (`--launcher mpi`: Open MPI's
 *   `OMPI_COMM_WORLD_*`, MPICH / PMI's `PMI_*`, Slurm's `SLURM_*`; the MPI library is then the authority) and
 *   `initDistributed` joins the group (`MpiCollective.init`).
 * - `DistributedDataParallel` is the runner's `ParallelStepper`: each rank's loader yields its shard of every
 *   global batch (`DataLoader` option `shard`), `step` runs `syncGradients` with the averaged gradients on every
 *   rank, then every rank applies the same optimizer update, so the weights stay identical (bit for bit: the same
 *   averaged float32 gradients on every rank). `syncState` broadcasts rank 0's parameters and buffers to every rank
 *   (at the start, after a resume or load_from, after a rollback).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { applyGradients, type StepOptions, type StepResult } from '../runner/train-step.js';
import type { DataBatch, ParallelStepper, TrainableDetector } from '../runner/types.js';
import type { Collective } from './collective.js';
import { syncGradients } from './grad-sync.js';
import { makeParamLayout, type ParamLayout } from './protocol.js';
import { MpiCollective } from './mpi.js';

export type Launcher = 'none' | 'mpi' | 'pytorch' | 'slurm';

export const LAUNCHERS: readonly Launcher[] = ['none', 'mpi', 'pytorch', 'slurm'];

/** Parse `--launcher`. */
export function parseLauncher(value: string | undefined): Launcher {
  const v = (value ?? 'none').trim();
  if (!(LAUNCHERS as readonly string[]).includes(v)) throw new SoloError(`--launcher must be one of ${LAUNCHERS.join(', ')}, got "${value}"`, { code: 'ARGUMENT' });
  return v as Launcher;
}

/** Whether the environment says this process was started by an MPI launcher (or srun) with more than one rank. */
export function launchedByMpi(env: NodeJS.ProcessEnv = process.env): boolean {
  const size = env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE ?? env.PMIX_SIZE ?? env.SLURM_NTASKS;
  return size !== undefined && Number(size) > 1;
}

/**
 * Join the process group of `launcher` (`none`: undefined, one process). `mpi` and `slurm` initialise MPI (srun
 * must start the processes with an MPI-aware plugin: `srun --mpi=pmix`). `pytorch` (torchrun's `RANK`,
 * `WORLD_SIZE`, `MASTER_ADDR`) is refused: torchrun starts processes without an MPI communicator and a group
 * would need a transport of its own.
 */
export async function initDistributed(launcher: Launcher): Promise<Collective | undefined> {
  if (launcher === 'none') return undefined;
  if (launcher === 'pytorch') {
    throw new SoloError('--launcher pytorch is not supported: torchrun starts processes without an MPI communicator, and solo-ts runs its collectives on MPI', {
      code: 'ARGUMENT',
      hint: 'start the processes with mpirun (tools/dist_train.sh CONFIG N), srun --mpi=pmix or an MPIJob, and pass --launcher mpi',
    });
  }
  return MpiCollective.init();
}

export interface DistributedOptions {
  comm: Collective;
  model: TrainableDetector;
  /** per-rank batch size (description only) */
  batchSize: number;
  /** the backend of this rank, for the description */
  backend: string;
}

export class DistributedDataParallel implements ParallelStepper {
  readonly worldSize: number;
  readonly description: string;
  private readonly layout: ParamLayout;
  private flat?: Float32Array;

  constructor(private readonly o: DistributedOptions) {
    const params = o.model.trainableParameters();
    for (const [name, p] of params) {
      if (p.variable.dtype !== 'float32') throw new SoloError(`distributed training supports float32 parameters only; ${name} is ${p.variable.dtype}`, { code: 'RUNTIME' });
    }
    this.layout = makeParamLayout(params.map(([name, p]) => [name, { shape: p.shape }]));
    this.worldSize = o.comm.worldSize;
    const c = o.comm;
    this.description = `distributed data parallel: world size ${c.worldSize} (${c.localSize} on this host) x batch ${o.batchSize} (total ${o.batchSize * c.worldSize}), ${c.name}; rank 0 backend ${o.backend}`;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Rank 0's parameters and buffers onto every rank (one broadcast per dtype). */
  async syncState(): Promise<void> {
    const { comm, model } = this.o;
    const state = [...model.stateDict()];
    const names = state.map(([n, { tensor }]) => `${n}:${tensor.dtype}:${tensor.shape.join('x')}`);
    const root = await comm.broadcastObject(names, 0);
    if (root.length !== names.length || root.some((n, i) => n !== names[i])) {
      const i = root.findIndex((n, k) => n !== names[k]);
      throw new SoloError(`rank ${comm.rank} has another model state than rank 0 (first difference: ${names[i] ?? '-'} vs ${root[i] ?? '-'}); every rank must build the same config`, { code: 'RUNTIME' });
    }
    for (const dtype of ['float32', 'int32'] as const) {
      const entries = state.filter(([, { tensor }]) => tensor.dtype === dtype);
      const total = entries.reduce((a, [, { tensor }]) => a + tensor.size, 0);
      if (total === 0) continue;
      const flat = dtype === 'float32' ? new Float32Array(total) : new Int32Array(total);
      let off = 0;
      for (const [, { tensor }] of entries) {
        flat.set(tensor.dataSync() as Float32Array & Int32Array, off);
        off += tensor.size;
      }
      await comm.broadcast(flat, 0);
      if (comm.rank === 0) continue;
      const loaded = new Map<string, tf.Tensor>();
      off = 0;
      for (const [name, { tensor }] of entries) {
        loaded.set(name, tf.tensor(flat.slice(off, off + tensor.size), tensor.shape, dtype));
        off += tensor.size;
      }
      try {
        model.loadStateDict(loaded, { strict: false, torchLayout: false, source: 'rank 0' });
      } finally {
        tf.dispose([...loaded.values()]);
      }
    }
  }

  /** One step: this rank's shard, gradients averaged over all ranks, the same update on every rank. */
  async step(shard: DataBatch, o: StepOptions): Promise<StepResult> {
    const { layout } = this;
    this.flat ??= new Float32Array(layout.total + layout.names.length);
    const r = await syncGradients(shard, { model: o.model, params: o.params, layout, comm: this.o.comm, iter: o.iter, checkFinite: o.checkFinite, root: 'all', flat: this.flat });
    const t0 = performance.now();
    const gradNorm = applyGradients(r.grads!, o);
    const optimizer = performance.now() - t0;
    const losses: Record<string, tf.Scalar> = {};
    for (const [k, v] of Object.entries(r.terms)) losses[k] = tf.scalar(v);
    return { losses, gradNorm, timings: { preprocess: r.timings.preprocess, forwardBackward: r.timings.forwardBackward, optimizer, sync: r.timings.sync } };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
