// SPDX-License-Identifier: Apache-2.0
/**
 * Time of the gradient reduction alone (no training): `allReduce` (mean) of a float32 buffer of N floats (default
 * the demo model's trainable parameters + one flag each: 1,158,933 + 130), median of R repetitions after a barrier,
 * over both `Collective` implementations with 2 ranks:
 *
 *   node tools/bench_collective.mjs shm                                            # 2 worker threads, shared memory
 *   mpirun -np 2 --oversubscribe node tools/bench_collective.mjs mpi               # 2 MPI processes (add --allow-run-as-root as root)
 *   SOLO_MPI_ALLREDUCE=native mpirun -np 2 --oversubscribe node tools/bench_collective.mjs mpi
 *
 * Environment: N (floats), R (repetitions, default 20). After `npm run build`. tools/bench_dist.sh runs all three.
 */
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { makeSharedMemoryGroup, MpiCollective, SharedMemoryCollective } from '@solo-ts/engine';

const N = Number(process.env.N ?? 1_158_933 + 130);
const R = Number(process.env.R ?? 20);

async function timeIt(comm) {
  const buf = new Float32Array(N).fill(comm.rank + 1);
  const times = [];
  for (let i = 0; i < R + 2; i++) {
    buf.fill(comm.rank + 1);
    await comm.barrier();
    const t0 = performance.now();
    await comm.allReduce(buf, { op: 'mean' });
    times.push(performance.now() - t0);
  }
  if (Math.abs(buf[N - 1] - (comm.worldSize + 1) / 2) > 1e-6) throw new Error(`wrong result ${buf[N - 1]}`);
  const s = times.slice(2).sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
}

const mode = process.argv[2] ?? 'shm';
if (mode === 'mpi') {
  const comm = await MpiCollective.init();
  const ms = await timeIt(comm);
  const all = await comm.allGather(ms);
  if (comm.rank === 0) console.log(`${comm.name}${process.env.SOLO_MPI_ALLREDUCE === 'native' ? ' MPI_Allreduce' : ' reduce-scatter + all-gather, ordered float64 sums'}: ${comm.worldSize} ranks, ${N} floats (${((N * 4) / 2 ** 20).toFixed(1)} MiB): allReduce median ${all.map((x) => x.toFixed(1)).join(' / ')} ms`);
  await comm.close();
} else if (isMainThread) {
  const group = makeSharedMemoryGroup(2, N * 4);
  const other = new Worker(new URL(import.meta.url), { workerData: group, argv: ['shm'] });
  // listen before the worker can answer (an event without a listener is lost)
  const answer = new Promise((resolve) => other.once('message', resolve));
  const ms = await timeIt(new SharedMemoryCollective(group, 0));
  const theirs = await answer;
  console.log(`shared memory (worker threads): 2 ranks, ${N} floats (${((N * 4) / 2 ** 20).toFixed(1)} MiB): allReduce median ${ms.toFixed(1)} / ${theirs.toFixed(1)} ms`);
  await other.terminate();
} else {
  const { parentPort } = await import('node:worker_threads');
  parentPort.postMessage(await timeIt(new SharedMemoryCollective(workerData, 1)));
}
