// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO CoordConv features (mmdet `generate_coordinate`): NHWC `[n, h, w, 2]`, channel 0 = x =
 * `torch.linspace(-1, 1, w)` along the width, channel 1 = y = `torch.linspace(-1, 1, h)` along the height.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * `torch.linspace(start, end, steps)` in float32, bit for bit as PyTorch 1.13's CPU kernel computes it:
 * `step = (end - start) / (steps - 1)`; the first half counts up from `start`, the second half down from `end`;
 * blocks of 16 go through the 8-wide vector path (block base with a fused multiply-add, then `base + j * step`
 * rounded twice), the tail through the scalar path (fused multiply-add). Checked against torch for steps < 600.
 */
export function linspaceTorch(start: number, end: number, steps: number): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(steps);
  if (steps <= 0) return out;
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s0 = f(start);
  const e0 = f(end);
  const step = f(f(e0 - s0) / (steps - 1));
  const half = Math.floor(steps / 2);
  // a + b*k with one rounding (the products of a float32 and a small integer are exact in float64)
  const fma = (k: number): number => (k < half ? f(s0 + step * k) : f(e0 - step * (steps - k - 1)));
  let i = 0;
  for (; i + 16 <= steps; i += 16) {
    for (let v = 0; v < 2; v++) {
      const idx0 = i + 8 * v;
      const base = fma(idx0);
      for (let j = 0; j < 8; j++) out[idx0 + j] = f(base + f(j * step));
    }
  }
  for (; i < steps; i++) out[i] = fma(i);
  return out;
}

export function coordFeature(n: number, h: number, w: number): tf.Tensor4D {
  const xs = linspaceTorch(-1, 1, w);
  const ys = linspaceTorch(-1, 1, h);
  const data = new Float32Array(h * w * 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      data[(y * w + x) * 2] = xs[x];
      data[(y * w + x) * 2 + 1] = ys[y];
    }
  }
  return tf.tidy(() => {
    const one = tf.tensor4d(data, [1, h, w, 2]);
    return n === 1 ? one : tf.tile(one, [n, 1, 1, 1]);
  });
}
