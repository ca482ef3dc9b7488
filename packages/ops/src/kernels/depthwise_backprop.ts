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
import { convGradKernelConfig, forwardConvInfo, zeroInsertedDy, type ConvAttrs, type Shape4 } from './conv_grad_utils.js';
import { type KernelScope, window4d } from './kernel_utils.js';

/** Input gradient of a depthwise conv, computed with the backend's forward `DepthwiseConv2dNative`. */
export function depthwiseBackpropInputViaConv(s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, inputShape: Shape4, attrs: ConvAttrs): tf.TensorInfo {
  const [kh, kw, c, m] = filter.shape as Shape4;
  const cm = c * m;
  const info = forwardConvInfo('DepthwiseConv2dNativeBackpropInput', inputShape, filter.shape as Shape4, dy, cm, attrs, true);
  const { batchSize: n, inHeight: h, inWidth: w } = info;
  const { z, pad: explicit } = zeroInsertedDy(s, dy, info);
  const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
  const f = s.reshape(flipped, [kh, kw, cm, 1]);
  const g = s.run('DepthwiseConv2dNative', { x: z, filter: f }, {
    strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: attrs.dilations,
  } as unknown as tf.NamedAttrMap); // [N, H, W, C*M]
  if (m === 1) return g;
  const g5 = s.reshape(g, [n, h, w, c, m]);
  return s.run('Sum', { x: g5 }, { axis: [4], keepDims: false });
}

/** Filter gradient of a depthwise conv: per-tap strided slices of the padded input times `dy`, summed. */
export function depthwiseBackpropFilterViaSlices(s: KernelScope, x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: Shape4, attrs: ConvAttrs): tf.TensorInfo {
  const [kh, kw, c, m] = filterShape;
  const info = forwardConvInfo('DepthwiseConv2dNativeBackpropFilter', x.shape as Shape4, filterShape, dy, c * m, attrs, true);
  const { batchSize: n, inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [, ho, wo] = dy.shape;
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

/** `DepthwiseConv2dNativeBackpropInput` kernel config for `backendName`. */
export function depthwiseBackpropInputConfig(backendName: string): tf.KernelConfig {
  return convGradKernelConfig('DepthwiseConv2dNativeBackpropInput', backendName, ['dy', 'filter'], 'inputShape', depthwiseBackpropInputViaConv);
}

/** `DepthwiseConv2dNativeBackpropFilter` kernel config for `backendName`. */
export function depthwiseBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return convGradKernelConfig('DepthwiseConv2dNativeBackpropFilter', backendName, ['x', 'dy'], 'filterShape', depthwiseBackpropFilterViaSlices);
}
