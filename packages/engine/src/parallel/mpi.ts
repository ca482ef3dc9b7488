// SPDX-License-Identifier: Apache-2.0
/**
 * `MpiCollective`: the `Collective` of processes started by an MPI launcher (`mpirun`, `srun`, Kubeflow's MPIJob),
 * on the system's MPI library through koffi (an FFI whose prebuilt binary ships on npm: no compiler needed).
 *
 * The library is found at run time: `SOLO_MPI_LIB` if set, else Open MPI's `libmpi.so.40` or MPICH's
 * `libmpich.so.12` / `libmpi.so.12`, the launcher's family first (`mpiLibraryCandidates`; Debian: `apt-get install openmpi-bin libopenmpi-dev`, or `mpich`). It is
 * loaded with global symbol visibility (Open MPI dlopens its own plugins, which need libmpi's symbols). The two
 * families spell handles differently, hence one small table each: Open MPI's communicators, datatypes and
 * operations are the addresses of exported objects (`ompi_mpi_comm_world`, `ompi_mpi_float`, ...), MPICH's are
 * integer constants (`MPI_COMM_WORLD = 0x44000000`, ...).
 *
 * Calls run through koffi's asynchronous mode (on a thread of koffi's pool, one at a time; MPI is initialised
 * with `MPI_THREAD_SERIALIZED`), so that Node's event loop keeps running while a collective waits for the other
 * ranks: signals, timers and the watchdog still work.
 *
 * Reductions sum the ranks' buffers in rank order in float64 (`orderedSum`): the same bits on every rank and in
 * every run, and the same numbers as the worker-thread path. `allReduce` is a reduce-scatter (`MPI_Alltoallv`:
 * rank r receives slice r of every rank's buffer and sums it) followed by an all-gather of the summed slices
 * (`MPI_Allgatherv`): the traffic of a ring all-reduce. `reduce` gathers the buffers onto the root (`MPI_Gather`).
 * `SOLO_MPI_ALLREDUCE=native` uses `MPI_Allreduce` instead (float32 sums in the library's order, reproducible only
 * as far as the MPI library's algorithm choice is).
 */
import v8 from 'node:v8';
import { SoloError } from '@solo-ts/core';
import { checkRoot, orderedSum, type BroadcastBuffer, type Collective, type ReduceBuffer, type ReduceOptions } from './collective.js';

type Handle = bigint | number;
type KoffiFn = ((...args: unknown[]) => number) & { async: (...args: unknown[]) => void };
interface KoffiLib {
  func(proto: string): KoffiFn;
  symbol(name: string): bigint;
}
interface Koffi {
  load(file: string, o?: { global?: boolean; lazy?: boolean }): KoffiLib;
}

/** The handles of one MPI family. */
interface Family {
  name: string;
  /** C type of a handle in prototypes */
  handle: string;
  comm: Handle;
  byte: Handle;
  int: Handle;
  float: Handle;
  double: Handle;
  sum: Handle;
  inPlace: bigint;
}

const OPEN_MPI_LIBRARIES = ['libmpi.so.40'];
const MPICH_LIBRARIES = ['libmpich.so.12', 'libmpi.so.12'];

/** Library names to try: the launcher's family first (Open MPI sets OMPI_*, MPICH's hydra PMI_*), then the rest. */
export function mpiLibraryCandidates(env: NodeJS.ProcessEnv): string[] {
  const mpichFirst = env.OMPI_COMM_WORLD_SIZE === undefined && env.PMI_SIZE !== undefined;
  return [...(mpichFirst ? [...MPICH_LIBRARIES, ...OPEN_MPI_LIBRARIES] : [...OPEN_MPI_LIBRARIES, ...MPICH_LIBRARIES]), 'libmpi.so', 'libmpich.so'];
}

/** The world size the launcher announced (to catch a library that is not the launcher's: it would see 1 rank). */
function launcherWorldSize(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE ?? env.PMIX_SIZE;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}
const MPI_THREAD_SERIALIZED = 2;
const INSTALL_HINT = 'install an MPI library: Debian/Ubuntu `apt-get install openmpi-bin libopenmpi-dev` (or `mpich`), then launch with `mpirun -np N solo train CONFIG --launcher mpi` or tools/dist_train.sh; SOLO_MPI_LIB=/path/to/libmpi.so picks a library';

