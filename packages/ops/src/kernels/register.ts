// SPDX-License-Identifier: Apache-2.0
/**
 * Registration of solo-ts's training kernels.
 *
 * `registerWasmTrainingKernels()` adds to (or replaces in) the `wasm` backend's kernel registry: conv input/filter
 * gradients computed with XNNPACK (forward conv / fully-connected), depthwise conv gradients, `UnsortedSegmentSum`
 * (gradient of `gather`), resize gradients that honour `halfPixelCenters`, a `BatchMatMul` that keeps
 * transposed and batched products (every `matMul` gradient) on XNNPACK, and `Slice`/`StridedSlice` as block
 * copies on the wasm heap. `registerResizeGradKernels(name)` installs only
 * the portable resize gradients (use it for `cpu`, whose own are wrong for `halfPixelCenters` and non-square
 * images). Both are idempotent and cheap; call them after importing the backend package, because importing
 * `@tensorflow/tfjs-backend-wasm` later re-registers its stock kernels over ours (calling again restores ours).
 * Only `@tensorflow/tfjs-core`'s registry is touched: nothing here imports a backend package.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch_matmul.js';
import { conv2dBackpropFilterConfig, conv2dBackpropInputConfig } from './conv2d_backprop.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise_backprop.js';
import { groupNormConfig, groupNormGradConfig } from './group_norm.js';
import { resizeBilinearGradConfig, resizeNearestNeighborGradConfig } from './resize_grad.js';
import { sliceConfig, stridedSliceConfig } from './slice.js';
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
  'Slice',
  'StridedSlice',
  'SoloGroupNorm',
  'SoloGroupNormGrad',
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
    ...groupNormConfigs('wasm'),
  ]);
  const wrappers = [
    wrapStock('BatchMatMul', batchMatMulConfig),
    wrapStock('Slice', sliceConfig),
    wrapStock('StridedSlice', stridedSliceConfig),
  ].filter((c): c is tf.KernelConfig => c !== undefined);
  return install([...configs, ...wrappers]);
}

const wrapped = new Map<string, tf.KernelConfig>();
const STOCK = Symbol.for('solo-ts.kernels.stockKernel');

/**
 * A solo-ts kernel that wraps (and falls back to) the stock wasm kernel `name`; undefined before the wasm package
 * has registered its kernels. Never wraps a wrapper (another copy of this module may have installed one).
 */
function wrapStock(name: string, make: (backendName: string, stock: tf.KernelConfig) => tf.KernelConfig):
  tf.KernelConfig | undefined {
  const done = wrapped.get(name);
  if (done) return done;
  const current = tf.getKernel(name, 'wasm');
  if (current === undefined) return undefined;
  const stock = (current as { [STOCK]?: tf.KernelConfig })[STOCK] ?? current;
  const config = Object.assign(make('wasm', stock), { [STOCK]: stock });
  wrapped.set(name, config);
  return config;
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

function groupNormConfigs(backendName: string): tf.KernelConfig[] {
  return configsFor(`group-norm:${backendName}`, () => [groupNormConfig(backendName), groupNormGradConfig(backendName)]);
}

/**
 * Installs the fused group-norm kernels (`SoloGroupNorm`, `SoloGroupNormGrad`, used by `groupNorm` / `GroupNorm`)
 * for `backendName` (any backend with `readSync`/`write`, e.g. `cpu`; `registerWasmTrainingKernels` includes them
 * for `wasm`). Idempotent; returns the names (re)registered.
 */
export function registerGroupNormKernels(backendName: string): string[] {
  return install(groupNormConfigs(backendName));
}

/**
 * Whether solo-ts's exact resize gradients (`halfPixelCenters`-correct) are the registered `ResizeBilinearGrad` /
 * `ResizeNearestNeighborGrad` of `backendName` (after `registerWasmTrainingKernels` / `registerResizeGradKernels`).
 */
export function hasExactResizeGrads(backendName: string): boolean {
  const configs = cache.get(`resize:${backendName}`);
  return configs !== undefined && configs.every((c) => tf.getKernel(c.kernelName, backendName)?.kernelFunc === c.kernelFunc);
}
