// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.conv2d` semantics on NHWC tensors with HWIO weights: symmetric zero padding, stride, dilation and
 * groups. Weight shape `[kh, kw, inChannels / groups, outChannels]` (the transpose of PyTorch's
 * `(out, in / groups, kh, kw)`); output channel `o` of group `g = floor(o / (out / groups))` reads input channels
 * `g * in/groups ... (g + 1) * in/groups - 1`, exactly like PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';

export type Pair = number | [number, number];

export function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Options of {@link conv2d}. */
export interface ConvFnOptions {
  /** Stride (default 1). */
  stride?: Pair;
  /** Symmetric zero padding on each side (default 0), as PyTorch's `padding`. */
  padding?: Pair;
  /** Dilation (default 1). */
  dilation?: Pair;
  /** Groups (default 1): in and out channels must both be divisible by it. */
  groups?: number;
  /** Activation fused after the bias add (default none). */
  activation?: 'linear' | 'relu';
}

/** Zero-pad the spatial dims of an NHWC tensor symmetrically (no-op for 0). */
export function padSpatial(x: tf.Tensor4D, ph: number, pw: number, value = 0): tf.Tensor4D {
  if (ph === 0 && pw === 0) return x;
  return tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]], value);
}

/** Insert zeros into a filter so that a dilated conv can run with stride > 1 (tfjs forbids both at once). */
function dilateFilter(w: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, i, o] = w.shape;
    let f: tf.Tensor = w;
    if (dh > 1) {
      // [kh, 1, kw, i, o] ++ zeros [kh, dh-1, kw, i, o] -> [kh*dh, kw, i, o], drop the trailing dh-1 rows
      const e = tf.reshape(f, [kh, 1, kw, i, o]);
      const z = tf.zeros([kh, dh - 1, kw, i, o]);
      f = tf.slice(tf.reshape(tf.concat([e, z], 1), [kh * dh, kw, i, o]), [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, i, o]);
    }
    if (dw > 1) {
      const kh2 = f.shape[0];
      const e = tf.reshape(f, [kh2, kw, 1, i, o]);
      const z = tf.zeros([kh2, kw, dw - 1, i, o]);
      f = tf.slice(tf.reshape(tf.concat([e, z], 2), [kh2, kw * dw, i, o]), [0, 0, 0, 0], [kh2, (kw - 1) * dw + 1, i, o]);
    }
    return f as tf.Tensor4D;
  });
}

// tfjs conv gradients do not support dilation: dilated convs run with a zero-inserted filter (exact, differentiable).
function plainConv(x: tf.Tensor4D, w: tf.Tensor4D, s: [number, number], d: [number, number], pad: ConvPad): tf.Tensor4D {
  if (d[0] > 1 || d[1] > 1) return tf.conv2d(x, dilateFilter(w, d[0], d[1]), s, pad);
  return tf.conv2d(x, w, s, pad);
}

/** tfjs padding argument: symmetric zero padding handled inside the conv kernel (no padded copy of the input). */
type ConvPad = 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
function convPad(ph: number, pw: number): ConvPad {
  if (ph === 0 && pw === 0) return 'valid';
  if (ph === pw) return ph;
  return [[0, 0], [ph, ph], [pw, pw], [0, 0]];
}

/**
 * PyTorch conv2d. `x` NHWC, `weight` HWIO (`[kh, kw, in/groups, out]`), `bias` `[out]` or null.
 * Returns `[n, floor((h + 2p - d(k-1) - 1)/s) + 1, ..., out]`.
 */
export function conv2d(x: tf.Tensor4D, weight: tf.Tensor4D, bias: tf.Tensor1D | null, options: ConvFnOptions = {}): tf.Tensor4D {
  const s = pair(options.stride ?? 1);
  const p = pair(options.padding ?? 0);
  const d = pair(options.dilation ?? 1);
  const groups = options.groups ?? 1;
  const cin = x.shape[3];
  const [kh, kw, wi, cout] = weight.shape;
  if (cin % groups !== 0 || cout % groups !== 0 || wi * groups !== cin) {
    throw new SoloError(`conv2d: input has ${cin} channels, weight is [${weight.shape.join(', ')}] (HWIO) with groups ${groups}`, {
      expected: `input channels = weight in-channels (${wi}) x groups (${groups}), out channels divisible by groups`,
    });
  }
  return tf.tidy(() => {
    // tfjs's numeric / explicit padding is symmetric zero padding with floor output size, as PyTorch
    const pad = convPad(p[0], p[1]);
    const xp = x;
    let y: tf.Tensor4D;
    if (groups === 1) {
      const dilated = d[0] > 1 || d[1] > 1;
      const filter = dilated ? dilateFilter(weight, d[0], d[1]) : weight;
      // Without bias and activation there is nothing to fuse, and tfjs's fused conv records a custom gradient that
      // computes the input gradient eagerly even when nothing needs it (the stem conv's gradient w.r.t. the
      // image: ~4% of a training step of the demo model). The plain conv's tape entry is pruned by the engine.
      if (!bias && (options.activation ?? 'linear') === 'linear') return tf.conv2d(xp, filter, s, pad);
      return tf.fused.conv2d({
        x: xp,
        filter,
        strides: s,
        pad,
        bias: bias ?? undefined,
        activation: options.activation ?? 'linear',
      });
    } else if (groups === cin && wi === 1) {
      // depthwise (possibly with a channel multiplier): weight [kh, kw, 1, cin*m] -> [kh, kw, cin, m]
      const m = cout / cin;
      const dw = tf.reshape(weight, [kh, kw, cin, m]);
      const dilated = d[0] > 1 || d[1] > 1;
      y = tf.depthwiseConv2d(xp, dilated ? dilateFilter(dw as tf.Tensor4D, d[0], d[1]) : (dw as tf.Tensor4D), s, pad);
    } else if (cout / groups <= 8) {
      // grouped conv with few outputs per group (ResNeXt: 4 or 8) as one depthwise conv with channel multiplier
      // og followed by a sum over the group's input channels: 6-7x faster than one conv per group on wasm.
      const og = cout / groups;
      const dwf = tf.reshape(tf.transpose(tf.reshape(weight, [kh, kw, wi, groups, og]), [0, 1, 3, 2, 4]), [kh, kw, cin, og]) as tf.Tensor4D;
      const dilated = d[0] > 1 || d[1] > 1;
      const z = tf.depthwiseConv2d(xp, dilated ? dilateFilter(dwf, d[0], d[1]) : dwf, s, pad);
      const [n, ho, wo] = z.shape;
      y = wi === 1 ? z : (tf.reshape(tf.sum(tf.reshape(z, [n, ho, wo, groups, wi, og]), 4), [n, ho, wo, cout]) as tf.Tensor4D);
    } else {
      const xs = tf.split(xp, groups, 3);
      const ws = tf.split(weight, groups, 3);
      y = tf.concat(xs.map((xi, g) => plainConv(xi as tf.Tensor4D, ws[g] as tf.Tensor4D, s, d, pad)), 3);
    }
    if (bias) y = tf.add(y, bias);
    if (options.activation === 'relu') y = tf.relu(y);
    return y;
  });
}
