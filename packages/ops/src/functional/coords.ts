// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO CoordConv features (mmdet `generate_coordinate`): NHWC `[n, h, w, 2]`, channel 0 = x =
 * `torch.linspace(-1, 1, w)` along the width, channel 1 = y = `torch.linspace(-1, 1, h)` along the height.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `torch.linspace(start, end, steps)` in float32, with PyTorch's two-sided formula. */
export function linspaceTorch(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const f = Math.fround;
  const step = f(f(end - start) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? f(start + f(step * i)) : f(end - f(step * (steps - i - 1)));
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
