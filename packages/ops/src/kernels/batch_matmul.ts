// SPDX-License-Identifier: Apache-2.0
/**
 * `BatchMatMul` for wasm that keeps every sizeable product on XNNPACK.
 *
 * The stock wasm kernel uses XNNPACK's fully-connected operator only for untransposed products with batch 1;
 * `transposeA`/`transposeB` or a batch > 1 fall back to a scalar blocked loop about 10x slower. The gradients of
 * `matMul` always need transposed products (`dA = dY·Bᵀ`, `dB = Aᵀ·dY`). This wrapper materialises the transposes
 * with the `Transpose` kernel and runs one untransposed batch-1 product per batch entry (broadcasting batch dims
 * of 1), delegating to the stock kernel. Tiny products (under ~0.5 MFLOP per batch entry) go straight to the stock
 * kernel, where the per-call overhead would dominate.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendLike, KernelScope } from './kernel_utils.js';

/** Products below this many multiply-adds per batch entry keep the stock path. */
const MIN_MACS = 1 << 18;

export function batchMatMulConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName,
    // The stock kernel binds its wasm export in its setup function: run it whenever the backend initialises.
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs = {} } = args;
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const transposeA = attrs['transposeA'] === true;
      const transposeB = attrs['transposeB'] === true;
      const ra = a.shape.length;
      const rb = b.shape.length;
      const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
      const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
      const mDim = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
      const kDim = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
      const nDim = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
      const fast = !transposeA && !transposeB && batchA === 1 && batchB === 1;
      const small = mDim * kDim * nDim < MIN_MACS;
      const sameBatchDims = ra === rb || batchA === 1 || batchB === 1;
      if (fast || small || !sameBatchDims || a.dtype !== 'float32' || b.dtype !== 'float32' ||
        (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
        return stock.kernelFunc(args);
      }
      const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      const batch = Math.max(batchA, batchB);
      return KernelScope.use(backendName, backend as BackendLike, (s) => {
        // [batch, M, K] and [batch, K, N], untransposed.
        let a3 = s.reshape(a, [batchA, a.shape[ra - 2], a.shape[ra - 1]]);
        if (transposeA) a3 = s.transpose(a3, [0, 2, 1]);
        let b3 = s.reshape(b, [batchB, b.shape[rb - 2], b.shape[rb - 1]]);
        if (transposeB) b3 = s.transpose(b3, [0, 2, 1]);
        const parts: tf.TensorInfo[] = [];
        for (let i = 0; i < batch; i++) {
          const ai = batchA === 1 ? a3 : s.slice(a3, [i, 0, 0], [1, mDim, kDim]);
          const bi = batchB === 1 ? b3 : s.slice(b3, [i, 0, 0], [1, kDim, nDim]);
          parts.push(s.adopt(stock.kernelFunc({
            inputs: { a: ai, b: bi }, backend, attrs: { transposeA: false, transposeB: false },
          }) as tf.TensorInfo));
          if (ai !== a3) s.release(ai);
          if (bi !== b3) s.release(bi);
        }
        const out = parts.length === 1 ? parts[0] : s.run('Concat', parts as unknown as tf.NamedTensorInfoMap, { axis: 0 });
        return s.reshape(out, [...outBatchShape, mDim, nDim]);
      });
    },
  };
}
