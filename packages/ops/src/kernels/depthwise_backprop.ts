// SPDX-License-Identifier: Apache-2.0
/**
 * Depthwise conv input and filter gradients built from forward kernels of the same backend.
 *
 * Kernels `DepthwiseConv2dNativeBackpropInput` and `DepthwiseConv2dNativeBackpropFilter` (NHWC, filter
 * `[kh, kw, C, M]`, output channel `c*M + m`):
 *
 * - input gradient: a depthwise conv (stride 1, same dilation) of the zero-inserted, padded `dy` with the flipped
 *   filter reshaped to `[kh, kw, C*M, 1]`, then a sum over the `M` multiplier channels;
 * - filter gradient: one strided slice of the padded input per filter tap, multiplied by `dy` and summed over
 *   batch and space (as many FLOPs as the forward depthwise conv).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendLike, type ExplicitPad, KernelScope, pair, window4d } from './kernel_utils.js';

type Pad = 'valid' | 'same' | number | ExplicitPad;

/** Input gradient of a depthwise conv, computed with the backend's forward `DepthwiseConv2dNative`. */
export function depthwiseBackpropInputViaConv(
  s: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  inputShape: [number, number, number, number],
  strides: [number, number],
  dilations: [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.TensorInfo {
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const [n, h, w] = inputShape;
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, [kh, kw, c, m], strides, dilations, pad, dimRoundingMode, true);
  const [, ho, wo, cm] = dy.shape;
  if (info.outHeight !== ho || info.outWidth !== wo || cm !== c * m) {
    throw new Error(`DepthwiseConv2dNativeBackpropInput: dy shape [${dy.shape}] does not match the forward ` +
      `output [${n},${info.outHeight},${info.outWidth},${c * m}]`);
  }
  let z = dy;
  if (sh > 1 || sw > 1) {
    z = s.reshape(z, [n, ho, 1, wo, 1, cm]);
    z = s.pad(z, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    z = s.reshape(z, [n, ho * sh, wo * sw, cm]);
  }
  const lh = ho * sh;
  const lw = wo * sw;
  const top = (kh - 1) * dh - info.padInfo.top;
  const bottom = h - lh + info.padInfo.top;
  const left = (kw - 1) * dw - info.padInfo.left;
  const right = w - lw + info.padInfo.left;
  const cropT = Math.max(0, -top);
  const cropB = Math.max(0, -bottom);
  const cropL = Math.max(0, -left);
  const cropR = Math.max(0, -right);
  if (cropT + cropB > 0 || cropL + cropR > 0) {
    z = s.slice(z, [0, cropT, cropL, 0], [n, lh - cropT - cropB, lw - cropL - cropR, cm]);
  }
  const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
  const f = s.reshape(flipped, [kh, kw, cm, 1]);
  const explicit: ExplicitPad = [[0, 0], [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)], [0, 0]];
  const g = s.run('DepthwiseConv2dNative', { x: z, filter: f }, {
    strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [dh, dw],
  } as unknown as tf.NamedAttrMap); // [N, H, W, C*M]
  if (m === 1) return g;
  const g5 = s.reshape(g, [n, h, w, c, m]);
  return s.run('Sum', { x: g5 }, { axis: [4], keepDims: false });
}

/** Filter gradient of a depthwise conv: per-tap strided slices of the padded input times `dy`, summed. */
export function depthwiseBackpropFilterViaSlices(
  s: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  filterShape: [number, number, number, number],
  strides: [number, number],
  dilations: [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.TensorInfo {
  const [kh, kw, c, m] = filterShape;
  const [n, h, w] = x.shape as [number, number, number, number];
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const [, ho, wo, cm] = dy.shape;
  if (info.outHeight !== ho || info.outWidth !== wo || cm !== c * m) {
    throw new Error(`DepthwiseConv2dNativeBackpropFilter: dy shape [${dy.shape}] does not match the forward ` +
      `output [${n},${info.outHeight},${info.outWidth},${c * m}]`);
  }
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const needH = (kh - 1) * dh + (ho - 1) * sh + 1;
  const needW = (kw - 1) * dw + (wo - 1) * sw + 1;
  const xp = s.pad(x, [[0, 0], [pt, Math.max(0, needH - pt - h)], [pl, Math.max(0, needW - pl - w)], [0, 0]]);
  const dy5 = m === 1 ? dy : s.reshape(dy, [n, ho, wo, c, m]);
  const taps: tf.TensorInfo[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      let tap = window4d(s, xp, [0, a * dh, b * dw, 0], [n, ho, wo, c], [1, sh, sw, 1]);
      if (m > 1) tap = s.reshape(tap, [n, ho, wo, c, 1]);
      const prod = s.run('Multiply', { a: tap, b: dy5 });
      const red = s.run('Sum', { x: prod }, { axis: [0, 1, 2], keepDims: false }); // [C] or [C, M]
      taps.push(s.reshape(red, [1, c * m]));
    }
  }
  const all = taps.length === 1 ? taps[0] : s.run('Concat', taps as unknown as tf.NamedTensorInfoMap, { axis: 0 });
  return s.reshape(all, [kh, kw, c, m]);
}

export function depthwiseBackpropInputConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      return KernelScope.use(backendName, backend as BackendLike, (s) =>
        depthwiseBackpropInputViaConv(s, dy, filter,
          attrs['inputShape'] as [number, number, number, number],
          pair(attrs['strides'], 1), pair(attrs['dilations'], 1), attrs['pad'] as Pad,
          attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined));
    },
  };
}

export function depthwiseBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      return KernelScope.use(backendName, backend as BackendLike, (s) =>
        depthwiseBackpropFilterViaSlices(s, x, dy,
          attrs['filterShape'] as [number, number, number, number],
          pair(attrs['strides'], 1), pair(attrs['dilations'], 1), attrs['pad'] as Pad,
          attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined));
    },
  };
}
