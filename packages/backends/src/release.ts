// SPDX-License-Identifier: Apache-2.0
/**
 * End-of-command cleanup: the multi-threaded WebAssembly backend's worker threads (Emscripten pthreads running
 * XNNPACK's thread pool) stay referenced after the last kernel and would keep Node running. Commands call
 * `releaseBackendThreads()` when they are done with tensors; the wasm backend is unusable afterwards.
 */
import * as tf from '@tensorflow/tfjs-core';

export function releaseBackendThreads(): void {
  let backend: unknown;
  try {
    backend = tf.findBackend('wasm');
  } catch {
    return;
  }
  const pthread = (backend as { wasm?: { PThread?: { terminateAllThreads?(): void } } } | null)?.wasm?.PThread;
  try {
    pthread?.terminateAllThreads?.();
  } catch {
    /* already gone */
  }
}
