// SPDX-License-Identifier: Apache-2.0
/**
 * `SharedMemoryCollective`: the `Collective` of the threads of one process (data-parallel worker threads).
 *
 * The group (`SharedMemoryGroup`, made once by the main thread and handed to every thread) is a control block of
 * four int32 (barrier count, barrier generation, aborted flag, aborting rank + 1) and one region of
 * `regionBytes` per rank. Every operation is: each rank writes its contribution into its own region, a barrier,
 * each rank reads what it needs, a barrier (so that no region is overwritten while another rank still reads it).
 * Barriers wait with `Atomics.waitAsync` (the event loop of every thread stays free: worker messages, exits,
 * signals), in slices of 50 ms so that an `abort` is noticed.
 *
 * `abort(reason)` (a rank failed, or a worker thread died) wakes every waiting rank and makes every later
 * operation of every rank reject, so that no thread is left waiting for a peer that will never arrive.
 */
import v8 from 'node:v8';
import { SoloError } from '@solo-ts/core';
import { checkRoot, orderedSum, type BroadcastBuffer, type Collective, type ReduceBuffer, type ReduceOptions } from './collective.js';

export interface SharedMemoryGroup {
  worldSize: number;
  /** bytes of each rank's region */
  regionBytes: number;
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** `Atomics.waitAsync` (Node >= 16; not in this project's TypeScript lib yet). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync.bind(Atomics);

/** The start of the message of an operation that failed because another rank aborted the group. */
export const GROUP_ABORTED = 'data-parallel group aborted';

const COUNT = 0;
const GENERATION = 1;
const ABORTED = 2;
const ABORTER = 3;

/** A group of `worldSize` ranks whose operations carry at most `regionBytes` per rank. */
export function makeSharedMemoryGroup(worldSize: number, regionBytes: number): SharedMemoryGroup {
  const bytes = Math.ceil(regionBytes / 8) * 8;
  return { worldSize, regionBytes: bytes, control: new SharedArrayBuffer(16), data: new SharedArrayBuffer(worldSize * bytes) };
}

export class SharedMemoryCollective implements Collective {
  readonly worldSize: number;
  readonly localRank: number;
  readonly localSize: number;
  readonly name = 'shared memory';
  private readonly ctrl: Int32Array;
  private acc = new Float64Array(0);

  constructor(
    private readonly group: SharedMemoryGroup,
    readonly rank: number,
  ) {
    this.worldSize = group.worldSize;
    this.localRank = rank;
    this.localSize = group.worldSize;
    this.ctrl = new Int32Array(group.control);
    checkRoot(rank, group.worldSize);
  }

  /** Make every waiting and later operation of every rank reject. */
  abort(): void {
    if (Atomics.compareExchange(this.ctrl, ABORTED, 0, 1) === 0) Atomics.store(this.ctrl, ABORTER, this.rank + 1);
    Atomics.add(this.ctrl, GENERATION, 1);
    Atomics.notify(this.ctrl, GENERATION);
  }

  /**
   * Make an aborted group usable again. Only when no rank is inside an operation (the data-parallel trainer: after
   * every worker has answered the failed step).
   */
  reset(): void {
    Atomics.store(this.ctrl, COUNT, 0);
    Atomics.store(this.ctrl, ABORTER, 0);
    Atomics.store(this.ctrl, ABORTED, 0);
  }

  get aborted(): boolean {
    return Atomics.load(this.ctrl, ABORTED) !== 0;
  }

  private abortedError(): SoloError {
    const by = Atomics.load(this.ctrl, ABORTER) - 1;
    return new SoloError(`${GROUP_ABORTED} (by rank ${by}); rank ${this.rank} stops`, { code: 'RUNTIME' });
  }

  async barrier(): Promise<void> {
    const c = this.ctrl;
    if (Atomics.load(c, ABORTED)) throw this.abortedError();
    const gen = Atomics.load(c, GENERATION);
    if (Atomics.add(c, COUNT, 1) === this.worldSize - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    // a pending Atomics.waitAsync does not keep Node's event loop alive: a timer does, while this rank waits
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      while (Atomics.load(c, GENERATION) === gen) {
        const w = waitAsync(c, GENERATION, gen, 50);
        if (w.async) await w.value;
      }
    } finally {
      clearInterval(keepAlive);
    }
    if (Atomics.load(c, ABORTED)) throw this.abortedError();
  }

  private region(rank: number, bytes: number): Uint8Array {
    if (bytes > this.group.regionBytes) throw new SoloError(`a collective operation of ${bytes} bytes does not fit the shared region of ${this.group.regionBytes} bytes`, { code: 'RUNTIME' });
    return new Uint8Array(this.group.data, rank * this.group.regionBytes, bytes);
  }

  private view<T extends ReduceBuffer | BroadcastBuffer>(like: T, rank: number): T {
    const Ctor = like.constructor as new (b: SharedArrayBuffer, o: number, n: number) => T;
    this.region(rank, like.byteLength);
    return new Ctor(this.group.data, rank * this.group.regionBytes, like.length);
  }

  private sum(buf: ReduceBuffer, o: ReduceOptions): void {
    if (this.acc.length < buf.length) this.acc = new Float64Array(buf.length);
    orderedSum(buf, this.worldSize, (r) => this.view(buf, r), o, this.acc);
  }

  async allReduce(buf: ReduceBuffer, o: ReduceOptions = {}): Promise<void> {
    this.view(buf, this.rank).set(buf);
    await this.barrier();
    this.sum(buf, o);
    await this.barrier();
  }

  async reduce(buf: ReduceBuffer, o: ReduceOptions & { root?: number } = {}): Promise<void> {
    const root = o.root ?? 0;
    checkRoot(root, this.worldSize);
    this.view(buf, this.rank).set(buf);
    await this.barrier();
    if (this.rank === root) this.sum(buf, o);
    await this.barrier();
  }

  async broadcast(buf: BroadcastBuffer, root = 0): Promise<void> {
    checkRoot(root, this.worldSize);
    if (this.rank === root) this.view(buf, root).set(buf);
    await this.barrier();
    if (this.rank !== root) buf.set(this.view(buf, root));
    await this.barrier();
  }

  async allGather<T>(value: T): Promise<T[]> {
    const bytes = v8.serialize(value);
    const head = new Int32Array(this.group.data, this.rank * this.group.regionBytes, 1);
    this.region(this.rank, bytes.length + 8).set(bytes, 8);
    head[0] = bytes.length;
    await this.barrier();
    const out: T[] = [];
    for (let r = 0; r < this.worldSize; r++) {
      const len = new Int32Array(this.group.data, r * this.group.regionBytes, 1)[0];
      out.push(v8.deserialize(Buffer.from(this.region(r, len + 8).slice(8))) as T);
    }
    await this.barrier();
    return out;
  }

  async broadcastObject<T>(value: T, root = 0): Promise<T> {
    checkRoot(root, this.worldSize);
    let out = value;
    if (this.rank === root) {
      const bytes = v8.serialize(value);
      this.region(root, bytes.length + 8).set(bytes, 8);
      new Int32Array(this.group.data, root * this.group.regionBytes, 1)[0] = bytes.length;
    }
    await this.barrier();
    if (this.rank !== root) {
      const len = new Int32Array(this.group.data, root * this.group.regionBytes, 1)[0];
      out = v8.deserialize(Buffer.from(this.region(root, len + 8).slice(8))) as T;
    }
    await this.barrier();
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
