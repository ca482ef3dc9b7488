// SPDX-License-Identifier: Apache-2.0
/**
 * `Slice` and `StridedSlice` for wasm as strided copies on the wasm heap.
 *
 * The stock wasm `Slice` first copies the whole input out of the heap (`readSync`) and then copies the window in
 * JavaScript (generic element loop above rank 4); the stock `StridedSlice` runs a per-element C++ loop that
 * measured 10-100x slower than a copy. Both are used a lot while training (`tf.slice`, the gradients of `pad` and
 * `concat`, per-level and per-image splits). These copy contiguous innermost runs with `TypedArray.set` straight
 * between heap views. String tensors go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendLike, KernelScope, stridedCopy } from './kernel_utils.js';

/**
 * A copy kernel replacing `stock` on `backendName`: `copy` runs in a kernel scope for numeric inputs, string
 * tensors go to the stock kernel.
 */
function copyKernelConfig(
  kernelName: string,
  backendName: string,
  stock: tf.KernelConfig,
  copy: (s: KernelScope, x: tf.TensorInfo, attrs: tf.NamedAttrMap) => tf.TensorInfo,
): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs = {} } = args;
      const x = inputs['x'] as tf.TensorInfo;
      if (x.dtype === 'string') return stock.kernelFunc(args);
      return KernelScope.use(backendName, backend as BackendLike, (s) => copy(s, x, attrs));
    },
  };
}

/** `Slice` (the stock `stock` kernel handles strings). */
export function sliceConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return copyKernelConfig('Slice', backendName, stock, (s, x, attrs) => {
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs['begin'] as number[], attrs['size'] as number[]);
    tf.slice_util.assertParamsValid(x, begin, size);
    return stridedCopy(s, x, begin, size, begin.map(() => 1));
  });
}

/** `StridedSlice` (the stock `stock` kernel handles strings). */
export function stridedSliceConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return copyKernelConfig('StridedSlice', backendName, stock, (s, x, attrs) => {
    const info = tf.slice_util.sliceInfo(x.shape, attrs['begin'] as number[], attrs['end'] as number[],
      attrs['strides'] as number[], attrs['beginMask'] as number, attrs['endMask'] as number,
      attrs['ellipsisMask'] as number, attrs['newAxisMask'] as number, attrs['shrinkAxisMask'] as number);
    const size = tf.slice_util.computeOutShape(info.begin, info.end, info.strides);
    return s.reshape(stridedCopy(s, x, info.begin, size, info.strides), info.finalShape);
  });
}
