// SPDX-License-Identifier: Apache-2.0
/**
 * Test backend setup.
 *
 * `setupTestBackend('cpu' | 'wasm' | 'webgpu')` imports `@tensorflow/tfjs` (which registers every gradient), selects the
 * backend and waits until it is ready. It installs solo-ts's kernels from `@solo-ts/ops`: for `wasm` the training
 * kernels (`registerWasmTrainingKernels`: conv/depthwise weight and input gradients via the fast forward conv,
 * `UnsortedSegmentSum`, resize gradients), for `cpu` the `halfPixelCenters`-correct resize gradients and the fused group norm, and for both
 * zero gradients for comparison/logical ops (`registerZeroGradients`). Idempotent;
 * cheap to call in every `beforeAll`. Single-threaded wasm (tests run in parallel processes).
 *
 * `webgpu` starts through `@solo-ts/backends`' `selectBackend` (Dawn in Node). Tests use the SwiftShader software
 * Vulkan driver when Debian's chromium package provides it and `VK_ICD_FILENAMES` is unset (the same driver on every
 * machine, so CI and developers see the same numbers), else the system's Vulkan driver. `webgpuTestSkipReason()` says
 * why webgpu tests must skip on this machine (no adapter), or undefined when they can run.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { openWebgpu, selectBackend, SWIFTSHADER_ICD } from '@solo-ts/backends';
import { registerGroupNormKernels, registerResizeGradKernels, registerWasmTrainingKernels, registerZeroGradients } from '@solo-ts/ops';

/** Backends available to tests. `cpu` is the reference; `wasm` is the fast one used for training in Node; `webgpu` the GPU one. */
export type TestBackendName = 'cpu' | 'wasm' | 'webgpu';

let gradientsLoaded: Promise<unknown> | undefined;
let wasmLoaded: Promise<unknown> | undefined;
let webgpuProbe: Promise<string | undefined> | undefined;

function testSwiftshader(): boolean {
  return !process.env['VK_ICD_FILENAMES'] && existsSync(SWIFTSHADER_ICD);
}

/**
 * Why webgpu tests cannot run here (no `webgpu` package or no adapter, with what to install), or undefined when a
 * WebGPU adapter is available. Starts Dawn once per process; does not change the active backend.
 */
export function webgpuTestSkipReason(): Promise<string | undefined> {
  webgpuProbe ??= openWebgpu({ swiftshader: testSwiftshader() }).then(
    () => undefined,
    (e: unknown) => `webgpu tests skipped: ${e instanceof Error ? e.message : String(e)} (CI installs chromium for SwiftShader)`,
  );
  return webgpuProbe;
}

/** Select `name` as the tfjs backend for the current test file (with gradients and solo-ts kernels registered). */
export async function setupTestBackend(name: TestBackendName = 'cpu'): Promise<void> {
  if (name !== 'cpu' && name !== 'wasm' && name !== 'webgpu') {
    throw new Error(`setupTestBackend: unknown backend '${String(name)}' (expected 'cpu', 'wasm' or 'webgpu')`);
  }
  gradientsLoaded ??= import('@tensorflow/tfjs');
  await gradientsLoaded;
  registerZeroGradients();
  if (name === 'webgpu') {
    if (tf.getBackend() !== 'webgpu') await selectBackend('webgpu', { swiftshader: testSwiftshader() });
    return;
  }
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
