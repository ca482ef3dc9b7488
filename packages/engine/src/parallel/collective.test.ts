// SPDX-License-Identifier: Apache-2.0
/**
 * The shared-memory `Collective` (two ranks driven from one thread: every operation is awaited on both at once):
 * reductions in rank order in float64 with one rounding, broadcast, gathers, abort and reset.
 */
import { describe, expect, it } from 'vitest';
import { isSoloError, type SoloError } from '@solo-ts/core';
import { orderedSum } from './collective.js';
import { localRankFromEnv, MpiCollective, mpiLibraryCandidates } from './mpi.js';
import { GROUP_ABORTED, makeSharedMemoryGroup, SharedMemoryCollective } from './shared-memory.js';

function pair(bytes = 1024): [SharedMemoryCollective, SharedMemoryCollective] {
  const g = makeSharedMemoryGroup(2, bytes);
  return [new SharedMemoryCollective(g, 0), new SharedMemoryCollective(g, 1)];
}

describe('orderedSum', () => {
  it('sums in float64 in rank order and rounds once; mean multiplies by 1 / divisor', () => {
    const parts = [new Float32Array([1, 2 ** 24, 0.1]), new Float32Array([2 ** -30, 1, 0.2]), new Float32Array([0, -(2 ** 24), 0.3])];
    const out = new Float32Array(3);
    orderedSum(out, 3, (r) => parts[r]);
    // float32 step by step would give 1 and 0 for the first two
    expect([...out]).toEqual([Math.fround(1 + 2 ** -30), 1, Math.fround(Math.fround(0.1) + Math.fround(0.2) + Math.fround(0.3))]);
    orderedSum(out, 3, (r) => parts[r], { op: 'mean', divisor: 2 });
    expect(out[1]).toBe(0.5);
  });
});

describe('SharedMemoryCollective', () => {
  it('allReduce / reduce / broadcast / allGather / broadcastObject / barrier', async () => {
    const [a, b] = pair();
    const xa = new Float32Array([1, 2, 3]);
    const xb = new Float32Array([3, 4, 5]);
    await Promise.all([a.allReduce(xa, { op: 'mean' }), b.allReduce(xb, { op: 'mean' })]);
    expect([...xa]).toEqual([2, 3, 4]);
    expect([...xb]).toEqual([2, 3, 4]);
    const ya = new Float64Array([1, 1]);
    const yb = new Float64Array([2, 2]);
    await Promise.all([a.reduce(ya, { root: 1 }), b.reduce(yb, { root: 1 })]);
    expect([...ya]).toEqual([1, 1]);
    expect([...yb]).toEqual([3, 3]);
    const za = new Int32Array([7, 8]);
    const zb = new Int32Array(2);
    await Promise.all([a.broadcast(za, 0), b.broadcast(zb, 0)]);
    expect([...zb]).toEqual([7, 8]);
    const g = await Promise.all([a.allGather({ r: 0, v: new Float32Array([0.5]) }), b.allGather({ r: 1, v: new Float32Array([1.5]) })]);
    expect(g[0]).toEqual(g[1]);
    expect(g[0].map((x) => x.r)).toEqual([0, 1]);
    expect(g[1][1].v).toBeInstanceOf(Float32Array);
    const o = await Promise.all([a.broadcastObject({ seed: 3 }, 0), b.broadcastObject(undefined, 0)]);
    expect(o).toEqual([{ seed: 3 }, { seed: 3 }]);
    await Promise.all([a.barrier(), b.barrier()]);
  });

  it('abort releases a waiting rank with an error naming the aborting rank; reset makes the group usable again', async () => {
    const [a, b] = pair();
    const waiting = a.barrier();
    b.abort();
    await expect(waiting).rejects.toThrow(`${GROUP_ABORTED} (by rank 1); rank 0 stops`);
    await expect(b.barrier()).rejects.toThrow(GROUP_ABORTED);
    a.reset();
    const x = new Float32Array([1]);
    await Promise.all([a.allReduce(x), b.allReduce(new Float32Array([2]))]);
    expect(x[0]).toBe(3);
  });

  it('an operation larger than the region is an error', async () => {
    const [a] = pair(16);
    await expect(a.allReduce(new Float32Array(8))).rejects.toThrow(/does not fit the shared region of 16 bytes/);
  });
});

describe('MPI discovery', () => {
  it('no MPI library: an error that says what to install', async () => {
    const before = process.env.SOLO_MPI_LIB;
    process.env.SOLO_MPI_LIB = '/nonexistent/libmpi.so';
    try {
      const err = (await MpiCollective.init().catch((e: unknown) => e)) as SoloError;
      expect(isSoloError(err)).toBe(true);
      expect(err.message).toMatch(/^no MPI library found \(tried \/nonexistent\/libmpi\.so: /);
      expect(err.hint).toMatch(/apt-get install openmpi-bin libopenmpi-dev/);
    } finally {
      if (before === undefined) delete process.env.SOLO_MPI_LIB;
      else process.env.SOLO_MPI_LIB = before;
    }
  });

  it("the launcher's MPI family is tried first (Open MPI: OMPI_*, MPICH's hydra: PMI_*)", () => {
    expect(mpiLibraryCandidates({ OMPI_COMM_WORLD_SIZE: '2' })[0]).toBe('libmpi.so.40');
    expect(mpiLibraryCandidates({ PMI_SIZE: '2', PMI_RANK: '0' })[0]).toBe('libmpich.so.12');
    expect(mpiLibraryCandidates({})[0]).toBe('libmpi.so.40');
  });

  it('the local rank comes from the launcher (Open MPI, MPICH, Slurm, torchrun), else the rank on one host', () => {
    expect(localRankFromEnv({ OMPI_COMM_WORLD_LOCAL_RANK: '1', OMPI_COMM_WORLD_LOCAL_SIZE: '4' }, 5, 8)).toEqual({ localRank: 1, localSize: 4 });
    expect(localRankFromEnv({ MPI_LOCALRANKID: '2', MPI_LOCALNRANKS: '3' }, 5, 6)).toEqual({ localRank: 2, localSize: 3 });
    expect(localRankFromEnv({ SLURM_LOCALID: '0', SLURM_NTASKS_PER_NODE: '4(x2)' }, 4, 8)).toEqual({ localRank: 0, localSize: 4 });
    expect(localRankFromEnv({ LOCAL_RANK: '3', LOCAL_WORLD_SIZE: '4' }, 3, 4)).toEqual({ localRank: 3, localSize: 4 });
    expect(localRankFromEnv({}, 1, 2)).toEqual({ localRank: 1, localSize: 2 });
  });
});
