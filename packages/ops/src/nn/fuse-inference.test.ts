// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d } from './conv2d.js';
import { convNormAct, fuseForInference } from './fused.js';
import { BatchNorm2d } from './norm.js';

class Block extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, bias: false }));
  readonly bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: 6 }));
  constructor() {
    super();
    tf.tidy(() => {
      this.bn1.loadStateDict(
        new Map<string, tf.Tensor>([
          ['weight', tf.randomUniform([6], 0.5, 2)],
          ['bias', tf.randomNormal([6])],
          ['running_mean', tf.randomNormal([6])],
          ['running_var', tf.randomUniform([6], 0.5, 2)],
        ]),
        { strict: false, torchLayout: false },
      );
    });
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return convNormAct(x, this.conv1, this.bn1, true);
  }
}

async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  const p = await tf.profile(() => f());
  tf.dispose(p.result as tf.Tensor);
  return p.kernels.map((k) => k.name);
}

describe('fuseForInference', () => {
  beforeAll(() => setupTestBackend('wasm'));

  it('folds the eval BatchNorms of one model into one fused conv, same outputs', async () => {
    const folded = new Block().eval();
    const plain = new Block().eval();
    plain.loadStateDict(new Map([...folded.stateDict()].map(([k, v]) => [k, v.tensor])), { torchLayout: false });
    const x = tf.randomNormal([2, 5, 7, 4]) as tf.Tensor4D;
    expect(fuseForInference(folded)).toBe(1);
    const before = tf.memory().numTensors;
    const a = folded.forward(x);
    const b = plain.forward(x);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    const scale = tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0]);
    expect(d).toBeLessThan(1e-5 * scale + 1e-6);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    // folded: no scale/shift/ReLU pass over the activations (the fold only touches the [6] vectors and weights)
    const kFolded = await kernelsOf(() => folded.forward(x));
    const kPlain = await kernelsOf(() => plain.forward(x));
    expect(kFolded.filter((k) => k === 'FusedConv2D')).toHaveLength(1);
    expect(kFolded).not.toContain('Relu');
    expect(kPlain).toContain('Relu');
    // training mode never folds; undo works
    folded.train();
    expect(await kernelsOf(() => folded.forward(x))).toContain('Relu');
    folded.eval();
    expect(fuseForInference(folded, false)).toBe(1);
    expect(await kernelsOf(() => folded.forward(x))).toContain('Relu');
    folded.dispose();
    plain.dispose();
    x.dispose();
  });
});
