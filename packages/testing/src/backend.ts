// SPDX-License-Identifier: Apache-2.0
/**
 * Test backend setup.
 *
 * `setupTestBackend('cpu' | 'wasm')` imports `@tensorflow/tfjs` (which registers every gradient), selects the
 * backend and waits until it is ready. For `wasm` it also registers solo-ts's WebAssembly training kernels
 * (`registerWasmTrainingKernels` from `@solo-ts/ops`: conv weight/input gradients, segment sums, resize and pool
 * gradients) so gradients that the stock wasm backend lacks work in tests. Idempotent; cheap to call in every
 * `beforeAll`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Backends available to tests. `cpu` is the reference; `wasm` is the fast one used for training in Node. */
export type TestBackendName = 'cpu' | 'wasm';

let gradientsLoaded: Promise<unknown> | undefined;
let wasmLoaded: Promise<unknown> | undefined;

/** Select `name` as the tfjs backend for the current test file (with gradients registered). */
export async function setupTestBackend(name: TestBackendName = 'cpu'): Promise<void> {
  gradientsLoaded ??= import('@tensorflow/tfjs');
  await gradientsLoaded;
  if (name === 'wasm') {
    wasmLoaded ??= import('@tensorflow/tfjs-backend-wasm');
    await wasmLoaded;
    const ops: Record<string, unknown> = await import('@solo-ts/ops');
    const register = ops['registerWasmTrainingKernels'];
    if (typeof register === 'function') (register as () => void)();
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`setupTestBackend: tfjs backend '${name}' failed to initialize`);
  }
  await tf.ready();
}
