// SPDX-License-Identifier: Apache-2.0
/**
 * Conv2D input and filter gradients built from the backend's forward `Conv2D` kernel.
 *
 * Kernels `Conv2DBackpropInput` and `Conv2DBackpropFilter` (NHWC, filter HWIO), for backends whose forward
 * convolution is fast (XNNPACK in `wasm`) but whose backward kernels are missing or slow:
 *
 * - input gradient: `dx = conv(zeroInsert(dy, stride), flip(W)ᵀ, stride 1, dilation d)` with the padding/cropping
 *   that makes the output exactly `inputShape` (handles strides, dilations, explicit/same/valid padding and sizes
 *   where `H + pads - effectiveK` is not divisible by the stride); for strides > 1 the same sum is split into
 *   stride_h·stride_w output phases, each a stride-1 conv of `dy` with the taps reaching it (no multiplications
 *   by inserted zeros), interleaved into `dx`;
 * - filter gradient: `dW = A · dY` with `A` the channel-major im2col of the input (`[kh·kw·Cin, N·Ho·Wo]`, built
 *   in JavaScript) and `dY` `[N·Ho·Wo, Cout]`, on the backend's untransposed batch-1 `BatchMatMul` (XNNPACK's
 *   fully-connected operator on wasm). The batch/channel-swapped conv formulation
 *   (`conv(xᵀ, dyᵀ)` with stride and dilation exchanged) is exact too, but XNNPACK runs it 2-3x slower because
 *   its reduction axis is the (small) batch.
 *
 * Attributes follow tfjs (`strides`, `pad`, `dimRoundingMode`, `inputShape` / `filterShape`); a `dilations`
 * attribute is honoured when present (tfjs's own Conv2D gradient only supports dilation 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { convGradKernelConfig, forwardConvInfo, zeroInsertedDy, type ConvAttrs, type Shape4 } from './conv_grad_utils.js';
import { type ExplicitPad, isHeapBackend, type KernelScope, window4d } from './kernel_utils.js';

/** Input gradient of an NHWC conv, computed with the backend's forward `Conv2D` (polyphase for strides > 1). */
export function conv2dBackpropInputViaConv(s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, inputShape: Shape4, attrs: ConvAttrs): tf.TensorInfo {
  if (attrs.strides[0] === 1 && attrs.strides[1] === 1) {
    return conv2dBackpropInputZeroInsert(s, dy, filter, inputShape, attrs);
  }
  return conv2dBackpropInputPolyphase(s, dy, filter, inputShape, attrs);
}

/** Input gradient as one stride-1 conv over the zero-inserted `dy` (wastes stride² work for strides > 1). */
export function conv2dBackpropInputZeroInsert(s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, inputShape: Shape4, attrs: ConvAttrs): tf.TensorInfo {
  const cout = (filter.shape as Shape4)[3];
  const info = forwardConvInfo('Conv2DBackpropInput', inputShape, filter.shape as Shape4, dy, cout, attrs);
  const { z, pad: explicit } = zeroInsertedDy(s, dy, info);
  // Flipped filter with in/out swapped: [kh,kw,cout,cin].
  const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
  const wT = s.transpose(flipped, [0, 1, 3, 2]);
  return s.run('Conv2D', { x: z, filter: wT }, {
    strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: attrs.dilations,
  } as unknown as tf.NamedAttrMap);
}

