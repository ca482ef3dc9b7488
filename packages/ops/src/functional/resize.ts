// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.interpolate` on NHWC tensors (`mode` 'bilinear' with `align_corners=False`, or 'nearest').
 *
 * Output size: `size` when given, else `floor(in * scale_factor)` per dim. Source coordinate rule (torch 1.13,
 * `recompute_scale_factor` unset): with `size` the scale is `in / out`; with `scale_factor` it is
 * `1 / scale_factor` (PyTorch hands the user's scale to the kernel). Bilinear:
 * `src = max(0, (dst + 0.5) * scale - 0.5)`, corners `floor(src)` and `min(floor(src) + 1, in - 1)`, no
 * antialias; nearest (legacy): `src = min(floor(dst * scale), in - 1)`.
 *
 * Forward: the native tfjs kernels when the two rules agree (`halfPixelCenters: true` for bilinear; nearest
 * upsampling by powers of two, e.g. FPN's x2), otherwise a separable gather formulation. Backward (all
 * backends): the transposed 1-D maps applied with gathers (block sums with slices for nearest upsampling), so no
 * scatter / segment-sum kernel is needed (tfjs's own ResizeBilinear gradient ignores `halfPixelCenters`); where
 * solo-ts's exact `ResizeBilinearGrad` is registered (cpu, wasm) the native bilinear path uses that kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { hasExactResizeGrads } from '../kernels/register.js';

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

/** A 1-D linear map `y[o] = sum_j w[o, j] * x[idx[o, j]]` with J taps per output. */
interface AxisMap {
  inSize: number;
  outSize: number;
  taps: number;
  idx: Int32Array;
  w: Float32Array;
  /** every weight is 1 and taps == 1 (a pure gather) */
  pure: boolean;
}

function denseToMap(rows: Array<Map<number, number>>, inSize: number): AxisMap {
  const taps = Math.max(1, ...rows.map((r) => r.size));
  const idx = new Int32Array(rows.length * taps);
  const w = new Float32Array(rows.length * taps);
  let pure = taps === 1;
  rows.forEach((r, o) => {
    let j = 0;
    for (const [i, v] of r) {
      idx[o * taps + j] = i;
      w[o * taps + j] = v;
      if (v !== 1) pure = false;
      j++;
    }
    if (r.size === 0) pure = false;
  });
  return { inSize, outSize: rows.length, taps, idx, w, pure };
}

function bilinearRows(inSize: number, outSize: number, scale: number): Array<Map<number, number>> {
  const f = Math.fround;
  const sc = f(scale);
  const rows: Array<Map<number, number>> = [];
  for (let o = 0; o < outSize; o++) {
    let src = f(f(sc * (o + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = Math.min(Math.max(f(src - i0), 0), 1);
    const l0 = f(1 - l1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const r = new Map<number, number>();
    r.set(i0, l0);
    r.set(i1, (r.get(i1) ?? 0) + l1);
    if (i1 === i0) r.set(i0, f(l0 + l1));
    rows.push(r);
  }
  return rows;
}

function nearestRows(inSize: number, outSize: number, scale: number): Array<Map<number, number>> {
  const sc = Math.fround(scale);
  const rows: Array<Map<number, number>> = [];
  for (let o = 0; o < outSize; o++) {
    const i = outSize === inSize ? o : outSize === 2 * inSize ? o >> 1 : Math.min(Math.floor(Math.fround(o * sc)), inSize - 1);
    rows.push(new Map([[i, 1]]));
  }
  return rows;
}

function transposeMap(m: AxisMap): AxisMap {
  const rows: Array<Map<number, number>> = Array.from({ length: m.inSize }, () => new Map<number, number>());
  for (let o = 0; o < m.outSize; o++) {
    for (let j = 0; j < m.taps; j++) {
      const v = m.w[o * m.taps + j];
      if (v === 0) continue;
      const r = rows[m.idx[o * m.taps + j]];
      r.set(o, (r.get(o) ?? 0) + v);
    }
  }
  return denseToMap(rows, m.outSize);
}

/** Apply a 1-D map along axis 1 (rows) or 2 (columns) of an NHWC tensor with gathers. */
function applyMap(x: tf.Tensor4D, m: AxisMap, axis: 1 | 2): tf.Tensor4D {
  return tf.tidy(() => {
    const idx = tf.tensor1d(m.idx, 'int32');
    const g = tf.gather(x, idx, axis);
    if (m.pure) return g as tf.Tensor4D;
    const [n, h, w, c] = x.shape;
    const J = m.taps;
    if (axis === 1) {
      const g5 = tf.reshape(g, [n, m.outSize, J, w, c]);
      return tf.sum(tf.mul(g5, tf.tensor(m.w, [1, m.outSize, J, 1, 1])), 2) as tf.Tensor4D;
    }
    const g5 = tf.reshape(g, [n, h, m.outSize, J, c]);
    return tf.sum(tf.mul(g5, tf.tensor(m.w, [1, 1, m.outSize, J, 1])), 3) as tf.Tensor4D;
  });
}

function resizeWithMaps(x: tf.Tensor4D, mh: AxisMap, mw: AxisMap, native: ((x: tf.Tensor4D) => tf.Tensor4D) | null, nativeGrad = false): tf.Tensor4D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x4 = args[0] as tf.Tensor4D;
    const value = native ? native(x4) : tf.tidy(() => applyMap(applyMap(x4, mh, 1), mw, 2));
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        // the backend's half-pixel bilinear adjoint when it is exact (solo-ts's kernels on cpu / wasm): 7-20x
        // faster on wasm than the gather formulation, which stays the portable fallback
        if (nativeGrad && native && hasExactResizeGrads(tf.getBackend())) {
          return tf.engine().runKernel('ResizeBilinearGrad', { images: x4, dy }, { alignCorners: false, halfPixelCenters: true }) as tf.Tensor;
        }
        return tf.tidy(() => applyMap(applyMap(dy as tf.Tensor4D, transposeMap(mw), 2), transposeMap(mh), 1));
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/** PyTorch `F.interpolate(x, size, mode='bilinear', align_corners=False)` on NHWC. */
export function resizeBilinear(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  return interpolate(x, { size, mode: 'bilinear' });
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
  if (!(oh > 0 && ow > 0)) throw new SoloError(`interpolate: output size ${oh}x${ow} from input ${h}x${w} is empty`);
  const native = Math.fround(sh) === Math.fround(h / oh) && Math.fround(sw) === Math.fround(w / ow);
  if (options.mode === 'bilinear') {
    if (oh === h && ow === w && native) return tf.clone(x);
    const mh = denseToMap(bilinearRows(h, oh, sh), h);
    const mw = denseToMap(bilinearRows(w, ow, sw), w);
    return resizeWithMaps(x, mh, mw, native ? (xi) => tf.image.resizeBilinear(xi, [oh, ow], false, true) : null, true);
  }
  if (options.mode !== 'nearest') throw new SoloError(`interpolate: unsupported mode "${String(options.mode)}"`, { expected: "'bilinear' or 'nearest'" });
  if (oh === h && ow === w && native) return tf.clone(x);
  const mh = denseToMap(nearestRows(h, oh, sh), h);
  const mw = denseToMap(nearestRows(w, ow, sw), w);
  const kh = repeatFactor(mh);
  const kw = repeatFactor(mw);
  if (kh && kw) return repeatUpsample(x, kh, kw);
  return resizeWithMaps(x, mh, mw, null);
}

/**
 * The factor k when a nearest map repeats every input k times (`idx[o] = floor(o / k)`) with k a power of two
 * (for which every backend's legacy nearest resize, `floor(o * (in / out))`, is exact), else 0.
 */
function repeatFactor(m: AxisMap): number {
  const k = m.outSize / m.inSize;
  if (!m.pure || !Number.isInteger(k) || (k & (k - 1)) !== 0) return 0;
  for (let o = 0; o < m.outSize; o++) if (m.idx[o] !== Math.floor(o / k)) return 0;
  return k;
}

/**
 * Nearest upsampling by integer factors (kh, kw) (powers of two): the backend's nearest-neighbour kernel forward
 * (a copy; the gather formulation costs about 15x more on wasm), and as gradient the sum of each kh x kw block,
 * taken with slices (no gather, no scatter).
 */
function repeatUpsample(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.image.resizeNearestNeighbor(args[0] as tf.Tensor4D, [h * kh, w * kw], false, false),
    gradFunc: (dy: tf.Tensor) =>
      tf.tidy(() => {
        let g: tf.Tensor = dy;
        if (kh > 1) {
          const r = tf.reshape(g, [n * h, kh, w * kw * c]);
          const parts = Array.from({ length: kh }, (_, i) => tf.slice(r, [0, i, 0], [n * h, 1, w * kw * c]));
          g = parts.length === 1 ? parts[0] : tf.addN(parts);
        }
        if (kw > 1) {
          const r = tf.reshape(g, [n * h * w, kw * c]);
          const parts = Array.from({ length: kw }, (_, j) => tf.slice(r, [0, j * c], [n * h * w, c]));
          g = parts.length === 1 ? parts[0] : tf.addN(parts);
        }
        return tf.reshape(g, [n, h, w, c]);
      }),
  }));
  return op(x) as tf.Tensor4D;
}
