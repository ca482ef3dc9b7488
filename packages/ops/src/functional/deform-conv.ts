// SPDX-License-Identifier: Apache-2.0
/**
 * Modulated deformable convolution (DCNv2), with the semantics of mmcv's `modulated_deform_conv2d` and
 * torchvision's `deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask)`, on NHWC tensors.
 *
 * Shapes (K = kh * kw taps, dg = deform groups):
 * - `x` `[n, h, w, c]`;
 * - `offset` `[n, ho, wo, 2 * dg * K]`: channel `d * 2K + 2k` is the row shift (delta h) and `d * 2K + 2k + 1` the
 *   column shift (delta w) of tap `k = i * kw + j` (taps row-major) for deform group `d`;
 * - `mask` `[n, ho, wo, dg * K]` modulation (already through the sigmoid), channel `d * K + k`;
 * - `weight` `[kh, kw, c / groups, out]` (HWIO), `bias` `[out]` or null.
 *
 * Tap `k` of output `(y, x)` samples `(y * sh - ph + i * dh + delta_h, x * sw - pw + j * dw + delta_w)` bilinearly;
 * a sample with row <= -1, row >= h, col <= -1 or col >= w is 0, and corners outside the image contribute 0.
 * Gradients (input, offset, mask, weight, bias) come from autodiff of the gather/multiply formulation below,
 * which reproduces the reference kernels' derivatives (the floor is piecewise constant).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { pair, type Pair } from './conv.js';
import { deformIm2colGradLoop, deformIm2colLoop, type DeformGeometry } from './deform-sampler.js';


/** Options of {@link modulatedDeformConv2d}. */
export interface DeformConv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  /** Convolution groups (default 1). */
  groups?: number;
  /** Deformable groups: channels share offsets within a group (default 1). */
  deformGroups?: number;
}

/** Output spatial size of a conv. */
export function convOutSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * Bilinear sampling of `x` at the deformed tap positions, modulated by `mask`:
 * returns the im2col matrix `[n * ho * wo, K * c]` (tap-major, then channel).
 */
export function deformIm2col(
  x: tf.Tensor4D,
  offset: tf.Tensor4D,
  mask: tf.Tensor4D,
  kernel: [number, number],
  options: DeformConv2dOptions = {},
): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = kernel;
  const [sh, sw] = pair(options.stride ?? 1);
  const [ph, pw] = pair(options.padding ?? 0);
  const [dh, dw] = pair(options.dilation ?? 1);
  const dg = options.deformGroups ?? 1;
  const K = kh * kw;
  const ho = convOutSize(h, kh, sh, ph, dh);
  const wo = convOutSize(w, kw, sw, pw, dw);
  if (c % dg !== 0) throw new SoloError(`deform conv: ${c} input channels not divisible by deform_groups ${dg}`);
  const expect = (t: tf.Tensor4D, ch: number, what: string) => {
    const s = t.shape;
    if (s[0] !== n || s[1] !== ho || s[2] !== wo || s[3] !== ch) {
      throw new SoloError(`deform conv: ${what} has shape [${s.join(', ')}]`, { expected: `[${n}, ${ho}, ${wo}, ${ch}] (NHWC)` });
    }
  };
  expect(offset, 2 * dg * K, 'offset');
  expect(mask, dg * K, 'mask');
  const cg = c / dg;
  if (useLoopSampler()) {
    const geom: DeformGeometry = { n, h, w, c, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, dg };
    return loopIm2col(x, offset, mask, geom);
  }
  return tf.tidy(() => {
    // base sampling grid per tap: [1, ho, 1, 1, K] rows and [1, 1, wo, 1, K] columns
    const by = new Float32Array(ho * K);
    for (let y = 0; y < ho; y++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) by[y * K + i * kw + j] = y * sh - ph + i * dh;
    const bx = new Float32Array(wo * K);
    for (let x0 = 0; x0 < wo; x0++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) bx[x0 * K + i * kw + j] = x0 * sw - pw + j * dw;
    const off = tf.reshape(offset, [n, ho, wo, dg, K, 2]);
    const [offY, offX] = tf.split(off, 2, 5);
    const py = tf.add(tf.reshape(offY, [n, ho, wo, dg, K]), tf.tensor(by, [1, ho, 1, 1, K]));
    const px = tf.add(tf.reshape(offX, [n, ho, wo, dg, K]), tf.tensor(bx, [1, 1, wo, 1, K]));
    const y0f = tf.floor(py);
    const x0f = tf.floor(px);
    const ly = tf.sub(py, y0f);
    const lx = tf.sub(px, x0f);
    const hy = tf.sub(1, ly);
    const hx = tf.sub(1, lx);
    const zeroRow = dg * n * h * w;
    const xg = tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, dg, cg]), [3, 0, 1, 2, 4]), [zeroRow, cg]);
    const xflat = tf.concat([xg, tf.zeros([1, cg])], 0) as tf.Tensor2D;
    // [4, n*ho*wo*dg*K, cg]: the four corners (y0x0, y0x1, y1x0, y1x1), zero outside the image
    const corners = cornerGather(xflat, py, px, { n, h, w, dg });
    const m = tf.reshape(mask, [-1, 1]);
    const wts = tf.stack([tf.mul(hy, hx), tf.mul(hy, lx), tf.mul(ly, hx), tf.mul(ly, lx)]);
    const cols = tf.sum(tf.mul(corners, tf.reshape(wts, [4, -1, 1])), 0);
    const colsM = tf.mul(cols, m);
    // [n, ho, wo, dg, K, cg] -> [n, ho, wo, K, dg, cg] -> [M, K * c]
    const cols6 = tf.transpose(tf.reshape(colsM, [n, ho, wo, dg, K, cg]), [0, 1, 2, 4, 3, 5]);
    return tf.reshape(cols6, [n * ho * wo, K * c]) as tf.Tensor2D;
  });
}