/** One output phase `r` (rows `p = s*q + r`) of a strided conv's input gradient along one axis. */
interface Phase {
  /** Number of output rows in this phase. */
  q: number;
  /** First filter tap, tap step and tap count (0: this phase gets no gradient). */
  a0: number;
  step: number;
  taps: number;
  /** Dilation of the phase's stride-1 conv over `dy`. */
  dil: number;
  /** `dy` rows `[lo, hi]` the phase reads (may extend past `dy`: zero padding). */
  lo: number;
  hi: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Phase `r` of `dx[p] = sum_{a, i: i*s + a*d - pt = p} dy[i] W[a]`: the taps with `(r + pt - a*d) % s == 0` form an
 * arithmetic sequence `a0 + j*s/g` (g = gcd(s, d)) reading `dy[q + c0 - j*d/g]`, i.e. a stride-1 correlation with
 * dilation d/g of `dy` with the reversed taps.
 */
function phase(r: number, s: number, d: number, k: number, pt: number, size: number): Phase {
  const q = r < size ? Math.ceil((size - r) / s) : 0;
  const g = gcd(s, d);
  let a0 = -1;
  for (let a = 0; a < Math.min(k, s); a++) {
    if ((((r + pt - a * d) % s) + s) % s === 0) {
      a0 = a;
      break;
    }
  }
  if (a0 < 0 || q === 0) return { q, a0: 0, step: 1, taps: 0, dil: 1, lo: 0, hi: -1 };
  const step = s / g;
  const dil = d / g;
  const taps = Math.floor((k - 1 - a0) / step) + 1;
  const c0 = (r + pt - a0 * d) / s;
  const lo = c0 - (taps - 1) * dil;
  return { q, a0, step, taps, dil, lo, hi: lo + q - 1 + (taps - 1) * dil };
}

/** `F[th, tw, co, ci] = W[a0h + (Th-1-th)·step_h, a0w + (Tw-1-tw)·step_w, ci, co]` for one output phase. */
function phaseFilter(wv: Float32Array, kw: number, cin: number, cout: number, ph: Phase, pw: Phase): Float32Array {
  const out = new Float32Array(ph.taps * pw.taps * cout * cin);
  let o = 0;
  for (let th = 0; th < ph.taps; th++) {
    const a = ph.a0 + (ph.taps - 1 - th) * ph.step;
    for (let tw = 0; tw < pw.taps; tw++) {
      const b = pw.a0 + (pw.taps - 1 - tw) * pw.step;
      const base = (a * kw + b) * cin * cout;
      for (let co = 0; co < cout; co++) {
        for (let ci = 0; ci < cin; ci++) out[o++] = wv[base + ci * cout + co];
      }
    }
  }
  return out;
}

/**
 * Input gradient for strides > 1 without wasted work: stride_h × stride_w phase convolutions, each with the
 * filter taps that reach that output phase, interleaved into `dx`.
 */
export function conv2dBackpropInputPolyphase(s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, inputShape: Shape4, attrs: ConvAttrs): tf.TensorInfo {
  const [kh, kw, cin, cout] = filter.shape as Shape4;
  const info = forwardConvInfo('Conv2DBackpropInput', inputShape, filter.shape as Shape4, dy, cout, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [, ho, wo] = dy.shape;
  const qh = Math.ceil(h / sh);
  const qw = Math.ceil(w / sw);
  const wv = s.backend.readSync(filter.dataId) as Float32Array;
  const rows: tf.TensorInfo[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const ph = phase(rh, sh, dh, kh, info.padInfo.top, h);
    const cols: tf.TensorInfo[] = [];
    for (let rw = 0; rw < sw; rw++) {
      const pw = phase(rw, sw, dw, kw, info.padInfo.left, w);
      let part: tf.TensorInfo;
      const loH = Math.max(0, ph.lo);
      const hiH = Math.min(ho - 1, ph.hi);
      const loW = Math.max(0, pw.lo);
      const hiW = Math.min(wo - 1, pw.hi);
      if (ph.taps === 0 || pw.taps === 0 || hiH < loH || hiW < loW) {
        part = s.write(new Float32Array(n * qh * qw * cin), [n, qh, qw, cin], 'float32');
      } else {
        // Taps of this phase, reversed and in/out-swapped: [Th, Tw, Cout, Cin] (a small gather in JavaScript).
        const f = s.write(phaseFilter(wv, kw, cin, cout, ph, pw), [ph.taps, pw.taps, cout, cin], 'float32');
        const z = window4d(s, dy, [0, loH, loW, 0], [n, hiH - loH + 1, hiW - loW + 1, cout]);
        const explicit: ExplicitPad = [[0, 0], [loH - ph.lo, ph.hi - hiH], [loW - pw.lo, pw.hi - hiW], [0, 0]];
        part = s.run('Conv2D', { x: z, filter: f }, {
          strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [ph.dil, pw.dil],
        } as unknown as tf.NamedAttrMap); // [N, ph.q, pw.q, Cin]
        part = s.pad(part, [[0, 0], [0, qh - ph.q], [0, qw - pw.q], [0, 0]]);
      }
      cols.push(s.reshape(part, [n, qh, 1, qw, 1, cin]));
    }
    rows.push(cols.length === 1 ? cols[0] : s.run('Concat', cols as unknown as tf.NamedTensorInfoMap, { axis: 4 }));
  }
  const all = rows.length === 1 ? rows[0] : s.run('Concat', rows as unknown as tf.NamedTensorInfoMap, { axis: 2 });
  const full = s.reshape(all, [n, qh * sh, qw * sw, cin]);
  return s.slice(full, [0, 0, 0, 0], [n, h, w, cin]);
}

/**
 * Filter gradient of an NHWC conv as one matrix product per chunk of output positions:
 * `dW[(a,b,ci), co] = sum_m A[(a,b,ci), m] · dY[m, co]`, where `A` (`[kh·kw·Cin, M]`, channel-major im2col of
 * the input, zeros where a tap reads padding) is filled by a JavaScript loop straight into the backend's memory,
 * and the product is the backend's untransposed batch-1 `BatchMatMul` (XNNPACK's fully-connected operator on
 * wasm). Its row order is already HWIO. The reduction over N·Ho·Wo is split into chunks of about `K_CHUNK`
 * positions, summed. Compared with one product per filter tap over strided windows of the input (this
 * function's earlier form) it is as fast for stride-1 3x3 convs and 1.4-1.8x faster for strided ones (the 7x7
 * stride-2 stem of a ResNet: 41 vs 23 ms for 8 images of 128x160 on one wasm thread).
 */
export function conv2dBackpropFilterViaMatMul(s: KernelScope, x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: Shape4, attrs: ConvAttrs): tf.TensorInfo {
  const [kh, kw, cin, cout] = filterShape;
  const info = forwardConvInfo('Conv2DBackpropFilter', x.shape as Shape4, filterShape, dy, cout, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [, ho, wo] = dy.shape;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const rowsA = kh * kw * cin;
  const b = s.backend;
  const heap = isHeapBackend(b);
  // Channel-major input [Cin, N, H, W] (the backend's transpose): each row of A then reads runs along W.
  const xT = s.transpose(x, [3, 0, 1, 2]);
  const chunks = reductionChunks(n, ho, wo);
  const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && ho === h && wo === w;
  // valid output columns per tap column bb: j with 0 <= j*sw + bb*dw - pl < w
  const jLo = new Int32Array(kw);
  const jHi = new Int32Array(kw);
  for (let bb = 0; bb < kw; bb++) {
    const off = bb * dw - pl;
    jLo[bb] = Math.min(wo, Math.max(0, Math.ceil(-off / sw)));
    jHi[bb] = Math.max(jLo[bb], Math.min(wo, Math.floor((w - 1 - off) / sw) + 1));
  }
  let acc: tf.TensorInfo | undefined;
  for (const c of chunks) {
    const mc = c.images * c.rows * wo;
    const single = chunks.length === 1;
    const dyc = single ? dy : window4d(s, dy, [c.n0, c.i0, 0, 0], [c.images, c.rows, wo, cout]);
    // A = im2col rows [kh*kw*cin, mc]; a view of xT when the conv is pointwise and there is one chunk
    const ownsA = !(pointwise && single);
    let aInfo: tf.TensorInfo;
    if (!ownsA) {
      aInfo = s.reshape(xT, [1, cin, mc]);
    } else {
      // heap backends: allocate the output first (growing the wasm heap detaches views taken before) and fill it
      // in place; others: fill a JS array and upload it
      const heapA = heap ? s.adopt(b.makeOutput([1, rowsA, mc], 'float32')) : undefined;
      const xv = (heap ? b.typedArrayFromHeap(xT) : b.readSync(xT.dataId)) as Float32Array;
      const av = heap && heapA ? (b.typedArrayFromHeap(heapA) as Float32Array) : new Float32Array(rowsA * mc);
      let o = 0;
      for (let a = 0; a < kh; a++) {
        for (let bb = 0; bb < kw; bb++) {
          const lo = jLo[bb];
          const hi = jHi[bb];
          const col0 = lo * sw + bb * dw - pl;
          for (let ci = 0; ci < cin; ci++) {
            for (let img = c.n0; img < c.n0 + c.images; img++) {
              const plane = (ci * n + img) * h;
              for (let i = c.i0; i < c.i0 + c.rows; i++) {
                const ih = i * sh + a * dh - pt;
                if (ih < 0 || ih >= h || lo >= hi) {
                  av.fill(0, o, o + wo);
                  o += wo;
                  continue;
                }
                if (lo > 0) av.fill(0, o, o + lo);
                const p0 = (plane + ih) * w + col0;
                if (sw === 1) {
                  av.set(xv.subarray(p0, p0 + hi - lo), o + lo);
                } else {
                  for (let j = lo, p = p0; j < hi; j++, p += sw) av[o + j] = xv[p];
                }
                if (hi < wo) av.fill(0, o + hi, o + wo);
                o += wo;
              }
            }
          }
        }
      }
      aInfo = heapA ?? s.write(av, [1, rowsA, mc], 'float32');
    }
    const g = s.run('BatchMatMul', { a: aInfo, b: s.reshape(dyc, [1, mc, cout]) }, { transposeA: false, transposeB: false });
    if (ownsA) s.release(aInfo);
    if (dyc !== dy) s.release(dyc);
    if (acc === undefined) {
      acc = g;
    } else {
      const sum = s.run('Add', { a: acc, b: g });
      s.release(acc);
      s.release(g);
      acc = sum;
    }
  }
  return s.reshape(acc as tf.TensorInfo, [kh, kw, cin, cout]);
}

/** Reduction positions per matrix product in the filter gradient. */
export const K_CHUNK = 4096;

/** Splits the N·Ho rows of output positions into chunks of about `K_CHUNK` positions (whole images or row runs). */
function reductionChunks(n: number, ho: number, wo: number): Array<{ n0: number; images: number; i0: number; rows: number }> {
  const perImage = ho * wo;
  if (n * perImage <= 1.5 * K_CHUNK) return [{ n0: 0, images: n, i0: 0, rows: ho }];
  const out: Array<{ n0: number; images: number; i0: number; rows: number }> = [];
  if (perImage <= K_CHUNK) {
    const step = Math.max(1, Math.floor(K_CHUNK / perImage));
    for (let n0 = 0; n0 < n; n0 += step) out.push({ n0, images: Math.min(step, n - n0), i0: 0, rows: ho });
  } else {
    const step = Math.max(1, Math.floor(K_CHUNK / wo));
    for (let n0 = 0; n0 < n; n0++) {
      for (let i0 = 0; i0 < ho; i0 += step) out.push({ n0, images: 1, i0, rows: Math.min(step, ho - i0) });
    }
  }
  return out;
}

/** `Conv2DBackpropInput` kernel config for `backendName`. */
export function conv2dBackpropInputConfig(backendName: string): tf.KernelConfig {
  return convGradKernelConfig('Conv2DBackpropInput', backendName, ['dy', 'filter'], 'inputShape', conv2dBackpropInputViaConv);
}

/** `Conv2DBackpropFilter` kernel config for `backendName`. */
export function conv2dBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return convGradKernelConfig('Conv2DBackpropFilter', backendName, ['x', 'dy'], 'filterShape', conv2dBackpropFilterViaMatMul);
}
