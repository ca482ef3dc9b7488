// SPDX-License-Identifier: Apache-2.0
/**
 * `UnsortedSegmentSum` as a direct typed-array loop (the gradient of `gather`).
 *
 * `out[segmentIds[i], ...] += x[i, ...]`; `segmentIds` may have any shape that is a prefix of `x.shape`; ids outside
 * `[0, numSegments)` are dropped (TensorFlow semantics). Output `[numSegments, ...x.shape[ids.rank:]]`, dtype of `x`.
 * Works on any backend with `readSync`/`write` (one read of `x` and the ids, one write of the result).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendLike } from './kernel_utils.js';

/** Pure segment sum on typed arrays (exported for tests). */
export function segmentSumValues(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  inner: number,
  numSegments: number,
  out: Float32Array | Int32Array,
): void {
  const count = ids.length;
  for (let i = 0; i < count; i++) {
    const seg = ids[i];
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * inner;
    const dst = seg * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
}

export function unsortedSegmentSumConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const b = backend as BackendLike;
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = attrs['numSegments'] as number;
      const idRank = segmentIds.shape.length;
      for (let d = 0; d < idRank; d++) {
        if (segmentIds.shape[d] !== x.shape[d]) {
          throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape ` +
            `[${x.shape}]`);
        }
      }
      const innerShape = x.shape.slice(idRank);
      const inner = tf.util.sizeFromShape(innerShape);
      const outShape = [numSegments, ...innerShape];
      const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
      const out = dtype === 'int32'
        ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      const xv = b.readSync(x.dataId) as ArrayLike<number>;
      const ids = b.readSync(segmentIds.dataId) as ArrayLike<number>;
      segmentSumValues(xv, ids, inner, numSegments, out);
      return { dataId: b.write(out, outShape, dtype), shape: outShape, dtype };
    },
  };
}
