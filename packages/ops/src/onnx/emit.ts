// SPDX-License-Identifier: Apache-2.0
/**
 * Emitters of the functional ops into an {@link OnnxGraph}, on NCHW values, mirroring the tfjs functions of this
 * package (conv, resize, coordinate features, point NMS, max pool, GroupNorm), and the contract of exportable
 * modules (`toOnnx`). Spatial sizes are taken from the graph at run time (Shape), never baked in, so one graph
 * serves every batch size and input size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError, type Module } from '@solo-ts/core';
import { attr, type OnnxGraph, type OnnxValue } from './graph.js';

/** A module that writes its forward (one NCHW value in, one out) into a graph. */
export interface OnnxLayer {
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue;
}

/** Whether `m` has a `toOnnx` method. */
export function hasOnnxEmitter(m: unknown): m is { toOnnx: (...args: never[]) => unknown } {
  return typeof (m as { toOnnx?: unknown } | null)?.toOnnx === 'function';
}

/** The error for a module that cannot be written to ONNX. */
export function notExportable(m: unknown, where: string, why = 'it has no toOnnx(g, x) method'): SoloError {
  const name = (m as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof m;
  return new SoloError(`ONNX export: ${where ? `${where} (${name})` : name} cannot be exported: ${why}`, {
    code: 'CONFIG',
    hint: 'a plugin component exports by implementing toOnnx(g, ...) mirroring its forward (see docs/onnx.md)',
  });
}

/** `m.toOnnx(g, x)` under the value scope `name` (state-dict name of the child), or a clear error. */
export function layerToOnnx(m: Module | null | undefined, g: OnnxGraph, x: OnnxValue, name: string): OnnxValue {
  if (!hasOnnxEmitter(m)) throw notExportable(m, name);
  return g.scope(name, () => (m as unknown as OnnxLayer).toOnnx(g, x));
}

/** The values of a tensor as a new Float32Array (synchronous read). */
export function tensorData(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** A conv weight in our HWIO layout as ONNX OIHW data and dims. */
export function hwioToOihw(w: tf.Tensor): { data: Float32Array; dims: number[] } {
  if (w.rank !== 4) throw new SoloError(`ONNX export: a conv weight must be HWIO (rank 4), got shape [${w.shape.join(', ')}]`, { code: 'SHAPE' });
  const [kh, kw, ci, co] = w.shape;
  const src = w.dataSync() as Float32Array;
  const out = new Float32Array(src.length);
  // HWIO index ((y * kw + x) * ci + i) * co + o  ->  OIHW index ((o * ci + i) * kh + y) * kw + x (a host loop: a
  // backend transpose costs more than the copy on the cpu backend)
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        const base = ((y * kw + x) * ci + i) * co;
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = src[base + o];
      }
    }
  }
  return { data: out, dims: [co, ci, kh, kw] };
}

