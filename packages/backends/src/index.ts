// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/backends: choosing and starting the compute backend that training and inference run on (docs/backends.md).
 *
 * - `selectBackend(choice, {threads})`: `auto`, `tensorflow` (tfjs-node / tfjs-node-gpu), `wasm` (multi-threaded
 *   under Node), `cpu`, `webgpu`; loads tfjs's gradients and solo-ts's kernels for the backend it starts.
 * - `releaseBackendThreads()`: stops the wasm backend's worker threads at the end of a command.
 * - `registerThreadedWasmBackend`: the threaded WebAssembly build under Node (what `selectBackend('wasm')` uses).
 *
 * Depends on @solo-ts/core, @solo-ts/ops and TensorFlow.js only; the training engine and the inference API build on it.
 */
export const PACKAGE_NAME = '@solo-ts/backends';

export {
  BACKEND_CHOICES, selectBackend, type BackendChoice, type SelectBackendOptions, type SelectedBackend,
} from './select.js';
export { releaseBackendThreads } from './release.js';
export { MAX_WASM_THREADS, nodeSupportsWasmThreads, registerThreadedWasmBackend, type WasmPackage } from './wasm-node.js';
export {
  describeAdapter, NO_ADAPTER_HINT, openWebgpu, SWIFTSHADER_ICD, swiftshaderRequested, type OpenWebgpuOptions, type WebgpuAdapterInfo,
} from './webgpu-node.js';
