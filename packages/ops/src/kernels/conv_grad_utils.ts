// SPDX-License-Identifier: Apache-2.0
/**
 * What the conv and depthwise-conv gradient kernels (`conv2d_backprop.ts`, `depthwise_backprop.ts`) share: the
 * forward geometry with its `dy` check, the zero-inserted and padded `dy` of the "input gradient = stride-1 conv
 * with the flipped filter" formulation, and the kernel config wrapper that reads tfjs's attributes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendLike, type ExplicitPad, KernelScope, pair } from './kernel_utils.js';

export type Pad = 'valid' | 'same' | number | ExplicitPad;
export type DimRoundingMode = 'floor' | 'round' | 'ceil';
export type Shape4 = [number, number, number, number];

/** The forward conv's attributes, as tfjs passes them to the gradient kernels. */
export interface ConvAttrs {
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
  dimRoundingMode?: DimRoundingMode;
}

/**
 * The forward conv's geometry (`computeConv2DInfo`) for input `xShape` and filter `filterShape`; throws when
 * `dy` is not the forward output's shape (`outChannels` channels).
 */
export function forwardConvInfo(
  kernel: string,
  xShape: Shape4,
  filterShape: Shape4,
  dy: tf.TensorInfo,
  outChannels: number,
  attrs: ConvAttrs,
  depthwise = false,
): tf.backend_util.Conv2DInfo {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, depthwise);
  const [, ho, wo, co] = dy.shape;
  if (info.outHeight !== ho || info.outWidth !== wo || co !== outChannels) {
    throw new Error(`${kernel}: dy shape [${dy.shape}] does not match the forward output ` +
      `[${xShape[0]},${info.outHeight},${info.outWidth},${outChannels}] of input [${xShape}]`);
  }
  return info;
}

/**
 * `dy` zero-inserted along H and W (`[N,Ho,Wo,C] -> [N,Ho*sh,Wo*sw,C]`, each row followed by `s-1` zero rows),
 * cropped where the stride-1 conv with the flipped `kh x kw` filter needs negative padding, and the explicit
 * padding of that conv, so that its output is exactly the forward input's size (`info`, from
 * `forwardConvInfo`): `dx[p] = sum_a z[p + pt - (k-1-a)*d]`.
 */
export function zeroInsertedDy(s: KernelScope, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): { z: tf.TensorInfo; pad: ExplicitPad } {
  const { batchSize: n, inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: kh, filterWidth: kw, padInfo } = info;
  const [, ho, wo, c] = dy.shape;
  let z = dy;
  if (sh > 1 || sw > 1) {
    z = s.reshape(z, [n, ho, 1, wo, 1, c]);
    z = s.pad(z, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    z = s.reshape(z, [n, ho * sh, wo * sw, c]);
  }
  const lh = ho * sh;
  const lw = wo * sw;
  // padding of the stride-1 conv over z (negative = crop)
  const top = (kh - 1) * dh - padInfo.top;
  const bottom = h - lh + padInfo.top;
  const left = (kw - 1) * dw - padInfo.left;
  const right = w - lw + padInfo.left;
  const cropT = Math.max(0, -top);
  const cropB = Math.max(0, -bottom);
  const cropL = Math.max(0, -left);
  const cropR = Math.max(0, -right);
  if (cropT + cropB > 0 || cropL + cropR > 0) {
    z = s.slice(z, [0, cropT, cropL, 0], [n, lh - cropT - cropB, lw - cropL - cropR, c]);
  }
  return { z, pad: [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]] };
}

/** A conv gradient: inputs `a`, `b` (`dy`/`filter` or `x`/`dy`), the shape attribute and the conv attributes. */
type GradFn = (s: KernelScope, a: tf.TensorInfo, b: tf.TensorInfo, shape: Shape4, attrs: ConvAttrs) => tf.TensorInfo;

/**
 * Kernel config of a conv gradient for `backendName`: NHWC only; inputs `names` and the attribute `shapeAttr`
 * (`inputShape` / `filterShape`), `strides`, `dilations` (default 1), `pad`, `dimRoundingMode` as tfjs passes them.
 */
export function convGradKernelConfig(
  kernelName: string,
  backendName: string,
  names: [string, string],
  shapeAttr: 'inputShape' | 'filterShape',
  grad: GradFn,
): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const df = attrs['dataFormat'];
      if (df !== undefined && df !== 'NHWC' && df !== 'channelsLast') {
        throw new Error(`solo-ts ${kernelName}: only dataFormat NHWC is supported, got ${String(df)}`);
      }
      const a = (inputs as Record<string, tf.TensorInfo>)[names[0]];
      const b = (inputs as Record<string, tf.TensorInfo>)[names[1]];
      const conv: ConvAttrs = {
        strides: pair(attrs['strides'], 1),
        dilations: pair(attrs['dilations'], 1),
        pad: attrs['pad'] as Pad,
        dimRoundingMode: attrs['dimRoundingMode'] as DimRoundingMode | undefined,
      };
      return KernelScope.use(backendName, backend as BackendLike, (s) => grad(s, a, b, attrs[shapeAttr] as Shape4, conv));
    },
  };
}
