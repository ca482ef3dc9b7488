// SPDX-License-Identifier: Apache-2.0
/**
 * Distributed data-parallel training across processes on MPI (`mpirun -np 2 solo train --launcher mpi`, as
 * tools/dist_train.sh starts it), with the tiny SOLOv2 on a tiny shapes dataset:
 * - 2 ranks x batch 4 give the losses of one process with a batch of 8 split the same way (the worker-thread
 *   path, `--workers 2`: the same global batches, the same per-rank loss normalisation as mmdetection's DDP);
 * - a run resumed from a distributed checkpoint continues the losses of the uninterrupted run;
 * - a killed rank stops the job within seconds with a message naming the rank, and the last checkpoint loads.
 *
 * Needs `mpirun` (Open MPI or MPICH). Without it the tests are skipped with a message, except in CI (`CI` set),
 * where `.ci/run` installs Open MPI and a missing mpirun fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnyCheckpoint, readLastCheckpoint } from '@solo-ts/checkpoint';
import { dataOptions, exited, iterationLosses, makeTinyData, REPO_ROOT, spawnSolo, tmpDir, TINY_CONFIG, waitFor } from './helpers.js';

const MPIRUN = process.env.MPIRUN ?? 'mpirun';
const hasMpirun = spawnSync(MPIRUN, ['--version'], { stdio: 'ignore' }).status === 0;
const isOpenMpi = hasMpirun && /Open MPI/.test(spawnSync(MPIRUN, ['--version'], { encoding: 'utf8' }).stdout ?? '');
if (!hasMpirun) {
  if (process.env.CI) throw new Error(`${MPIRUN} not found: CI must install Open MPI (.ci/run)`);
  console.warn(`skipping the MPI tests: ${MPIRUN} not found (apt-get install openmpi-bin libopenmpi-dev)`);
}

let root: string;
let data: string;

beforeAll(async () => {
  if (!hasMpirun) return;
  root = tmpDir('mpi');
  data = await makeTinyData(path.join(root, 'data'), 16, 3);
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const rankCommand = (args: string[]) => [process.execPath, '--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, 'test', 'cli', 'solo-source.ts'), 'train', TINY_CONFIG, '--launcher', 'mpi', ...args];

/** `mpirun -np N solo train TINY --launcher mpi ARGS` from the TypeScript sources (`perRank`: one command per rank). */
function mpiTrain(n: number, args: string[], perRank?: string[][]) {
  const launcher = isOpenMpi ? ['--oversubscribe', '--bind-to', 'none', ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : [])] : [];
  const commands = perRank ? perRank.flatMap((a, r) => [...(r ? [':'] : []), '-np', '1', ...rankCommand(a)]) : ['-np', String(n), ...rankCommand(args)];
  const child = spawn(MPIRUN, [...launcher, ...commands], {
    cwd: REPO_ROOT,
    env: { ...process.env, SOLO_DEBUG: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  return Object.assign(child, { output: () => out });
}

const common = () => ['--backend', 'wasm', '--threads', '1', '--no-validate', '--cfg-options', 'train_dataloader.batch_size=4', ...dataOptions(data)];

describe.skipIf(!hasMpirun)('MpiCollective', () => {
  it('3 ranks: allReduce / reduce give the ordered float64 sums bit for bit on every rank; broadcasts and gathers', async () => {
    const launcher = isOpenMpi ? ['--oversubscribe', '--bind-to', 'none', ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : [])] : [];
    const job = spawn(MPIRUN, [...launcher, '-np', '3', process.execPath, '--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, 'test', 'engine', 'fixtures', 'mpi-collective.ts')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    job.stdout.on('data', (d) => (out += String(d)));
    job.stderr.on('data', (d) => (out += String(d)));
    const r = await exited(job, 60_000);
    expect(r.code, out).toBe(0);
    const line = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { worldSize: number; name: string; checks: Array<Record<string, boolean>> };
    expect(line.worldSize).toBe(3);
    expect(line.name).toMatch(/^MPI \(/);
    for (const c of line.checks) expect(c).toEqual({ allReduce: true, reduce: true, broadcast: true, object: true, gather: true });
  }, 90_000);
});

describe.skipIf(!hasMpirun)('distributed training on MPI', () => {
  it('2 ranks x batch 4 give the losses of one process with batch 8 (same split), and a resumed run continues them', async () => {
    const dist = path.join(root, 'dist');
    const a = mpiTrain(2, ['--work-dir', dist, '--max-iters', '4', ...common()]);
    const threads = spawnSolo(['train', TINY_CONFIG, '--workers', '2', '--work-dir', path.join(root, 'threads'), '--max-iters', '4', ...common()]);
    const [ra, rt] = await Promise.all([exited(a, 180_000), exited(threads, 180_000)]);
    expect(ra.code, a.output()).toBe(0);
    expect(rt.code, threads.output()).toBe(0);
    expect(a.output()).toMatch(/distributed data parallel: world size 2 \(2 on this host\) x batch 4 \(total 8\)/);
    const d = iterationLosses(dist);
    const t = iterationLosses(path.join(root, 'threads'));
    expect([...d.keys()]).toEqual([1, 2, 3, 4]);
    for (const i of [1, 2, 3, 4]) expect(d.get(i)).toBeCloseTo(t.get(i)!, 5);
    // rank 0 alone wrote: one log directory, checkpoints every 2 iterations
    expect(fs.readdirSync(dist).filter((f) => /^\d{8}_\d{6}$/.test(f))).toHaveLength(1);
    expect(fs.existsSync(path.join(dist, 'iter_2.safetensors'))).toBe(true);

    // resume from iteration 2 in another work dir: iterations 3 and 4 as in the uninterrupted run
    const resumed = path.join(root, 'resumed');
    const b = mpiTrain(2, ['--work-dir', resumed, '--resume', path.join(dist, 'iter_2.safetensors'), '--max-iters', '2', ...common()]);
    const rb = await exited(b, 180_000);
    expect(rb.code, b.output()).toBe(0);
    const r = iterationLosses(resumed);
    expect([...r.keys()]).toEqual([3, 4]);
    for (const i of [3, 4]) expect(r.get(i)).toBeCloseTo(d.get(i)!, 5);
  }, 400_000);

  it('a killed rank stops every rank within seconds, naming it; the last checkpoint stays valid', async () => {
    const work = path.join(root, 'killed');
    const job = mpiTrain(2, ['--work-dir', work, '--max-iters', '200', ...common()]);
    try {
      await waitFor(() => /Saved checkpoint .*iter_2\.safetensors/.test(job.output()) || job.exitCode !== null, 180_000);
      expect(job.exitCode, job.output()).toBeNull();
      // the rank-1 process: a descendant of mpirun whose environment says so
      const rank1 = findRank(job.pid!, 1);
      expect(rank1, 'rank 1 process').toBeDefined();
      process.kill(rank1!, 'SIGKILL');
      const t0 = Date.now();
      const r = await exited(job, 60_000);
      const seconds = (Date.now() - t0) / 1000;
      expect(r.code === 0 && r.signal === null, job.output()).toBe(false);
      expect(seconds).toBeLessThan(20);
      expect(job.output()).toMatch(/rank 1\b/);
    } finally {
      job.kill('SIGKILL');
    }
    const last = await readLastCheckpoint(work);
    expect(last).toBeDefined();
    const ck = await loadAnyCheckpoint(last!);
    expect(ck.stateDict.size).toBeGreaterThan(10);
  }, 300_000);
});

describe.skipIf(!hasMpirun)('distributed training on MPI: errors', () => {
  it('an error on one rank ends the job within seconds, the message naming the rank', async () => {
    // rank 1's training images are missing: its loader gives up, the others wait for it in a collective
    const broken = path.join(root, 'broken');
    fs.cpSync(data, broken, { recursive: true });
    for (const f of fs.readdirSync(path.join(broken, 'train'))) fs.rmSync(path.join(broken, 'train', f));
    const args = (dataRoot: string) => ['--work-dir', path.join(root, 'broken-run'), '--max-iters', '20', ...common(), `train_dataloader.dataset.data_root=${dataRoot}/`];
    const job = mpiTrain(2, [], [args(data), args(broken)]);
    const r = await exited(job, 120_000);
    expect(r.code, job.output()).not.toBe(0);
    expect(job.output()).toMatch(/error: rank 1 of 2: cannot find a valid sample/);
  }, 150_000);
});

/** The pid of the process of MPI rank `rank` under `parent` (its environment names the rank). */
function findRank(parent: number, rank: number): number | undefined {
  const children = (pid: number): number[] => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const queue = [parent];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const c of children(pid)) {
      try {
        const env = fs.readFileSync(`/proc/${c}/environ`, 'utf8').split('\0');
        if (env.includes(`OMPI_COMM_WORLD_RANK=${rank}`) || env.includes(`PMI_RANK=${rank}`)) return c;
      } catch {
        // gone
      }
      queue.push(c);
    }
  }
  return undefined;
}
