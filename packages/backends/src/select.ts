// SPDX-License-Identifier: Apache-2.0
/**
 * Backend selection for training and inference.
 *
 * `selectBackend(name, options)` loads `@tensorflow/tfjs` (which registers every gradient) once, picks and
 * initialises a tfjs backend, installs solo-ts's kernels for it, and returns a one-line description for the
 * start-up log, e.g. `wasm (XNNPACK, 2 threads, SIMD)`.
 *
 * - `tensorflow`: `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node` (optional peers; libtensorflow 2.9.1;
 *   the GPU build needs CUDA 11.2 + cuDNN 8.1).
 * - `wasm`: `@tensorflow/tfjs-backend-wasm` with solo-ts's training kernels; under Node multi-threaded through
 *   `wasm-node.ts` (default `os.availableParallelism()` threads, at most 8).
 * - `cpu`: the pure-JS reference backend (slow; with the `halfPixelCenters`-correct resize gradients).
 * - `webgpu`: `@tensorflow/tfjs-backend-webgpu` with solo-ts's WebGPU kernels; in Node through Dawn (the `webgpu`
 *   package, optional dependencies) on a Vulkan driver (`webgpu-node.ts`); the adapter is named in `detail`.
 * - `auto`: `tensorflow` when one of the tfjs-node packages is installed and loads, else `wasm`.
 *
 * A requested backend that is missing or fails to start is a `SoloError` (code `BACKEND`) saying what to install.
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { SoloError } from '@solo-ts/core';
import {
  registerGroupNormKernels, registerResizeGradKernels, registerWasmTrainingKernels, registerWebgpuKernels, registerZeroGradients,
} from '@solo-ts/ops';
import * as tf from '@tensorflow/tfjs-core';
import {
  lastThreadedWasmError, MAX_WASM_THREADS, nodeSupportsWasmThreads, registerThreadedWasmBackend, type WasmPackage,
} from './wasm-node.js';
import { describeAdapter, NO_ADAPTER_HINT, openWebgpu, type WebgpuAdapterInfo } from './webgpu-node.js';

/** Backends `selectBackend` knows. */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'];

export interface SelectBackendOptions {
  /** WebAssembly threads (Node: default `os.availableParallelism()`, capped at 8; 1 = the stock single-threaded build). */
  threads?: number;
  /** Silence tfjs's own console messages (sets tfjs `PROD` mode) and solo-ts's fallback warnings. */
  quiet?: boolean;
  /**
   * `webgpu` in Node: use the SwiftShader software Vulkan driver (Debian's chromium package) when `VK_ICD_FILENAMES`
   * is unset. Default: `SOLO_WEBGPU_SWIFTSHADER=1`; otherwise the system's Vulkan driver is used.
   */
  swiftshader?: boolean;
  /**
   * Distributed training: this process's rank on its host (0..local ranks - 1). A GPU backend uses the device of
   * that index (one GPU per local rank, e.g. the WebGPU adapter); CPU backends ignore it.
   */
  localRank?: number;
}

export interface SelectedBackend {
  /** tfjs backend name now active (`tensorflow`, `wasm`, `cpu`, `webgpu`). */
  name: string;
  /** Human-readable description for the start-up log, e.g. `wasm (XNNPACK, 2 threads, SIMD)`. */
  detail: string;
  /** `webgpu`: the adapter's vendor, architecture, device and description. */
  adapter?: WebgpuAdapterInfo;
}

const TFJS_NODE_INSTALL =
  'npm install @tensorflow/tfjs-node-gpu@4.22.0 (NVIDIA GPU: needs CUDA 11.2 and cuDNN 8.1) or ' +
  'npm install @tensorflow/tfjs-node@4.22.0 (CPU). Their install script downloads libtensorflow 2.9.1; without ' +
  'internet set TFJS_NODE_BASE_URI / TFJS_NODE_CDN_STORAGE to a mirror (see docs/backends.md). Use Node 20 or 22.';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

let tfjsLoaded: Promise<unknown> | undefined;
/** Current wasm configuration registered by this module (threads), to make repeated calls cheap. */
let wasmThreadsRegistered: number | undefined;
let stockWasmFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;

