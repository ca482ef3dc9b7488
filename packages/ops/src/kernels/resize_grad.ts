// SPDX-License-Identifier: Apache-2.0
/**
 * Exact adjoints of tfjs's `ResizeBilinear` and `ResizeNearestNeighbor` (kernels `ResizeBilinearGrad`,
 * `ResizeNearestNeighborGrad`).
 *
 * The stock `cpu` and `wasm` gradient kernels ignore `halfPixelCenters` (PyTorch's `align_corners=False` needs it)
 * and the `cpu` bilinear one returns `[N, W, H, C]` (wrong for non-square images). These loop over `dy` with the
 * forward kernels' source-index formulas and scatter-add into `dx`, so they are the transposes of the forward
 * resizes for every `alignCorners`/`halfPixelCenters` combination. Works on any backend with `readSync`/`write`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendLike } from './kernel_utils.js';

interface ResizeGeometry {
  batch: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  depth: number;
  rowRatio: number;
  colRatio: number;
}

function geometry(images: tf.TensorInfo, dy: tf.TensorInfo, alignCorners: boolean): ResizeGeometry {
  const [batch, inH, inW, depth] = images.shape;
  const [, outH, outW] = dy.shape;
  const effInH = alignCorners && outH > 1 ? inH - 1 : inH;
  const effInW = alignCorners && outW > 1 ? inW - 1 : inW;
  const effOutH = alignCorners && outH > 1 ? outH - 1 : outH;
  const effOutW = alignCorners && outW > 1 ? outW - 1 : outW;
  return { batch, inH, inW, outH, outW, depth, rowRatio: effInH / effOutH, colRatio: effInW / effOutW };
}

/** Adjoint of tfjs bilinear resize on typed arrays (NHWC). */
export function resizeBilinearGradValues(
  dy: ArrayLike<number>, g: ResizeGeometry, halfPixelCenters: boolean, out: Float32Array,
): void {
  const { batch, inH, inW, outH, outW, depth, rowRatio, colRatio } = g;
  // Column taps are the same for every row: precompute them.
  const colLo = new Int32Array(outW);
  const colHi = new Int32Array(outW);
  const colFrac = new Float64Array(outW);
  for (let c = 0; c < outW; c++) {
    const src = halfPixelCenters ? colRatio * (c + 0.5) - 0.5 : colRatio * c;
    const lo = Math.max(0, Math.floor(src));
    colLo[c] = lo;
    colHi[c] = Math.min(inW - 1, Math.ceil(src));
    colFrac[c] = src - lo;
  }
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const bOff = b * inH * inW * depth;
    for (let r = 0; r < outH; r++) {
      const src = halfPixelCenters ? rowRatio * (r + 0.5) - 0.5 : rowRatio * r;
      const lo = Math.max(0, Math.floor(src));
      const hi = Math.min(inH - 1, Math.ceil(src));
      const rf = src - lo;
      const topOff = bOff + lo * inW * depth;
      const botOff = bOff + hi * inW * depth;
      for (let c = 0; c < outW; c++) {
        const cf = colFrac[c];
        const wTL = (1 - rf) * (1 - cf);
        const wTR = (1 - rf) * cf;
        const wBL = rf * (1 - cf);
        const wBR = rf * cf;
        const l = colLo[c] * depth;
        const rr = colHi[c] * depth;
        for (let d = 0; d < depth; d++) {
          const v = dy[o++];
          out[topOff + l + d] += v * wTL;
          out[topOff + rr + d] += v * wTR;
          out[botOff + l + d] += v * wBL;
          out[botOff + rr + d] += v * wBR;
        }
      }
    }
  }
}

/** Adjoint of tfjs nearest-neighbour resize on typed arrays (NHWC). */
export function resizeNearestGradValues(
  dy: ArrayLike<number>, g: ResizeGeometry, alignCorners: boolean, halfPixelCenters: boolean, out: Float32Array,
): void {
  const { batch, inH, inW, outH, outW, depth, rowRatio, colRatio } = g;
  const nearest = (ratio: number, i: number, size: number): number => {
    const src = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    let k = Math.min(size - 1, alignCorners ? Math.round(src) : Math.floor(src));
    if (halfPixelCenters) k = Math.max(0, k);
    return k;
  };
  const cols = new Int32Array(outW);
  for (let c = 0; c < outW; c++) cols[c] = nearest(colRatio, c, inW) * depth;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const bOff = b * inH * inW * depth;
    for (let r = 0; r < outH; r++) {
      const rowOff = bOff + nearest(rowRatio, r, inH) * inW * depth;
      for (let c = 0; c < outW; c++) {
        const off = rowOff + cols[c];
        for (let d = 0; d < depth; d++) out[off + d] += dy[o++];
      }
    }
  }
}

export function resizeBilinearGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'ResizeBilinearGrad',
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const b = backend as BackendLike;
      const { images, dy } = inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
      const g = geometry(images, dy, attrs['alignCorners'] === true);
      const out = new Float32Array(tf.util.sizeFromShape(images.shape));
      resizeBilinearGradValues(b.readSync(dy.dataId) as ArrayLike<number>, g, attrs['halfPixelCenters'] === true, out);
      return { dataId: b.write(out, images.shape.slice(), 'float32'), shape: images.shape.slice(), dtype: 'float32' };
    },
  };
}

export function resizeNearestNeighborGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'ResizeNearestNeighborGrad',
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const b = backend as BackendLike;
      const { images, dy } = inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
      const align = attrs['alignCorners'] === true;
      const g = geometry(images, dy, align);
      const out = new Float32Array(tf.util.sizeFromShape(images.shape));
      resizeNearestGradValues(b.readSync(dy.dataId) as ArrayLike<number>, g, align,
        attrs['halfPixelCenters'] === true, out);
      return { dataId: b.write(out, images.shape.slice(), 'float32'), shape: images.shape.slice(), dtype: 'float32' };
    },
  };
}