/** Geometry of a 2-D convolution. */
export interface ConvGeometry {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

/** ONNX Conv (weight OIHW, optional bias), NCHW. */
export function convOnnx(g: OnnxGraph, x: OnnxValue, weight: { data: Float32Array; dims: number[] }, bias: Float32Array | null, geo: ConvGeometry): OnnxValue {
  const w = g.initializer('weight', weight.data, weight.dims);
  const inputs = [x, w];
  if (bias) inputs.push(g.initializer('bias', bias, [bias.length]));
  const [ph, pw] = geo.padding;
  return g.op('Conv', inputs, {
    kernel_shape: attr.ints(weight.dims.slice(2)),
    strides: attr.ints(geo.stride),
    pads: attr.ints([ph, pw, ph, pw]),
    dilations: attr.ints(geo.dilation),
    group: attr.int(geo.groups),
  });
}

/** `x * scale[c] + shift[c]` per channel of an NCHW value. */
export function channelAffineOnnx(g: OnnxGraph, x: OnnxValue, scale: Float32Array | null, shift: Float32Array | null): OnnxValue {
  let y = x;
  if (scale) y = g.op('Mul', [y, g.initializer('scale', scale, [scale.length, 1, 1])]);
  if (shift) y = g.op('Add', [y, g.initializer('shift', shift, [shift.length, 1, 1])]);
  return y;
}

/** Dims `[from, to)` of the runtime shape of `x` (int64 1-D). */
export function shapeSlice(g: OnnxGraph, x: OnnxValue, from: number, to: number): OnnxValue {
  return g.op('Shape', [x], { start: attr.int(from), end: attr.int(to) });
}

/**
 * PyTorch `F.interpolate(x, scale_factor=f, mode, align_corners=False)`: output `floor(in * f)`, source coordinates
 * from the user's scale (as PyTorch passes it to the kernel). Nearest is PyTorch's legacy rule (`floor(dst / f)`).
 */
export function resizeByScaleOnnx(g: OnnxGraph, x: OnnxValue, mode: 'bilinear' | 'nearest', factor: number | [number, number]): OnnxValue {
  const [fh, fw] = typeof factor === 'number' ? [factor, factor] : factor;
  const scales = g.float32([1, 1, fh, fw], [4]);
  return g.op('Resize', [x, '', scales], resizeAttrs(mode));
}

/** PyTorch `F.interpolate(x, size=[h, w], mode, align_corners=False)` to a fixed size. */
export function resizeToSizeOnnx(g: OnnxGraph, x: OnnxValue, mode: 'bilinear' | 'nearest', size: [number, number]): OnnxValue {
  const sizes = g.op('Concat', [shapeSlice(g, x, 0, 2), g.int64(size)], { axis: attr.int(0) });
  return g.op('Resize', [x, '', '', sizes], resizeAttrs(mode));
}

/** PyTorch `F.interpolate(x, size=ref.shape[2:], mode, align_corners=False)`: to the runtime spatial size of `ref`. */
export function resizeLikeOnnx(g: OnnxGraph, x: OnnxValue, ref: OnnxValue, mode: 'bilinear' | 'nearest'): OnnxValue {
  const sizes = g.op('Concat', [shapeSlice(g, x, 0, 2), shapeSlice(g, ref, 2, 4)], { axis: attr.int(0) });
  return g.op('Resize', [x, '', '', sizes], resizeAttrs(mode));
}

function resizeAttrs(mode: 'bilinear' | 'nearest'): Record<string, ReturnType<typeof attr.int>> {
  if (mode === 'bilinear') return { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('pytorch_half_pixel') };
  if (mode === 'nearest') return { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') };
  throw new SoloError(`ONNX export: unsupported interpolation mode ${JSON.stringify(mode)}`, { expected: "'bilinear' or 'nearest'" });
}

/**
 * `torch.linspace(-1, 1, n)` for a runtime length `n` (int64 scalar-shaped 1-D value of one element), as a float
 * vector: `-1 + i * 2 / max(n - 1, 1)` (within an ulp of PyTorch's kernel).
 */
function linspaceOnnx(g: OnnxGraph, n: OnnxValue): OnnxValue {
  const nScalar = g.op('Squeeze', [n, g.int64([0])]);
  const idx = g.op('Cast', [g.op('Range', [g.int64([0], []), nScalar, g.int64([1], [])])], { to: attr.int(1) });
  const nf = g.op('Cast', [nScalar], { to: attr.int(1) });
  const denom = g.op('Max', [g.op('Sub', [nf, g.float32([1])]), g.float32([1])]);
  const step = g.op('Div', [g.float32([2]), denom]);
  return g.op('Add', [g.op('Mul', [idx, step]), g.float32([-1])]);
}

/**
 * SOLO coordinate features (mmdet `generate_coordinate`) for the runtime shape of `x` `[N, C, H, W]`: `[N, 2, H, W]`,
 * channel 0 = x (linspace over the width), channel 1 = y (over the height); `which` picks one channel only.
 */
export function coordFeatureOnnx(g: OnnxGraph, x: OnnxValue, which: 'xy' | 'x' | 'y' = 'xy'): OnnxValue {
  return g.scope('coord', () => {
    const shape = g.op('Shape', [x]);
    const h = g.op('Slice', [shape, g.int64([2]), g.int64([3])]);
    const w = g.op('Slice', [shape, g.int64([3]), g.int64([4])]);
    const target = g.op('Concat', [g.op('Slice', [shape, g.int64([0]), g.int64([1])]), g.int64([1]), h, w], { axis: attr.int(0) });
    const parts: OnnxValue[] = [];
    if (which !== 'y') parts.push(g.op('Expand', [g.op('Reshape', [linspaceOnnx(g, w), g.int64([1, 1, 1, -1])]), target]));
    if (which !== 'x') parts.push(g.op('Expand', [g.op('Reshape', [linspaceOnnx(g, h), g.int64([1, 1, -1, 1])]), target]));
    return parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: attr.int(1) });
  });
}

