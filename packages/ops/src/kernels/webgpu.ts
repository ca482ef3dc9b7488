// SPDX-License-Identifier: Apache-2.0
/**
 * solo-ts's kernels for `@tensorflow/tfjs-backend-webgpu` (registered by `registerWebgpuKernels()` after the backend
 * package is imported; nothing here imports it: the stock kernels are taken from tfjs-core's registry).
 *
 * What runs where on webgpu (the other solo-ts kernels are wasm/cpu ones that read tensors on the host, which a GPU
 * backend cannot do cheaply, and in Node not synchronously at all):
 * - conv / depthwise gradients, `UnsortedSegmentSum`, `BatchMatMul`, `Slice`: tfjs-backend-webgpu's own kernels;
 * - group norm: composed from tfjs ops (`groupNormComposed`: no `SoloGroupNorm` kernel is registered for webgpu);
 * - half-pixel bilinear resize gradient: the portable gather formulation of `functional/resize.ts` (the stock
 *   `ResizeBilinearGrad` ignores `halfPixelCenters`, so `hasExactResizeGrads('webgpu')` stays false);
 * - DCNv2 sampling and its gradients: the gather/multiply formulation of `functional/deform-conv.ts`;
 * - `PadV2` of rank 5 and 6: the stock shader does not compile above rank 4 (it indexes a `vec6`), which breaks
 *   the gradient of any slice of a rank-5/6 tensor; here such pads run one padded axis at a time as rank-3 pads;
 * - `AddN` of more than 7 tensors: the stock kernel binds every input at once, past the device's
 *   `maxStorageBuffersPerShaderStage` (8 by default: the pipeline is invalid, e.g. a gradient-norm sum over all
 *   parameters); here such sums run in chunks of at most 7 (the same float32 additions, grouped);
 * - `Select` (`tf.where`) above rank 4 (the stock kernel throws "Where for rank 5 is not yet supported"; DCNv2's
 *   sampler uses it): condition and both branches have one shape there, so it runs on flat views.
 */
import * as tf from '@tensorflow/tfjs-core';

type KernelFunc = tf.KernelConfig['kernelFunc'];
interface RefBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

const STOCK = Symbol.for('solo-ts.kernels.webgpuStockKernel');
const made = new Map<string, tf.KernelConfig>();

/** `PadV2` for any rank: stock kernel up to rank 4, else one axis at a time through `[before, axis, after]` views. */
function padAnyRank(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { paddings, constantValue } = args.attrs as unknown as { paddings: Array<[number, number]>; constantValue: number };
    if (x.shape.length <= 4) return stock(args);
    const reshape = tf.getKernel('Reshape', 'webgpu')!.kernelFunc;
    const backend = args.backend as unknown as RefBackend;
    const view = (t: tf.TensorInfo, shape: number[]) =>
      reshape({ inputs: { x: t }, backend: args.backend, attrs: { shape } }) as tf.TensorInfo;
    const shape = x.shape.slice();
    let cur = view(x, shape);
    for (let axis = 0; axis < shape.length; axis++) {
      const [lo, hi] = paddings[axis];
      if (lo === 0 && hi === 0) continue;
      const before = tf.util.sizeFromShape(shape.slice(0, axis));
      const after = tf.util.sizeFromShape(shape.slice(axis + 1));
      const flat = view(cur, [before, shape[axis], after]);
      const padded = stock({ inputs: { x: flat }, backend: args.backend, attrs: { paddings: [[0, 0], [lo, hi], [0, 0]], constantValue } }) as tf.TensorInfo;
      shape[axis] += lo + hi;
      const next = view(padded, shape.slice());
      for (const t of [cur, flat, padded]) backend.disposeData(t.dataId);
      cur = next;
    }
    return cur;
  };
}

/** `Select` of any rank: equal-shaped inputs above rank 4 run as rank-1 views. */
function selectAnyRank(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { condition, t, e } = args.inputs as { condition: tf.TensorInfo; t: tf.TensorInfo; e: tf.TensorInfo };
    const shape = t.shape;
    if (shape.length <= 4 || !tf.util.arraysEqual(condition.shape, shape) || !tf.util.arraysEqual(e.shape, shape)) return stock(args);
    const reshape = tf.getKernel('Reshape', 'webgpu')!.kernelFunc;
    const backend = args.backend as unknown as RefBackend;
    const view = (x: tf.TensorInfo, s: number[]) => reshape({ inputs: { x }, backend: args.backend, attrs: { shape: s } }) as tf.TensorInfo;
    const n = tf.util.sizeFromShape(shape);
    const flat = [view(condition, [n]), view(t, [n]), view(e, [n])];
    const out = stock({ inputs: { condition: flat[0], t: flat[1], e: flat[2] }, backend: args.backend, attrs: {} }) as tf.TensorInfo;
    const result = view(out, shape.slice());
    for (const x of [...flat, out]) backend.disposeData(x.dataId);
    return result;
  };
}

/** Most inputs of one stock `AddN` (one storage buffer stays for the output). */
const ADDN_MAX_INPUTS = 7;

/** `AddN` for any number of inputs: partial sums of at most `ADDN_MAX_INPUTS` tensors, then their sum. */
function addNChunked(stock: KernelFunc): KernelFunc {
  return (args) => {
    let level = args.inputs as unknown as tf.TensorInfo[];
    if (level.length <= ADDN_MAX_INPUTS) return stock(args);
    const backend = args.backend as unknown as RefBackend;
    const temps: tf.TensorInfo[] = [];
    while (level.length > ADDN_MAX_INPUTS) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < level.length; i += ADDN_MAX_INPUTS) {
        const part = level.slice(i, i + ADDN_MAX_INPUTS);
        if (part.length === 1) {
          next.push(part[0]);
          continue;
        }
        const sum = stock({ inputs: part as unknown as tf.NamedTensorInfoMap, backend: args.backend, attrs: {} }) as tf.TensorInfo;
        temps.push(sum);
        next.push(sum);
      }
      level = next;
    }
    const out = stock({ inputs: level as unknown as tf.NamedTensorInfoMap, backend: args.backend, attrs: {} }) as tf.TensorInfo;
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

function wrap(name: string, make: (stock: KernelFunc) => KernelFunc): tf.KernelConfig | undefined {
  const current = tf.getKernel(name, 'webgpu');
  if (current === undefined) return undefined;
  const stock = (current as { [STOCK]?: tf.KernelConfig })[STOCK] ?? current;
  const done = made.get(name);
  if (done && (done as { [STOCK]?: tf.KernelConfig })[STOCK] === stock) return done;
  const config = Object.assign({ kernelName: name, backendName: 'webgpu', kernelFunc: make(stock.kernelFunc) }, { [STOCK]: stock });
  made.set(name, config);
  return config;
}

/** Names of the kernels `registerWebgpuKernels` installs (wrapping the stock ones). */
export const WEBGPU_KERNELS: readonly string[] = ['PadV2', 'AddN', 'Select'];

/**
 * Installs solo-ts's webgpu kernels (idempotent; call after importing `@tensorflow/tfjs-backend-webgpu`). Returns the
 * names (re)registered by this call.
 */
export function registerWebgpuKernels(): string[] {
  const changed: string[] = [];
  const configs = [wrap('PadV2', padAnyRank), wrap('AddN', addNChunked), wrap('Select', selectAnyRank)].filter((c): c is tf.KernelConfig => c !== undefined);
  for (const config of configs) {
    const current = tf.getKernel(config.kernelName, 'webgpu');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, 'webgpu');
    tf.registerKernel(config);
    changed.push(config.kernelName);
  }
  return changed;
}
