// SPDX-License-Identifier: Apache-2.0
export {
  BACKEND_CHOICES, selectBackend, type BackendChoice, type SelectBackendOptions, type SelectedBackend,
} from './select.js';
export { MAX_WASM_THREADS, nodeSupportsWasmThreads, registerThreadedWasmBackend } from './wasm-node.js';
