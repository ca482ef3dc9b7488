// SPDX-License-Identifier: Apache-2.0
/**
 * The collective-communication interface of data-parallel training (what torch.distributed offers mmengine):
 * every rank of a group calls the same operations in the same order. Two implementations:
 * - `SharedMemoryCollective` (`shared-memory.ts`): the threads of one process (`--workers N`), over
 *   `SharedArrayBuffer`s and `Atomics`;
 * - `MpiCollective` (`mpi.ts`): processes on one or several hosts (`--launcher mpi`), over the system's MPI
 *   library (Open MPI or MPICH) through koffi.
 *
 * Reductions are reproducible: `allReduce` / `reduce` sum the ranks' buffers in rank order in float64 and round
 * once (`orderedSum`), so the result is the same bits on every rank and in every run, whatever the arrival order.
 * `mean` multiplies the float64 sum by `1 / divisor` (default: the world size), the divisor being the number of
 * ranks that contributed (a rank with an empty shard contributes zeros).
 *
 * Objects (`allGather`, `broadcastObject`) travel as V8 structured-serialisation bytes (`node:v8`): plain objects,
 * arrays, typed arrays, numbers, strings, `Map`s; not functions or class instances.
 */
import { SoloError } from '@solo-ts/core';

export type ReduceOp = 'sum' | 'mean';

export interface ReduceOptions {
  /** default `sum` */
  op?: ReduceOp;
  /** `mean` divides by this (default: the world size) */
  divisor?: number;
}

/** A float buffer a reduction works on in place. */
export type ReduceBuffer = Float32Array | Float64Array;
/** A buffer `broadcast` copies from the root into every rank's. */
export type BroadcastBuffer = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface Collective {
  /** this rank, 0..worldSize-1 */
  readonly rank: number;
  readonly worldSize: number;
  /** rank among the ranks of this host (one GPU / a share of the cores per local rank) */
  readonly localRank: number;
  /** ranks on this host */
  readonly localSize: number;
  /** for logs, e.g. `shared memory` or `MPI (Open MPI 4.1.4)` */
  readonly name: string;
  /** Every rank ends with the reduction of all ranks' `buf` (same length on every rank). */
  allReduce(buf: ReduceBuffer, o?: ReduceOptions): Promise<void>;
  /** Rank `root` ends with the reduction; the others' `buf` is left as it was. */
  reduce(buf: ReduceBuffer, o?: ReduceOptions & { root?: number }): Promise<void>;
  /** Every rank's `buf` becomes rank `root`'s (same length and type on every rank). */
  broadcast(buf: BroadcastBuffer, root?: number): Promise<void>;
  /** Resolves once every rank has called it. */
  barrier(): Promise<void>;
  /** Every rank's `value`, in rank order, on every rank. */
  allGather<T>(value: T): Promise<T[]>;
  /** Rank `root`'s `value` on every rank (the others' argument is ignored). */
  broadcastObject<T>(value: T, root?: number): Promise<T>;
  /** Release the group (idempotent). */
  close(): Promise<void>;
}

/**
 * `out[j] = round32(sum over ranks r in order of part(r)[j]) (x 1/divisor for mean)`, summed in float64.
 * `part(r)` is rank r's buffer (length >= out.length).
 */
export function orderedSum(out: ReduceBuffer, worldSize: number, part: (rank: number) => ArrayLike<number>, o: ReduceOptions = {}, acc = new Float64Array(out.length)): void {
  const n = out.length;
  acc.fill(0, 0, n);
  for (let r = 0; r < worldSize; r++) {
    const p = part(r);
    for (let j = 0; j < n; j++) acc[j] += p[j];
  }
  if ((o.op ?? 'sum') === 'mean') {
    const divisor = o.divisor ?? worldSize;
    if (!(divisor > 0)) throw new SoloError(`a mean reduction needs a positive divisor, got ${divisor}`, { code: 'RUNTIME' });
    const scale = 1 / divisor;
    for (let j = 0; j < n; j++) out[j] = acc[j] * scale;
  } else {
    for (let j = 0; j < n; j++) out[j] = acc[j];
  }
}

/** Check a root rank argument. */
export function checkRoot(root: number, worldSize: number): void {
  if (!Number.isInteger(root) || root < 0 || root >= worldSize) throw new SoloError(`root rank ${root} is not in 0..${worldSize - 1}`, { code: 'RUNTIME' });
}
