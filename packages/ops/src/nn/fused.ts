// SPDX-License-Identifier: Apache-2.0
/**
 * conv -> norm -> activation. With BatchNorm folding enabled ({@link setBatchNormFolding}), an eval-mode
 * BatchNorm is folded into the convolution (`w' = w * a`, `b' = b * a + (beta - mean * a)`,
 * `a = gamma / sqrt(var + eps)`) and the whole runs as one fused conv + bias + ReLU (faster; differentiable, so it
 * also serves `norm_eval` training). Folding changes the float32 rounding: on the parity ResNet-50 the outputs
 * move about 1e-5 of their scale instead of 2e-6 unfolded (PyTorch's own run-to-run difference), so it is off by
 * default and inference code opts in: for every model ({@link setBatchNormFolding}) or per model
 * ({@link fuseForInference}).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@solo-ts/core';
import { conv2d } from '../functional/conv.js';
import { Conv2d } from './conv2d.js';
import { BatchNorm2d } from './norm.js';
import type { Layer } from './sequential.js';
import { layerToOnnx } from '../onnx/emit.js';
import type { OnnxGraph, OnnxValue } from '../onnx/graph.js';

/**
 * ONNX form of {@link convNormAct}: a Conv2d followed by a BatchNorm has the eval-mode BatchNorm folded into its
 * weights and bias (as PyTorch's exporter does); any other conv / norm is written as it is; then the ReLU.
 * `names`: the state-dict names of the conv and the norm (value scopes).
 */
export function convNormActOnnx(g: OnnxGraph, x: OnnxValue, conv: Layer, norm: Layer | null, relu: boolean, names: [string, string] = ['conv', 'bn']): OnnxValue {
  if (conv instanceof Conv2d && (norm === null || norm instanceof BatchNorm2d)) {
    const fold = norm ? (norm as BatchNorm2d).evalScaleShiftData() : null;
    return g.scope(names[0], () => conv.toOnnx(g, x, fold, relu));
  }
  let y = layerToOnnx(conv, g, x, names[0]);
  if (norm) y = layerToOnnx(norm, g, y, names[1]);
  return relu ? g.op('Relu', [y]) : y;
}

let foldBatchNorm = false;
/** BatchNorms folded per model by {@link fuseForInference}. */
const foldedNorms = new WeakSet<BatchNorm2d>();

/** Fold eval-mode BatchNorms into the preceding conv in {@link convNormAct} (default false; every model). */
export function setBatchNormFolding(enabled: boolean): void {
  foldBatchNorm = enabled;
}

/**
 * Fold the BatchNorms of one model into their convs whenever they run in eval mode through {@link convNormAct}
 * (every conv -> BN [-> ReLU] of the ResNet backbones): one fused conv + bias + ReLU instead of a conv, a scale, a
 * shift and a ReLU over the activations (about 1.5% of a SOLOv2 R50 forward on wasm). For inference (the float32
 * rounding moves by about 1e-5 of the outputs' scale); `enabled = false` undoes it. Returns the number of
 * BatchNorms affected. The state dict is unchanged (the fold is recomputed from the weights at each call).
 */
export function fuseForInference(model: Module, enabled = true): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    if (enabled) foldedNorms.add(m);
    else foldedNorms.delete(m);
    n++;
  }
  return n;
}

/** Whether BatchNorm folding is on. */
export function batchNormFolding(): boolean {
  return foldBatchNorm;
}

export function convNormAct(x: tf.Tensor4D, conv: Layer, norm: Layer | null, relu: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    if (conv instanceof Conv2d && (norm === null || (norm instanceof BatchNorm2d && !norm.training && (foldBatchNorm || foldedNorms.has(norm))))) {
      let w = conv.weight.variable as tf.Tensor4D;
      let b: tf.Tensor1D | null = conv.bias ? (conv.bias.variable as tf.Tensor1D) : null;
      if (norm) {
        const { scale, shift } = norm.evalScaleShift();
        w = tf.mul(w, scale);
        b = b ? (tf.add(tf.mul(b, scale), shift) as tf.Tensor1D) : shift;
      }
      return conv2d(x, w, b, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups, activation: relu ? 'relu' : 'linear' });
    }
    let y = conv.forward(x);
    if (norm) y = norm.forward(y);
    return relu ? tf.relu(y) : y;
  });
}
