// SPDX-License-Identifier: Apache-2.0
/**
 * `WorkerRunner`: runs the data pipeline in `worker_threads`, each with its own copy of the dataset built
 * from the same config, so decoding and transforms overlap with a training step that blocks the main thread
 * (TensorFlow.js kernels run synchronously). Tasks go to the least busy worker; results come back by
 * structured clone. Workers are referenced only while they have work, so an idle pool never keeps the process
 * alive; `close()` terminates them. Under vitest (sources) the worker runs the TypeScript entry through tsx.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DatasetError, SoloError } from '@solo-ts/core';
import type { SampleRunner } from './data-loader.js';

export interface WorkerRunnerOptions {
  /** The dataset config (plain data; the same map the registry builds the dataset from). */
  datasetCfg: unknown;
  /** Number of worker threads (>= 1). */
  numWorkers: number;
  /** Packages whose ComponentModules the workers load (plugins with custom transforms). */
  modules?: string[];
}

interface Task {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
  ready: Promise<void>;
  tasks: Map<number, Task>;
}

/** How to start a worker thread whose entry module sits beside the caller's module. */
export interface WorkerEntry {
  url: URL | string;
  eval: boolean;
  execArgv: string[];
}

/**
 * The entry `<name>.js` next to `base` (an `import.meta.url`) when it exists (built `dist/`), else the TypeScript
 * source `<name>.ts` loaded through tsx (running from sources: vitest, tsx). Used by the data loader's workers and
 * the engine's data-parallel workers.
 */
export function resolveWorkerEntry(base: string, name: string): WorkerEntry {
  const js = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(js))) return { url: js, eval: false, execArgv: [] };
  // Running from the TypeScript sources (vitest, tsx): register tsx in the worker, then load the .ts entry.
  const ts = new URL(`./${name}.ts`, base).href;
  // the ESM entry of tsx's API (createRequire resolves the CommonJS one; swap the extension)
  const tsxApi = pathToFileURL(createRequire(base).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return { url: code, eval: true, execArgv: ['--conditions=source'] };
}

function reviveError(e: Record<string, unknown>): Error {
  const message = String(e.message ?? 'worker error');
  const err = e.isSoloError
    ? e.code === 'DATASET'
      ? new DatasetError(message, { location: e.location as never, hint: e.hint as string | undefined })
      : new SoloError(message, { code: e.code as never, location: e.location as never, hint: e.hint as string | undefined })
    : new Error(message);
  if (typeof e.stack === 'string') err.stack = e.stack;
  return err;
}

export class WorkerRunner implements SampleRunner {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: WorkerRunnerOptions) {
    if (!Number.isInteger(options.numWorkers) || options.numWorkers < 1) throw new DatasetError(`numWorkers must be a positive integer, got ${options.numWorkers}`);
    try {
      structuredClone(options.datasetCfg);
    } catch {
      throw new DatasetError('the dataset config cannot be sent to worker threads (it holds objects such as transform instances); use num_workers: 0');
    }
    const entry = resolveWorkerEntry(import.meta.url, 'worker');
    for (let i = 0; i < options.numWorkers; i++) {
      const worker = new Worker(entry.url, { eval: entry.eval, workerData: { datasetCfg: options.datasetCfg, modules: options.modules ?? [] }, execArgv: entry.execArgv });
      worker.unref();
      const slot: Slot = { worker, busy: 0, tasks: new Map(), ready: Promise.resolve() };
      slot.ready = new Promise<void>((resolve, reject) => {
        const onMessage = (msg: { type: string; id?: number; out?: unknown; error?: Record<string, unknown> }): void => {
          if (msg.type === 'ready') resolve();
          else if (msg.type === 'init-error') reject(reviveError(msg.error!));
          else if (msg.type === 'result') {
            const task = slot.tasks.get(msg.id!);
            if (!task) return;
            slot.tasks.delete(msg.id!);
            slot.busy--;
            if (slot.busy === 0) worker.unref();
            if (msg.error) task.reject(reviveError(msg.error));
            else task.resolve(msg.out ?? null);
          }
        };
        worker.on('message', onMessage);
        worker.on('error', (e) => {
          reject(e);
          this.failAll(slot, e);
        });
        worker.on('exit', (code) => {
          if (!this.closed) this.failAll(slot, new Error(`data loader worker exited with code ${code}`));
        });
      });
      slot.ready.catch(() => undefined);
      this.slots.push(slot);
    }
  }

  private failAll(slot: Slot, e: unknown): void {
    for (const t of slot.tasks.values()) t.reject(e);
    slot.tasks.clear();
    slot.busy = 0;
  }

  async prepare(index: number, seedParts: [number, number, number, number, number]): Promise<unknown | null> {
    if (this.closed) throw new DatasetError('the data loader was closed');
    let slot = this.slots[0];
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    slot.busy++;
    slot.worker.ref();
    try {
      await slot.ready;
    } catch (e) {
      slot.busy--;
      throw e;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.tasks.set(id, { resolve, reject });
      slot.worker.postMessage({ id, index, seedParts });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        this.failAll(s, new DatasetError('the data loader was closed'));
        await s.worker.terminate();
      }),
    );
  }
}
