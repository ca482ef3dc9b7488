// SPDX-License-Identifier: Apache-2.0
/**
 * Test backend setup.
 *
 * `setupTestBackend('cpu' | 'wasm')` imports `@tensorflow/tfjs` (which registers every gradient), selects the
 * backend and waits until it is ready. It installs solo-ts's kernels from `@solo-ts/ops`: for `wasm` the training
 * kernels (`registerWasmTrainingKernels`: conv/depthwise weight and input gradients via the fast forward conv,
 * `UnsortedSegmentSum`, resize gradients), for `cpu` the `halfPixelCenters`-correct resize gradients and the fused group norm, and for both
 * zero gradients for comparison/logical ops (`registerZeroGradients`). Idempotent;
 * cheap to call in every `beforeAll`. Single-threaded wasm (tests run in parallel processes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerGroupNormKernels, registerResizeGradKernels, registerWasmTrainingKernels, registerZeroGradients } from '@solo-ts/ops';

/** Backends available to tests. `cpu` is the reference; `wasm` is the fast one used for training in Node. */
export type TestBackendName = 'cpu' | 'wasm';

let gradientsLoaded: Promise<unknown> | undefined;
let wasmLoaded: Promise<unknown> | undefined;

/** Select `name` as the tfjs backend for the current test file (with gradients and solo-ts kernels registered). */
export async function setupTestBackend(name: TestBackendName = 'cpu'): Promise<void> {
  if (name !== 'cpu' && name !== 'wasm') {
    throw new Error(`setupTestBackend: unknown backend '${String(name)}' (expected 'cpu' or 'wasm')`);
  }
  gradientsLoaded ??= import('@tensorflow/tfjs');
  await gradientsLoaded;
  registerZeroGradients();
  if (name === 'wasm') {
    wasmLoaded ??= import('@tensorflow/tfjs-backend-wasm');
    await wasmLoaded;
    registerWasmTrainingKernels();
  } else {
    registerResizeGradKernels('cpu');
    registerGroupNormKernels('cpu');
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`setupTestBackend: tfjs backend '${name}' failed to initialize`);
  }
  await tf.ready();
}
