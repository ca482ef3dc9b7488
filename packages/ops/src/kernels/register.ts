// SPDX-License-Identifier: Apache-2.0
/**
 * Registration of solo-ts's training kernels.
 *
 * `registerWasmTrainingKernels()` adds to (or replaces in) the `wasm` backend's kernel registry: conv input/filter
 * gradients computed with XNNPACK (forward conv / fully-connected), depthwise conv gradients, `UnsortedSegmentSum`
 * (gradient of `gather`), resize gradients that honour `halfPixelCenters`, and a `BatchMatMul` that keeps
 * transposed and batched products (every `matMul` gradient) on XNNPACK. `registerResizeGradKernels(name)` installs only
 * the portable resize gradients (use it for `cpu`, whose own are wrong for `halfPixelCenters` and non-square
 * images). Both are idempotent and cheap; call them after importing the backend package, because importing
 * `@tensorflow/tfjs-backend-wasm` later re-registers its stock kernels over ours (calling again restores ours).
 * Only `@tensorflow/tfjs-core`'s registry is touched: nothing here imports a backend package.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch_matmul.js';
import { conv2dBackpropFilterConfig, conv2dBackpropInputConfig } from './conv2d_backprop.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise_backprop.js';
import { resizeBilinearGradConfig, resizeNearestNeighborGradConfig } from './resize_grad.js';
import { unsortedSegmentSumConfig } from './segment_sum.js';

const cache = new Map<string, tf.KernelConfig[]>();

function configsFor(key: string, make: () => tf.KernelConfig[]): tf.KernelConfig[] {
  let configs = cache.get(key);
  if (configs === undefined) {
    configs = make();
    cache.set(key, configs);
  }
  return configs;
}

/** Registers `configs`, replacing other kernels of the same name; returns the names that changed. */
function install(configs: tf.KernelConfig[]): string[] {
  const changed: string[] = [];
  for (const config of configs) {
    const current = tf.getKernel(config.kernelName, config.backendName);
    if (current !== undefined && current.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
    changed.push(config.kernelName);
  }
  return changed;
}

/** Names of the kernels `registerWasmTrainingKernels` installs for `wasm`. */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'UnsortedSegmentSum',
  'ResizeBilinearGrad',
  'ResizeNearestNeighborGrad',
  'BatchMatMul',
];

/**
 * Installs solo-ts's training kernels for the `wasm` backend (idempotent). Returns the kernel names that were
 * (re)registered by this call (empty when already installed).
 */
export function registerWasmTrainingKernels(): string[] {
  const configs = configsFor('wasm', () => [
    conv2dBackpropInputConfig('wasm'),
    conv2dBackpropFilterConfig('wasm'),
    depthwiseBackpropInputConfig('wasm'),
    depthwiseBackpropFilterConfig('wasm'),
    unsortedSegmentSumConfig('wasm'),
    ...resizeConfigs('wasm'),
  ]);
  const matmul = wasmBatchMatMul();
  return install(matmul ? [...configs, matmul] : configs);
}

let wrappedMatMul: tf.KernelConfig | undefined;
const STOCK = Symbol.for('solo-ts.kernels.stockKernel');

/** The XNNPACK-routing `BatchMatMul` wrapper around the stock wasm kernel (undefined before the wasm package loads). */
function wasmBatchMatMul(): tf.KernelConfig | undefined {
  if (wrappedMatMul) return wrappedMatMul;
  const current = tf.getKernel('BatchMatMul', 'wasm');
  if (current === undefined) return undefined;
  // Never wrap a wrapper (another copy of this module may have installed one): unwrap to the stock kernel.
  const stock = (current as { [STOCK]?: tf.KernelConfig })[STOCK] ?? current;
  wrappedMatMul = Object.assign(batchMatMulConfig('wasm', stock), { [STOCK]: stock });
  return wrappedMatMul;
}

function resizeConfigs(backendName: string): tf.KernelConfig[] {
  return configsFor(`resize:${backendName}`, () => [
    resizeBilinearGradConfig(backendName),
    resizeNearestNeighborGradConfig(backendName),
  ]);
}

/**
 * Installs the `halfPixelCenters`-correct `ResizeBilinearGrad` / `ResizeNearestNeighborGrad` for `backendName`
 * (any backend with `readSync`/`write`, e.g. `cpu`). Idempotent; returns the names (re)registered.
 */
export function registerResizeGradKernels(backendName: string): string[] {
  return install(resizeConfigs(backendName));
}
