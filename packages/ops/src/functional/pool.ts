// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.max_pool2d` on NHWC: symmetric `-inf` padding, floor output size `floor((h + 2p - k) / s) + 1`
 * (ceil_mode False, dilation 1). The gradient goes to the first maximum of each window in row-major order (as
 * PyTorch's CPU kernel) and is computed with slices and pads, so it does not depend on a backend's MaxPoolGrad
 * kernel (the wasm one mis-routes overlapping windows in tfjs 4.22).
 */
import * as tf from '@tensorflow/tfjs-core';
import { pair, padSpatial, type Pair } from './conv.js';

/** The strided view `x[:, i + s*oy, j + s*ox]` (oy < oh, ox < ow) of a tensor padded enough on the bottom/right. */
function tapView(x: tf.Tensor4D, i: number, j: number, s: [number, number], oh: number, ow: number): tf.Tensor4D {
  const [n, , , c] = x.shape;
  if (s[0] === 1 && s[1] === 1) return tf.slice(x, [0, i, j, 0], [n, oh, ow, c]);
  // one strided 4-D slice (a 6-D reshape + slice runs a generic JS loop on wasm, ~5x slower)
  return tf.stridedSlice(x, [0, i, j, 0], [n, i + oh * s[0], j + ow * s[1], c], [1, s[0], s[1], 1]) as tf.Tensor4D;
}

/** Adjoint of {@link tapView}: places `g` `[n, oh, ow, c]` back into a zero tensor of shape `[n, H, W, c]`. */
function tapViewAdjoint(g: tf.Tensor4D, i: number, j: number, s: [number, number], H: number, W: number): tf.Tensor4D {
  const [n, oh, ow, c] = g.shape;
  let u: tf.Tensor4D = g;
  if (s[0] > 1 || s[1] > 1) {
    const r = tf.pad(tf.reshape(g, [n, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, s[0] - 1], [0, 0], [0, s[1] - 1], [0, 0]]);
    u = tf.reshape(r, [n, oh * s[0], ow * s[1], c]);
  }
  return tf.pad(u, [[0, 0], [i, H - i - oh * s[0]], [j, W - j - ow * s[1]], [0, 0]]);
}

export function maxPool2d(x: tf.Tensor4D, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): tf.Tensor4D {
  const k = pair(kernel);
  const s = pair(stride);
  const p = pair(padding);
  const [, h, w] = x.shape;
  const oh = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const ow = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xi = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const y = tf.tidy(() => tf.maxPool(padSpatial(xi, p[0], p[1], -Infinity), k, s, 'valid'));
    save([xi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [x0, y0] = saved as tf.Tensor4D[];
          // padded so that every tap view fits: rows up to (k-1) + s*oh
          const H = Math.max(h + 2 * p[0], k[0] - 1 + s[0] * oh);
          const W = Math.max(w + 2 * p[1], k[1] - 1 + s[1] * ow);
          const xp = tf.pad(x0, [[0, 0], [p[0], H - h - p[0]], [p[1], W - w - p[1]], [0, 0]], -Infinity);
          let taken: tf.Tensor = tf.zerosLike(y0);
          let acc: tf.Tensor4D | null = null;
          for (let i = 0; i < k[0]; i++) {
            for (let j = 0; j < k[1]; j++) {
              const hit = tf.mul(tf.cast(tf.equal(tapView(xp, i, j, s, oh, ow), y0), 'float32'), tf.sub(1, taken));
              taken = tf.add(taken, hit);
              const contrib = tapViewAdjoint(tf.mul(dy, hit) as tf.Tensor4D, i, j, s, H, W);
              acc = acc ? (tf.add(acc, contrib) as tf.Tensor4D) : contrib;
            }
          }
          return tf.slice(acc!, [0, p[0], p[1], 0], x0.shape);
        }),
    };
  });
  return op(x) as tf.Tensor4D;
}