/** `torch.cat([x, coords], 1)` with {@link coordFeatureOnnx}. */
export function concatCoordsOnnx(g: OnnxGraph, x: OnnxValue, which: 'xy' | 'x' | 'y' = 'xy'): OnnxValue {
  return g.op('Concat', [x, coordFeatureOnnx(g, x, which)], { axis: attr.int(1) });
}

/** PyTorch `F.max_pool2d(x, k, s, p)` (floor mode, `-inf` padding). */
export function maxPoolOnnx(g: OnnxGraph, x: OnnxValue, kernel: number, stride: number, padding: number): OnnxValue {
  return g.op('MaxPool', [x], { kernel_shape: attr.ints([kernel, kernel]), strides: attr.ints([stride, stride]), pads: attr.ints([padding, padding, padding, padding]) });
}

/**
 * mmdet `points_nms` with kernel 2: `hmax = max_pool2d(heat, 2, 1, padding 1)[..., :-1, :-1]`, i.e. the max over
 * the window reaching one cell up and left (pads top/left only); keeps a score equal to its local max, else 0.
 */
export function pointNmsOnnx(g: OnnxGraph, heat: OnnxValue, kernel = 2): OnnxValue {
  if (kernel !== 2) throw new SoloError(`ONNX export: point NMS with kernel ${kernel} is not supported (mmdet uses 2)`);
  const hmax = g.op('MaxPool', [heat], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([1, 1]), pads: attr.ints([1, 1, 0, 0]) });
  const keep = g.op('Cast', [g.op('Equal', [hmax, heat])], { to: attr.int(1) });
  return g.op('Mul', [heat, keep]);
}

/**
 * GroupNorm over NCHW (PyTorch `F.group_norm`): reshape to `[N, G, -1]`, InstanceNormalization (unit scale, zero
 * bias: the per-group mean and biased variance), back to the input shape, then the per-channel affine map.
 */
export function groupNormOnnx(g: OnnxGraph, x: OnnxValue, numGroups: number, eps: number, weight: Float32Array | null, bias: Float32Array | null): OnnxValue {
  const grouped = g.op('Reshape', [x, g.int64([0, numGroups, -1])]);
  const ones = g.float32(Array.from({ length: numGroups }, () => 1), [numGroups]);
  const zeros = g.float32(Array.from({ length: numGroups }, () => 0), [numGroups]);
  const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: attr.float(eps) });
  const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
  return channelAffineOnnx(g, back, weight, bias);
}

/** mmcv act_cfg activations. */
export function activationOnnx(g: OnnxGraph, x: OnnxValue, cfg: { type: string; negative_slope?: number }): OnnxValue {
  switch (cfg.type) {
    case 'ReLU':
      return g.op('Relu', [x]);
    case 'LeakyReLU':
      return g.op('LeakyRelu', [x], { alpha: attr.float(cfg.negative_slope ?? 0.01) });
    case 'Sigmoid':
      return g.op('Sigmoid', [x]);
    case 'Tanh':
      return g.op('Tanh', [x]);
    default:
      throw new SoloError(`ONNX export: unknown act_cfg type "${cfg.type}"`, { expected: 'ReLU, LeakyReLU, Sigmoid or Tanh' });
  }
}