/** DCNv2 forward (differentiable). Returns `[n, ho, wo, out]`. */
export function modulatedDeformConv2d(
  x: tf.Tensor4D,
  offset: tf.Tensor4D,
  mask: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  options: DeformConv2dOptions = {},
): tf.Tensor4D {
  const [kh, kw, cgi, out] = weight.shape;
  const groups = options.groups ?? 1;
  const c = x.shape[3];
  if (cgi * groups !== c || out % groups !== 0) {
    throw new SoloError(`deform conv: input has ${c} channels, weight is [${weight.shape.join(', ')}] (HWIO) with groups ${groups}`);
  }
  return tf.tidy(() => {
    const cols = deformIm2col(x, offset, mask, [kh, kw], options);
    const [n, ho, wo] = offset.shape;
    const M = n * ho * wo;
    const K = kh * kw;
    let y: tf.Tensor;
    if (groups === 1) {
      y = tf.matMul(cols, tf.reshape(weight, [K * c, out]));
    } else {
      const og = out / groups;
      const cg = tf.reshape(tf.transpose(tf.reshape(cols, [M, K, groups, cgi]), [2, 0, 1, 3]), [groups, M, K * cgi]);
      const wg = tf.reshape(tf.transpose(tf.reshape(weight, [K, cgi, groups, og]), [2, 0, 1, 3]), [groups, K * cgi, og]);
      y = tf.reshape(tf.transpose(tf.matMul(cg, wg), [1, 0, 2]), [M, out]);
    }
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [n, ho, wo, out]) as tf.Tensor4D;
  });
}

/**
 * Gathers the four bilinear corners of every sampling position from `xflat` (`[dg*n*h*w + 1, cg]`, last row zero).
 * Positions `py`, `px` are `[n, ho, wo, dg, K]`. All integer work (floor, bounds, indices) happens inside this
 * custom op, so it is invisible to the gradient tape: the corner values are piecewise constant in the positions
 * (zero gradient), and their gradient w.r.t. `xflat` is the scatter-add of the output gradient (`scatterND`, which
 * sums duplicate indices on every backend).
 */
