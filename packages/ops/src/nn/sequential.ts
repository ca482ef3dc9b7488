// SPDX-License-Identifier: Apache-2.0
/**
 * `Sequential` (PyTorch `nn.Sequential`: children named `0`, `1`, ...) and parameterless layers that occupy an
 * index in one (`ReLU`, `AvgPool2dCeil`), so state-dict names keep PyTorch's numbering.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@solo-ts/core';
import { layerToOnnx } from '../onnx/emit.js';
import { attr, type OnnxGraph, type OnnxValue } from '../onnx/graph.js';

/** A module mapping one NHWC tensor to another. */
export interface Layer extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

export class Sequential extends Module {
  readonly layers: Layer[];
  constructor(layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.layers.reduce((y, l) => l.forward(y), x));
  }

  /** ONNX: the layers in order (each needs `toOnnx`). */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    return this.layers.reduce((y, l, i) => layerToOnnx(l, g, y, String(i)), x);
  }
}

/** `nn.ReLU` (no state). */
export class ReLU extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.relu(x);
  }
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    return g.op('Relu', [x]);
  }
}

/**
 * `nn.AvgPool2d(kernel_size=s, stride=s, ceil_mode=True, count_include_pad=False)` (mmdet's `avg_down`
 * shortcut): output `ceil(h / s)`, each window averages only the input elements it covers.
 */
export class AvgPool2dCeil extends Module {
  constructor(readonly size: number) {
    super();
  }
  /** ONNX: AveragePool with ceil_mode and count_include_pad 0 (the partial windows average what they cover). */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    const s = this.size;
    if (s === 1) return g.op('Identity', [x]);
    return g.op('AveragePool', [x], { kernel_shape: attr.ints([s, s]), strides: attr.ints([s, s]), ceil_mode: attr.int(1), count_include_pad: attr.int(0) });
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const s = this.size;
    if (s === 1) return tf.clone(x);
    const [n, h, w, c] = x.shape;
    const oh = Math.ceil(h / s);
    const ow = Math.ceil(w / s);
    return tf.tidy(() => {
      const xp = tf.pad(x, [[0, 0], [0, oh * s - h], [0, ow * s - w], [0, 0]]);
      const sum = tf.sum(tf.reshape(xp, [n, oh, s, ow, s, c]), [2, 4]);
      const inv = new Float32Array(oh * ow);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) inv[i * ow + j] = 1 / ((Math.min(h, (i + 1) * s) - i * s) * (Math.min(w, (j + 1) * s) - j * s));
      }
      return tf.mul(sum, tf.tensor4d(inv, [1, oh, ow, 1])) as tf.Tensor4D;
    });
  }
}

/**
 * PyTorch `nn.ModuleList`: children named `0`, `1`, ... (state-dict keys `lateral_convs.0.conv.weight`); no
 * forward. Iterable in index order.
 */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }
  /** Append a child under the next index (`nn.ModuleList.append`); returns it. */
  push(m: M): M {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return m;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
