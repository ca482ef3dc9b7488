// SPDX-License-Identifier: Apache-2.0
/**
 * FLOPs of one TensorFlow.js kernel call from its input and output shapes (what `tf.profile` records; kernel
 * attributes such as strides are not recorded and are not needed).
 *
 * Conventions (the same as the analytic layer formulas in `count-flops.ts`):
 * - a multiply-add is 2 FLOPs: conv `2 * N * Ho * Wo * Cout * kh * kw * Cin/groups`, matmul `2 * M * N * K`;
 * - a bias add, an elementwise add / sub / mul / div, a square, sqrt, exp or log: 1 FLOP per output element;
 *   `AddN` of k tensors: k - 1 per element; a sum or mean reduction: 1 per input element;
 * - bilinear resize: 7 per output element (4 products, 3 sums); nearest resize, copies, gathers, pads, casts,
 *   layout changes: 0;
 * - activations (ReLU, sigmoid, ...), comparisons, max / min and max-pooling are not counted (as fvcore).
 */

/** What a kernel does, for grouping FLOPs. */
export type FlopKind = 'conv' | 'dcn' | 'matmul' | 'norm' | 'resize' | 'elementwise' | 'reduce' | 'other';

const size = (s: readonly number[] | null | undefined): number => (s ? s.reduce((a, b) => a * b, 1) : 0);

const ELEMENTWISE_1 = new Set([
  'Add', 'Sub', 'Multiply', 'RealDiv', 'Div', 'FloorDiv', 'Neg', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Log', 'Log1p',
  'Expm1', 'Reciprocal', 'Pow', 'Abs', 'BiasAdd', 'Floor', 'Ceil', 'Round', 'Mod', 'Erf', 'Sin', 'Cos',
]);
const ELEMENTWISE_2 = new Set(['SquaredDifference']);
const REDUCE = new Set(['Sum', 'Mean', 'Prod', 'Cumsum', 'Cumprod']);
const CONV = new Set(['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);
const MATMUL = new Set(['BatchMatMul', '_FusedMatMul']);

/** Kind of a kernel (for kernels without FLOPs, too). */
export function kernelKind(name: string): FlopKind {
  if (CONV.has(name)) return 'conv';
  if (MATMUL.has(name)) return 'matmul';
  if (name === 'ResizeBilinear' || name === 'ResizeNearestNeighbor') return 'resize';
  if (ELEMENTWISE_1.has(name) || ELEMENTWISE_2.has(name) || name === 'AddN') return 'elementwise';
  if (REDUCE.has(name)) return 'reduce';
  return 'other';
}

/** Contraction length K of a matmul from the shapes of `a` and of the output (`a` may be transposed). */
function matmulK(a: readonly number[], out: readonly number[]): number {
  const m = out[out.length - 2];
  const a0 = a[a.length - 2];
  const a1 = a[a.length - 1];
  return a0 === m ? a1 : a0;
}

/**
 * FLOPs of one kernel call. `inputs` are the input shapes in the kernel's input order (null for absent optional
 * inputs), `outputs` the output shapes.
 */
export function kernelFlops(name: string, inputs: ReadonlyArray<readonly number[] | null>, outputs: ReadonlyArray<readonly number[]>): number {
  const out = outputs[0] ?? [];
  const nOut = size(out);
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      // inputs: x, filter [kh, kw, cin, cout] (, bias, prelu weights)
      const f = inputs[1];
      if (!f) return 0;
      const macs = nOut * f[0] * f[1] * f[2];
      const bias = name === 'FusedConv2D' && inputs[2] ? nOut : 0;
      return 2 * macs + bias;
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': {
      // filter [kh, kw, cin, multiplier]; every output channel reads one input channel
      const f = inputs[1];
      if (!f) return 0;
      const bias = name === 'FusedDepthwiseConv2D' && inputs[2] ? nOut : 0;
      return 2 * nOut * f[0] * f[1] + bias;
    }
    case 'Conv2DBackpropInput': {
      // inputs: dy [n, ho, wo, cout], filter [kh, kw, cin, cout]; as many MACs as the forward conv
      const dy = inputs[0];
      const f = inputs[1];
      return dy && f ? 2 * size(dy) * f[0] * f[1] * f[2] : 0;
    }
    case 'Conv2DBackpropFilter': {
      // inputs: x, dy [n, ho, wo, cout]; output filter [kh, kw, cin, cout]
      const dy = inputs[1];
      return dy ? 2 * size(dy) * out[0] * out[1] * out[2] : 0;
    }
    case 'BatchMatMul':
    case '_FusedMatMul': {
      const a = inputs[0];
      if (!a) return 0;
      const bias = name === '_FusedMatMul' && inputs[2] ? nOut : 0;
      return 2 * nOut * matmulK(a, out) + bias;
    }
    case 'ResizeBilinear':
      return 7 * nOut;
    case 'AddN':
      return Math.max(0, inputs.length - 1) * nOut;
    default:
      if (ELEMENTWISE_1.has(name)) return nOut;
      if (ELEMENTWISE_2.has(name)) return 2 * nOut;
      if (REDUCE.has(name)) return size(inputs[0]);
      return 0;
  }
}