function cornerGather(xflat: tf.Tensor2D, py: tf.Tensor, px: tf.Tensor, dims: { n: number; h: number; w: number; dg: number }): tf.Tensor3D {
  const { n, h, w, dg } = dims;
  const [rows, cg] = xflat.shape;
  const zeroRow = rows - 1;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [table, yy, xx] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const idx = tf.tidy(() => {
      const i32 = (v: number) => tf.scalar(v, 'int32');
      const valid = tf.logicalAnd(tf.logicalAnd(tf.greater(yy, -1), tf.less(yy, h)), tf.logicalAnd(tf.greater(xx, -1), tf.less(xx, w)));
      const y0 = tf.cast(tf.floor(yy), 'int32');
      const x0 = tf.cast(tf.floor(xx), 'int32');
      const y1 = tf.add(y0, i32(1));
      const x1 = tf.add(x0, i32(1));
      const planeBase = new Int32Array(n * dg);
      for (let b = 0; b < n; b++) for (let d = 0; d < dg; d++) planeBase[b * dg + d] = (d * n + b) * h * w;
      const base = tf.tensor(planeBase, [n, 1, 1, dg, 1], 'int32');
      const inRange = (v: tf.Tensor, size: number) => tf.logicalAnd(tf.greaterEqual(v, i32(0)), tf.lessEqual(v, i32(size - 1)));
      const one = (ry: tf.Tensor, rx: tf.Tensor) => {
        const ok = tf.logicalAnd(valid, tf.logicalAnd(inRange(ry, h), inRange(rx, w)));
        const flat = tf.add(base, tf.add(tf.mul(ry, i32(w)), rx));
        return tf.reshape(tf.where(ok, flat, tf.fill(ok.shape, zeroRow, 'int32')), [-1]);
      };
      return tf.concat([one(y0, x0), one(y0, x1), one(y1, x0), one(y1, x1)]);
    });
    save([idx]);
    const value = tf.tidy(() => tf.reshape(tf.gather(table, idx, 0), [4, -1, cg]));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.tidy(() => tf.scatterND(tf.reshape(saved[0], [-1, 1]), tf.reshape(dy, [-1, cg]), [rows, cg])),
        tf.zerosLike(yy),
        tf.zerosLike(xx),
      ],
    };
  });
  return op(xflat, py, px) as tf.Tensor3D;
}

let loopSamplerMode: 'auto' | 'loops' | 'ops' = 'auto';

/**
 * Which DCN sampler runs: `auto` (default) = typed-array loops on the synchronous `cpu` / `wasm` backends and
 * gather/multiply ops elsewhere (GPU backends, where reading tensors back would stall); `loops` / `ops` force one.
 */
export function setDeformSampler(mode: 'auto' | 'loops' | 'ops'): void {
  loopSamplerMode = mode;
}

function useLoopSampler(): boolean {
  if (loopSamplerMode !== 'auto') return loopSamplerMode === 'loops';
  const b = tf.getBackend();
  return b === 'cpu' || b === 'wasm';
}

/** im2col with the loop sampler as a differentiable op (inputs x, offset, mask; output `[M, K * c]`). */
function loopIm2col(x: tf.Tensor4D, offset: tf.Tensor4D, mask: tf.Tensor4D, g: DeformGeometry): tf.Tensor2D {
  const M = g.n * g.ho * g.wo;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xt, ot, mt] = args as tf.Tensor[];
    const xd = xt.dataSync() as Float32Array;
    const od = ot.dataSync() as Float32Array;
    const md = mt.dataSync() as Float32Array;
    const cols = tf.tensor2d(deformIm2colLoop(xd, od, md, g), [M, g.kh * g.kw * g.c]);
    return {
      value: cols,
      gradFunc: (dy: tf.Tensor) => {
        const r = deformIm2colGradLoop(xd, od, md, dy.dataSync() as Float32Array, g);
        return [tf.tensor(r.dx, xt.shape), tf.tensor(r.doffset, ot.shape), tf.tensor(r.dmask, mt.shape)];
      },
    };
  });
  return op(x, offset, mask) as tf.Tensor2D;
}
