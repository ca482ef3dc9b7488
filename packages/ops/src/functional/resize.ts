// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.interpolate` on NHWC tensors (`mode` 'bilinear' with `align_corners=False`, or 'nearest').
 *
 * Output size: `size` when given, else `floor(in * scale_factor)` per dim. Source coordinate rule (torch 1.13,
 * `recompute_scale_factor` unset): with `size` the scale is `in / out`; with `scale_factor` it is `1 / scale_factor`
 * (PyTorch passes the user's scale to the kernel). Bilinear: `src = max(0, (dst + 0.5) * scale - 0.5)`, no
 * antialias; nearest (legacy): `src = min(floor(dst * scale), in - 1)`.
 * When the two rules agree (`in / out == 1 / scale`) the native tfjs kernels run (`halfPixelCenters: true` for
 * bilinear); otherwise an exact separable interpolation (matrices for bilinear, gather for nearest) is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';

/** Options of {@link interpolate}. */
export interface InterpolateOptions {
  /** Output [h, w]. Exactly one of `size` / `scaleFactor` must be given. */
  size?: [number, number];
  /** Scale factor (one number for both dims, or [sh, sw]). */
  scaleFactor?: number | [number, number];
  /** Interpolation mode. */
  mode: 'bilinear' | 'nearest';
  /** Only `false` is supported (the mode every SOLO-family model uses). */
  alignCorners?: false;
}

/** PyTorch `F.interpolate(x, size, mode='bilinear', align_corners=False)` on NHWC. */
export function resizeBilinear(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === size[0] && w === size[1]) return tf.clone(x);
  return tf.image.resizeBilinear(x, size, false, true);
}

/** 1-D bilinear interpolation matrix [out, in] with PyTorch's align_corners=False rule for scale `scale`. */
function bilinearMatrix(inSize: number, outSize: number, scale: number): tf.Tensor2D {
  const m = new Float32Array(outSize * inSize);
  const sc = Math.fround(scale);
  for (let o = 0; o < outSize; o++) {
    let src = Math.fround(Math.fround(sc * Math.fround(o + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const i0 = Math.floor(src);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = Math.fround(src - i0);
    const l0 = Math.fround(1 - l1);
    m[o * inSize + i0] += l0;
    m[o * inSize + i1] += l1;
  }
  return tf.tensor2d(m, [outSize, inSize]);
}

function nearestIndices(inSize: number, outSize: number, scale: number): Int32Array {
  const idx = new Int32Array(outSize);
  const sc = Math.fround(scale);
  for (let o = 0; o < outSize; o++) idx[o] = Math.min(Math.floor(Math.fround(o * sc)), inSize - 1);
  return idx;
}

/** Exact separable bilinear resize with explicit scales (used when scale_factor is not in/out). */
function bilinearWithScales(x: tf.Tensor4D, oh: number, ow: number, sh: number, sw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const mh = bilinearMatrix(h, oh, sh);
    const mw = bilinearMatrix(w, ow, sw);
    // rows: [oh, h] x [h, n*w*c]
    const xt = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, n * w * c]);
    const r = tf.reshape(tf.matMul(mh, xt), [oh, n, w, c]);
    // cols: [ow, w] x [w, oh*n*c]
    const rt = tf.reshape(tf.transpose(r, [2, 0, 1, 3]), [w, oh * n * c]);
    const y = tf.reshape(tf.matMul(mw, rt), [ow, oh, n, c]);
    return tf.transpose(y, [2, 1, 0, 3]) as tf.Tensor4D;
  });
}

/** Nearest upsample by integer factors via broadcasting (exact, cheap gradient). */
function nearestRepeat(x: tf.Tensor4D, fh: number, fw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const e = tf.reshape(x, [n, h, 1, w, 1, c]);
    const b = tf.broadcastTo(e, [n, h, fh, w, fw, c]);
    return tf.reshape(b, [n, h * fh, w * fw, c]);
  });
}

/** PyTorch `F.interpolate` (align_corners=False) on NHWC. */
export function interpolate(x: tf.Tensor4D, options: InterpolateOptions): tf.Tensor4D {
  const [, h, w] = x.shape;
  let oh: number;
  let ow: number;
  let sh: number;
  let sw: number;
  if (options.size && options.scaleFactor !== undefined) {
    throw new SoloError('interpolate: give either `size` or `scaleFactor`, not both');
  }
  if (options.size) {
    [oh, ow] = options.size;
    sh = h / oh;
    sw = w / ow;
  } else if (options.scaleFactor !== undefined) {
    const [fh, fw] = typeof options.scaleFactor === 'number' ? [options.scaleFactor, options.scaleFactor] : options.scaleFactor;
    oh = Math.floor(h * fh);
    ow = Math.floor(w * fw);
    sh = 1 / fh;
    sw = 1 / fw;
  } else {
    throw new SoloError('interpolate: `size` or `scaleFactor` is required');
  }
  if (oh <= 0 || ow <= 0) throw new SoloError(`interpolate: output size ${oh}x${ow} from input ${h}x${w} is empty`);
  const native = Math.fround(sh) === Math.fround(h / oh) && Math.fround(sw) === Math.fround(w / ow);
  if (options.mode === 'bilinear') {
    if (native) return resizeBilinear(x, [oh, ow]);
    return bilinearWithScales(x, oh, ow, sh, sw);
  }
  if (options.mode !== 'nearest') throw new SoloError(`interpolate: unsupported mode "${String(options.mode)}"`, { expected: "'bilinear' or 'nearest'" });
  if (native && oh % h === 0 && ow % w === 0) return nearestRepeat(x, oh / h, ow / w);
  if (native && oh === h && ow === w) return tf.clone(x);
  return tf.tidy(() => {
    const ih = tf.tensor1d(nearestIndices(h, oh, sh), 'int32');
    const iw = tf.tensor1d(nearestIndices(w, ow, sw), 'int32');
    return tf.gather(tf.gather(x, ih, 1), iw, 2);
  });
}
