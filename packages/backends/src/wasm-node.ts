// SPDX-License-Identifier: Apache-2.0
/**
 * Multi-threaded WebAssembly backend for Node.js.
 *
 * The stock `@tensorflow/tfjs-backend-wasm` never uses threads under Node: its `WASM_HAS_MULTITHREAD_SUPPORT`
 * flag is hard-wired to false there, and its loader hands Emscripten a `Blob` URL for the pthread worker script
 * and for the main script, which Node's `worker_threads` reject (`ERR_WORKER_PATH`). The package does ship the
 * threaded build (`wasm-out/tfjs-backend-wasm-threaded-simd.{js,wasm}`) and a Node-aware worker script (as a
 * string, `wasmWorkerContents`). This module instantiates that build itself:
 *
 * - the worker script is written once to a file in the OS temp dir (named by a hash of its content) and Emscripten's
 *   `locateFile` returns that path; `mainScriptUrlOrBlob` is the path of the threaded factory script, which each
 *   worker loads with `importScripts` (a `readFileSync` + indirect eval in the worker's Node shim);
 * - the C++ side caps the XNNPACK pool at `min(requested, 8, emscripten_num_logical_cores() / 2)` (it assumes
 *   2 hyper-threads per core), so the `emscripten_num_logical_cores` import is answered with `2 * threads` to get
 *   exactly the requested count;
 * - the result is registered as backend `wasm` (replacing the stock factory), so every stock wasm kernel and
 *   solo-ts's training kernels run on it unchanged. The Emscripten pool holds 8 workers; at most 8 threads.
 *
 * Node only (imports `fs`, `os`, `module`).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** The XNNPACK thread pool of the threaded build has at most this many threads. */
export const MAX_WASM_THREADS = 8;

interface NodeWorker {
  unref(): void;
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread?: { terminateAllThreads(): void; runningWorkers: NodeWorker[]; unusedWorkers: NodeWorker[] };
  tfjs?: Record<string, unknown>;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/** The parts of `@tensorflow/tfjs-backend-wasm`'s exports used here. */
export interface WasmPackage {
  BackendWasm: new (wasm: never) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** The WebAssembly JS API (not in this project's TypeScript `lib`). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }>;
  validate(bytes: Uint8Array): boolean;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const requireHere = createRequire(import.meta.url);

/** Directory of the installed `@tensorflow/tfjs-backend-wasm` package. */
export function wasmPackageDir(): string {
  return path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/** Writes the pthread worker script to a content-addressed temp file (once) and returns its path. */
function workerScriptPath(pkgDir: string): string {
  const { wasmWorkerContents } = requireHere(
    path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The string holds "\n" escapes that became real newlines inside string literals; tfjs re-escapes them too.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `solo-ts-tfjs-wasm-worker-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, source);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** Instantiates the threaded-SIMD Emscripten module with a pool of `threads` XNNPACK threads. */
async function instantiateThreaded(threads: number): Promise<EmscriptenModule> {
  const pkgDir = wasmPackageDir();
  const factoryPath = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const wasmPath = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerPath = workerScriptPath(pkgDir);
  const factory = requireHere(factoryPath) as Factory;
  let failInstantiate: (e: unknown) => void = () => undefined;
  const instantiateFailed = new Promise<never>((_, reject) => {
    failInstantiate = reject;
  });
  const created = factory({
    locateFile: (p: string, prefix: string) =>
      p.endsWith('.worker.js') ? workerPath : p.endsWith('.wasm') ? wasmPath : prefix + p,
    mainScriptUrlOrBlob: factoryPath,
    instantiateWasm: (
      imports: { env: Record<string, unknown> },
      receive: (instance: unknown, module: unknown) => void,
    ) => {
      for (const [key, value] of Object.entries(imports.env)) {
        if (typeof value === 'function' && (key === 'emscripten_num_logical_cores' ||
          value.name === '_emscripten_num_logical_cores')) {
          imports.env[key] = () => 2 * threads;
        }
      }
      WA.instantiate(fs.readFileSync(wasmPath), imports)
        .then(({ instance, module: m }) => receive(instance, m))
        .catch((e: unknown) => failInstantiate(e));
      return {};
    },
  });
  const module = await Promise.race([created, instantiateFailed]);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** Whether this Node.js can run the threaded build (shared memory and wasm threads). */
export function nodeSupportsWasmThreads(): boolean {
  try {
    if (typeof SharedArrayBuffer === 'undefined') return false;
    // A module with a shared memory and an atomic op (from wasm-feature-detect).
    return WA.validate(new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5,
      4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11,
    ]));
  } catch {
    return false;
  }
}

/**
 * Registers backend `wasm` as the threaded build with `threads` XNNPACK threads (2..8), replacing the stock
 * factory. Must run before `tf.setBackend('wasm')`; an already initialized `wasm` backend is removed (its tensors
 * become invalid). Returns the actual thread count once the backend is set.
 */
export async function registerThreadedWasmBackend(wasmPkg: WasmPackage, threads: number, priority = 2): Promise<void> {
  const n = Math.max(1, Math.min(MAX_WASM_THREADS, Math.floor(threads)));
  if (tf.findBackendFactory('wasm') !== null) tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    try {
      wasmPkg.setThreadsCount(n);
      const module = await instantiateThreaded(n);
      const backend = new wasmPkg.BackendWasm(module as never); // creates the XNNPACK pool's pthreads
      // Emscripten ref()s a worker while it runs a pthread, and pool threads never exit: without this, a process
      // that used the threaded backend would never exit on its own.
      for (const worker of module.PThread?.runningWorkers ?? []) worker.unref();
      const dispose = backend.dispose.bind(backend);
      backend.dispose = () => {
        dispose();
        module.PThread?.terminateAllThreads();
      };
      return backend;
    } catch (e) {
      lastError = e; // tfjs only logs factory errors; keep it for the caller's message
      throw e;
    }
  }, priority);
}

let lastError: unknown;

/** The error of the last failed threaded-backend initialisation (tfjs itself only returns `false`). */
export function lastThreadedWasmError(): unknown {
  return lastError;
}