function openMpiFamily(lib: KoffiLib): Family {
  const s = (n: string) => lib.symbol(n);
  return { name: 'Open MPI', handle: 'void *', comm: s('ompi_mpi_comm_world'), byte: s('ompi_mpi_byte'), int: s('ompi_mpi_int'), float: s('ompi_mpi_float'), double: s('ompi_mpi_double'), sum: s('ompi_mpi_op_sum'), inPlace: 1n };
}

function mpichFamily(): Family {
  return { name: 'MPICH', handle: 'int', comm: 0x44000000, byte: 0x4c00010d, int: 0x4c000405, float: 0x4c00040a, double: 0x4c00080b, sum: 0x58000003, inPlace: 0xffffffffffffffffn };
}

async function loadKoffi(): Promise<Koffi> {
  try {
    const m = (await import('koffi')) as unknown as { default?: Koffi } & Koffi;
    return m.default ?? m;
  } catch (e) {
    throw new SoloError(`cannot load koffi (the FFI package MPI training calls the MPI library through): ${(e as Error).message}`, { code: 'BACKEND', hint: 'npm install (koffi ships prebuilt binaries for Linux, macOS and Windows)' });
  }
}

function openLibrary(koffi: Koffi): { lib: KoffiLib; file: string; family: Family } {
  const env = process.env.SOLO_MPI_LIB;
  const tried: string[] = [];
  for (const file of env ? [env] : mpiLibraryCandidates(process.env)) {
    let lib: KoffiLib;
    try {
      lib = koffi.load(file, { global: true });
    } catch (e) {
      tried.push(`${file}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    let family: Family;
    try {
      family = openMpiFamily(lib);
    } catch {
      family = mpichFamily();
    }
    return { lib, file, family };
  }
  throw new SoloError(`no MPI library found (tried ${tried.join('; ')})`, { code: 'BACKEND', hint: INSTALL_HINT });
}

/** Where this process sits on its host, from the launcher's environment (MPI has no portable way to say it). */
export function localRankFromEnv(env: NodeJS.ProcessEnv, rank: number, worldSize: number): { localRank: number; localSize: number } {
  // leading digits: Slurm writes SLURM_NTASKS_PER_NODE as `4(x2)` when several nodes have 4
  const int = (v: string | undefined) => (v !== undefined && /^\d+/.test(v) ? parseInt(v, 10) : undefined);
  const pairs: Array<[string, string]> = [
    ['OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_LOCAL_SIZE'], // Open MPI
    ['MPI_LOCALRANKID', 'MPI_LOCALNRANKS'], // MPICH (hydra)
    ['PMI_LOCAL_RANK', 'PMI_LOCAL_SIZE'],
    ['SLURM_LOCALID', 'SLURM_NTASKS_PER_NODE'], // srun
    ['LOCAL_RANK', 'LOCAL_WORLD_SIZE'], // torchrun
  ];
  for (const [r, s] of pairs) {
    const lr = int(env[r]);
    if (lr !== undefined) return { localRank: lr, localSize: int(env[s]) ?? worldSize };
  }
  return { localRank: rank, localSize: worldSize };
}

export class MpiCollective implements Collective {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly localSize: number;
  readonly name: string;
  private readonly f: Family;
  private readonly fn: Record<string, KoffiFn>;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private acc = new Float64Array(0);
  private readonly native = process.env.SOLO_MPI_ALLREDUCE === 'native';

  private constructor(lib: KoffiLib, file: string, family: Family) {
    const H = family.handle;
    const fns: Record<string, string> = {
      initialized: 'int MPI_Initialized(_Out_ int *flag)',
      initThread: 'int MPI_Init_thread(void *argc, void *argv, int required, _Out_ int *provided)',
      rank: `int MPI_Comm_rank(${H} comm, _Out_ int *rank)`,
      size: `int MPI_Comm_size(${H} comm, _Out_ int *size)`,
      version: 'int MPI_Get_library_version(_Out_ char *version, _Out_ int *len)',
      barrier: `int MPI_Barrier(${H} comm)`,
      bcast: `int MPI_Bcast(void *buf, int count, ${H} type, int root, ${H} comm)`,
      allgather: `int MPI_Allgather(void *sendbuf, int sendcount, ${H} sendtype, void *recvbuf, int recvcount, ${H} recvtype, ${H} comm)`,
      allgatherv: `int MPI_Allgatherv(void *sendbuf, int sendcount, ${H} sendtype, void *recvbuf, int *recvcounts, int *displs, ${H} recvtype, ${H} comm)`,
      gather: `int MPI_Gather(void *sendbuf, int sendcount, ${H} sendtype, void *recvbuf, int recvcount, ${H} recvtype, int root, ${H} comm)`,
      alltoallv: `int MPI_Alltoallv(void *sendbuf, int *sendcounts, int *sdispls, ${H} sendtype, void *recvbuf, int *recvcounts, int *rdispls, ${H} recvtype, ${H} comm)`,
      allreduce: `int MPI_Allreduce(void *sendbuf, void *recvbuf, int count, ${H} type, ${H} op, ${H} comm)`,
      abort: `int MPI_Abort(${H} comm, int code)`,
      finalize: 'int MPI_Finalize()',
    };
    this.fn = {};
    for (const [k, proto] of Object.entries(fns)) {
      try {
        this.fn[k] = lib.func(proto);
      } catch (e) {
        throw new SoloError(`${file} does not look like an MPI library (${(e as Error).message})`, { code: 'BACKEND', hint: INSTALL_HINT });
      }
    }
    this.f = family;
    const flag = [0];
    this.fn.initialized(flag);
    if (!flag[0]) {
      const provided = [0];
      this.check(this.fn.initThread(null, null, MPI_THREAD_SERIALIZED, provided), 'MPI_Init_thread');
      if (provided[0] < MPI_THREAD_SERIALIZED) throw new SoloError(`${family.name} (${file}) gives thread level ${provided[0]}, MPI training needs MPI_THREAD_SERIALIZED`, { code: 'BACKEND' });
    }
    const r = [0];
    const s = [0];
    this.check(this.fn.rank(family.comm, r), 'MPI_Comm_rank');
    this.check(this.fn.size(family.comm, s), 'MPI_Comm_size');
    this.rank = r[0];
    this.worldSize = s[0];
    const announced = launcherWorldSize(process.env);
    if (announced !== undefined && announced !== this.worldSize) {
      throw new SoloError(`the launcher started ${announced} ranks but ${family.name} (${file}) sees ${this.worldSize}: the MPI library is not the launcher's`, {
        code: 'BACKEND',
        hint: 'launch with the mpirun of the same MPI (mpirun.openmpi / mpirun.mpich), or set SOLO_MPI_LIB to its libmpi',
      });
    }
    ({ localRank: this.localRank, localSize: this.localSize } = localRankFromEnv(process.env, this.rank, this.worldSize));
    const buf = Buffer.alloc(8192);
    const len = [0];
    this.fn.version(buf, len);
    const version = buf.subarray(0, len[0]).toString('latin1').split('\n')[0].replace(/[,\0].*$/, '').replace(/\s+/g, ' ').trim();
    this.name = `MPI (${version || family.name}, ${file})`;
  }

  /** Initialise MPI in this process (a process started by mpirun / srun / an MPIJob) and join MPI_COMM_WORLD. */
  static async init(): Promise<MpiCollective> {
    const koffi = await loadKoffi();
    const { lib, file, family } = openLibrary(koffi);
    return new MpiCollective(lib, file, family);
  }

  private check(code: number, what: string): void {
    if (code !== 0) throw new SoloError(`${what} failed on rank ${this.rank ?? '?'} (MPI error ${code})`, { code: 'RUNTIME' });
  }

  /** One MPI call at a time (MPI_THREAD_SERIALIZED), off the event loop. */
  private call(name: string, ...args: unknown[]): Promise<void> {
    const run = () =>
      new Promise<void>((resolve, reject) => {
        if (this.closed) {
          reject(new SoloError(`MPI ${name} after the group was closed`, { code: 'RUNTIME' }));
          return;
        }
        this.fn[name].async(...args, (err: unknown, code: number) => {
          if (err) reject(err as Error);
          else if (code !== 0) reject(new SoloError(`MPI_${name} failed on rank ${this.rank} (MPI error ${code})`, { code: 'RUNTIME' }));
          else resolve();
        });
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private type(buf: ArrayBufferView): Handle {
    if (buf instanceof Float32Array) return this.f.float;
    if (buf instanceof Float64Array) return this.f.double;
    if (buf instanceof Int32Array) return this.f.int;
    return this.f.byte;
  }

  async allReduce(buf: ReduceBuffer, o: ReduceOptions = {}): Promise<void> {
    if (this.native) {
      await this.call('allreduce', this.f.inPlace, buf, buf.length, this.type(buf), this.f.sum, this.f.comm);
      if ((o.op ?? 'sum') === 'mean') {
        const scale = 1 / (o.divisor ?? this.worldSize);
        for (let j = 0; j < buf.length; j++) buf[j] *= scale;
      }
      return;
    }
    // reduce-scatter then all-gather, both by hand: rank r sums slice r of every rank's buffer in rank order
    // (MPI_Alltoallv brings it the slices), then every rank gets every summed slice (MPI_Allgatherv)
    const W = this.worldSize;
    const n = buf.length;
    const counts = new Int32Array(W);
    const displs = new Int32Array(W);
    for (let r = 0, off = 0; r < W; r++) {
      counts[r] = Math.floor(n / W) + (r < n % W ? 1 : 0);
      displs[r] = off;
      off += counts[r];
    }
    const mine = counts[this.rank];
    const Ctor = buf.constructor as new (n: number) => ReduceBuffer;
    const parts = new Ctor(mine * W);
    const recvCounts = new Int32Array(W).fill(mine);
    const recvDispls = Int32Array.from({ length: W }, (_, q) => q * mine);
    const type = this.type(buf);
    await this.call('alltoallv', buf, counts, displs, type, parts, recvCounts, recvDispls, type, this.f.comm);
    this.sumParts(buf.subarray(displs[this.rank], displs[this.rank] + mine), parts, o);
    await this.call('allgatherv', this.f.inPlace, 0, type, buf, counts, displs, type, this.f.comm);
  }

  async reduce(buf: ReduceBuffer, o: ReduceOptions & { root?: number } = {}): Promise<void> {
    const root = o.root ?? 0;
    checkRoot(root, this.worldSize);
    const Ctor = buf.constructor as new (n: number) => ReduceBuffer;
    const all = this.rank === root ? new Ctor(buf.length * this.worldSize) : null;
    await this.call('gather', buf, buf.length, this.type(buf), all, buf.length, this.type(buf), root, this.f.comm);
    if (all) this.sumParts(buf, all, o);
  }

  private sumParts(buf: ReduceBuffer, all: ReduceBuffer, o: ReduceOptions): void {
    if (this.acc.length < buf.length) this.acc = new Float64Array(buf.length);
    const n = buf.length;
    orderedSum(buf, this.worldSize, (r) => all.subarray(r * n, (r + 1) * n), o, this.acc);
  }

  async broadcast(buf: BroadcastBuffer, root = 0): Promise<void> {
    checkRoot(root, this.worldSize);
    await this.call('bcast', buf, buf.length, this.type(buf), root, this.f.comm);
  }

  barrier(): Promise<void> {
    return this.call('barrier', this.f.comm);
  }

  async allGather<T>(value: T): Promise<T[]> {
    const bytes = v8.serialize(value);
    const sizes = new Int32Array(this.worldSize);
    await this.call('allgather', new Int32Array([bytes.length]), 1, this.f.int, sizes, 1, this.f.int, this.f.comm);
    const displs = new Int32Array(this.worldSize);
    let total = 0;
    for (let r = 0; r < this.worldSize; r++) {
      displs[r] = total;
      total += sizes[r];
    }
    const recv = Buffer.alloc(total);
    await this.call('allgatherv', bytes, bytes.length, this.f.byte, recv, sizes, displs, this.f.byte, this.f.comm);
    return Array.from(sizes, (n, r) => v8.deserialize(recv.subarray(displs[r], displs[r] + n)) as T);
  }

  async broadcastObject<T>(value: T, root = 0): Promise<T> {
    checkRoot(root, this.worldSize);
    const bytes = this.rank === root ? v8.serialize(value) : null;
    const size = new Int32Array([bytes?.length ?? 0]);
    await this.broadcast(size, root);
    const buf = bytes ?? Buffer.alloc(size[0]);
    await this.call('bcast', buf, size[0], this.f.byte, root, this.f.comm);
    return this.rank === root ? value : (v8.deserialize(buf) as T);
  }

  /** End every rank of the job at once (MPI_Abort): after an error on this rank that the others cannot see. */
  abort(code = 1): void {
    this.fn.abort(this.f.comm, code);
  }

  /** MPI_Finalize (idempotent; waits for the call in flight). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    this.check(this.fn.finalize(), 'MPI_Finalize');
  }
}