interface ImportFailure {
  spec: string;
  notInstalled: boolean;
  error: unknown;
}

const requireHere = createRequire(import.meta.url);

/** Whether `spec` resolves from here (Node); in browsers the import itself decides. */
function isResolvable(spec: string): boolean {
  if (!isNode) return true;
  for (const target of [`${spec}/package.json`, spec]) {
    try {
      requireHere.resolve(target);
      return true;
    } catch (e) {
      // A package whose `exports` hides package.json is still installed.
      if ((e as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return true;
    }
  }
  return false;
}

/** Dynamic import of an optional package; distinguishes "not installed" from "installed but broken". */
async function tryImport(spec: string): Promise<{ module: Record<string, unknown> } | ImportFailure> {
  if (!isResolvable(spec)) {
    return { spec, notInstalled: true, error: new Error(`Cannot find package '${spec}'`) };
  }
  try {
    return { module: (await import(spec)) as Record<string, unknown> };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const notInstalled = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(spec);
    return { spec, notInstalled, error };
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

async function setBackendOrThrow(name: string, hint: string): Promise<void> {
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    cause = e;
  }
  if (!ok) {
    throw new SoloError(`tfjs backend '${name}' failed to initialize${cause ? `: ${errorText(cause)}` : ''}`,
      { code: 'BACKEND', hint, cause });
  }
  await tf.ready();
}

function defaultThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n);
}

async function selectTensorflow(required: boolean, quiet: boolean): Promise<SelectedBackend | undefined> {
  const failures: ImportFailure[] = [];
  for (const spec of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const r = await tryImport(spec);
    if ('module' in r) {
      await setBackendOrThrow('tensorflow', TFJS_NODE_INSTALL);
      const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
      const tfVersion = binding?.TF_Version ? `libtensorflow ${binding.TF_Version}` : 'libtensorflow';
      return { name: 'tensorflow', detail: `tensorflow (${spec.slice('@tensorflow/'.length)}, ${tfVersion})` };
    }
    failures.push(r);
  }
  const broken = failures.filter((f) => !f.notInstalled);
  if (!required) {
    if (broken.length > 0 && !quiet) {
      console.warn(`solo-ts: ${broken.map((f) => `${f.spec} is installed but failed to load (${errorText(f.error)})`)
        .join('; ')}; falling back to wasm`);
    }
    return undefined;
  }
  if (broken.length > 0) {
    throw new SoloError(`${broken[0].spec} is installed but failed to load: ${errorText(broken[0].error)}`, {
      code: 'BACKEND',
      expected: 'a loadable libtensorflow (and for tfjs-node-gpu CUDA 11.2 + cuDNN 8.1 libraries on the library path)',
      hint: `reinstall it so its install script fetches libtensorflow 2.9.1 (${TFJS_NODE_INSTALL})`,
      cause: broken[0].error,
    });
  }
  throw new SoloError("backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node; neither is installed", {
    code: 'BACKEND', hint: TFJS_NODE_INSTALL,
  });
}

async function selectWasm(threadsOption: number | undefined): Promise<SelectedBackend> {
  const r = await tryImport('@tensorflow/tfjs-backend-wasm');
  if (!('module' in r)) {
    throw new SoloError(`backend 'wasm' needs @tensorflow/tfjs-backend-wasm: ${errorText(r.error)}`, {
      code: 'BACKEND', hint: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0', cause: r.error,
    });
  }
  const wasmPkg = r.module as unknown as WasmPackage;
  const requested = threadsOption ?? (isNode ? defaultThreads() : undefined);
  let note = '';
  if (isNode) {
    let threads = Math.min(requested ?? 1, MAX_WASM_THREADS);
    if (threads > 1 && !nodeSupportsWasmThreads()) {
      note = ', no wasm threads in this Node';
      threads = 1;
    }
    if (wasmThreadsRegistered !== threads) {
      stockWasmFactory ??= tf.findBackendFactory('wasm') ?? undefined;
      if (threads > 1) {
        await registerThreadedWasmBackend(wasmPkg, threads);
      } else if (wasmThreadsRegistered !== undefined && stockWasmFactory) {
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', stockWasmFactory, 2);
      }
      wasmThreadsRegistered = threads;
    }
  } else if (requested !== undefined) {
    wasmPkg.setThreadsCount(requested);
  }
  registerWasmTrainingKernels();
  try {
    await setBackendOrThrow('wasm', 'the WebAssembly backend could not start; try --backend cpu');
  } catch (e) {
    if (!(isNode && wasmThreadsRegistered !== undefined && wasmThreadsRegistered > 1 && stockWasmFactory)) throw e;
    // The threaded loader failed (e.g. no writable temp dir for the worker script): use the stock build.
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', stockWasmFactory, 2);
    wasmThreadsRegistered = 1;
    note = `, threads unavailable: ${errorText(lastThreadedWasmError() ?? e)}`;
    await setBackendOrThrow('wasm', 'the WebAssembly backend could not start; try --backend cpu');
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const n = wasmPkg.getThreadsCount();
  const capped = requested !== undefined && requested > MAX_WASM_THREADS ? `, capped from ${requested}` : '';
  return {
    name: 'wasm',
    detail: `wasm (XNNPACK, ${n} thread${n === 1 ? '' : 's'}${capped}${note}${simd || n > 1 ? ', SIMD' : ''})`,
  };
}

async function selectWebgpu(options: SelectBackendOptions): Promise<SelectedBackend> {
  // navigator.gpu first: @tensorflow/tfjs-backend-webgpu registers its backend only where it exists at import.
  const adapter = await openWebgpu({ swiftshader: options.swiftshader });
  try {
    // a literal specifier, so that bundlers (scripts/gpu-bundle.sh) include it with the one tfjs-core
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    throw new SoloError(`backend 'webgpu' needs @tensorflow/tfjs-backend-webgpu: ${errorText(error)}`, {
      code: 'BACKEND',
      hint: 'npm install @tensorflow/tfjs-backend-webgpu@4.22.0 (an optional dependency of @solo-ts/backends)',
      cause: error,
    });
  }
  if (tf.findBackendFactory('webgpu') === null) {
    throw new SoloError("@tensorflow/tfjs-backend-webgpu did not register the 'webgpu' backend", {
      code: 'BACKEND', hint: 'it must be imported after navigator.gpu exists; let selectBackend import it',
    });
  }
  registerWebgpuKernels();
  await setBackendOrThrow('webgpu', NO_ADAPTER_HINT);
  return { name: 'webgpu', detail: `webgpu (${isNode ? 'Dawn, ' : ''}${describeAdapter(adapter)})`, adapter };
}

/**
 * Selects and initialises a tfjs backend (see the module doc). Safe to call again; switching the wasm thread
 * count re-creates the wasm backend (tensors on it become invalid).
 */
export async function selectBackend(
  name: BackendChoice = 'auto',
  options: SelectBackendOptions = {},
): Promise<SelectedBackend> {
  if (!BACKEND_CHOICES.includes(name)) {
    throw new SoloError(`unknown backend '${String(name)}'`, {
      code: 'ARGUMENT', expected: `one of ${BACKEND_CHOICES.join(', ')}`,
    });
  }
  const { threads, quiet = false } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new SoloError(`invalid thread count ${String(threads)}`, {
      code: 'ARGUMENT', expected: `a positive integer (at most ${MAX_WASM_THREADS} are used)`,
    });
  }
  if (quiet) tf.enableProdMode();
  tfjsLoaded ??= import('@tensorflow/tfjs');
  await tfjsLoaded;
  registerZeroGradients();
  switch (name) {
    case 'cpu':
      registerResizeGradKernels('cpu');
      registerGroupNormKernels('cpu');
      await setBackendOrThrow('cpu', 'the cpu backend ships with @tensorflow/tfjs; reinstall it');
      return { name: 'cpu', detail: 'cpu (pure JavaScript reference, slow)' };
    case 'wasm':
      return selectWasm(threads);
    case 'webgpu':
      return selectWebgpu(options);
    case 'tensorflow':
      return (await selectTensorflow(true, quiet)) as SelectedBackend;
    case 'auto':
    default: {
      if (isNode) {
        const t = await selectTensorflow(false, quiet);
        if (t) return t;
      }
      return selectWasm(threads);
    }
  }
}
