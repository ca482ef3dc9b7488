// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Conv2d } from '../nn/conv2d.js';
import { ModulatedDeformConv2dPack } from '../nn/dcn.js';
import { batchNormFolding, convNormAct, setBatchNormFolding } from '../nn/fused.js';
import { BatchNorm2d, GroupNorm } from '../nn/norm.js';
import { countFlops, formatFlopTable } from './count-flops.js';
import { kernelFlops } from './kernel-flops.js';

/** conv(s2) -> BN -> ReLU -> grouped dilated conv -> GN -> bilinear x2 -> (+ itself) -> 1x1 conv, and a matmul. */
class TinyNet extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, stride: 2, padding: 1 }));
  readonly bn = this.registerModule('bn', new BatchNorm2d({ numFeatures: 8 }));
  readonly conv2 = this.registerModule('conv2', new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 2, dilation: 2, groups: 2, bias: false }));
  readonly gn = this.registerModule('gn', new GroupNorm({ numGroups: 4, numChannels: 8 }));
  readonly head = this.registerModule('head', new Conv2d({ inChannels: 8, outChannels: 4, kernelSize: 1 }));

  forward(x: tf.Tensor4D): tf.Tensor[] {
    return tf.tidy(() => {
      let y = tf.relu(this.bn.forward(this.conv1.forward(x))) as tf.Tensor4D;
      y = this.gn.forward(this.conv2.forward(y));
      const z = tf.image.resizeBilinear(y, [16, 16], false, true);
      const out = this.head.forward(tf.add(z, z));
      const m = tf.matMul(tf.reshape(z, [256, 8]), tf.ones([8, 5]));
      return [out, m];
    });
  }
}

describe('countFlops', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });
  afterEach(() => setBatchNormFolding(false));

  it('counts a tiny conv net as computed by hand', async () => {
    const net = new TinyNet().eval();
    const x = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { report, result } = await countFlops(net, () => net.forward(x));
    tf.dispose(result);
    expect(tf.memory().numTensors).toBe(before);
    const row = (name: string, kind?: string) => report.layers.find((l) => l.name === name && (!kind || l.kind === kind))?.flops;
    // conv1: 8x8x8 outputs, 3*3*3 MACs each, + bias
    expect(row('conv1')).toBe(2 * 512 * 27 + 512);
    // eval BN: scale + shift per element
    expect(row('bn')).toBe(2 * 512);
    // grouped (2) dilated conv: 3*3*(8/2) MACs per output, no bias
    expect(row('conv2')).toBe(2 * 512 * 36);
    expect(row('gn')).toBe(7 * 512);
    // 1x1 conv on 16x16x8 -> 4 channels, + bias
    expect(row('head')).toBe(2 * 1024 * 8 + 1024);
    // functional ops of the root: bilinear resize 7 per output element, the add, the matmul 2*256*5*8
    expect(row('(model)', 'resize')).toBe(7 * 2048);
    expect(row('(model)', 'elementwise')).toBe(2048);
    expect(row('(model)', 'matmul')).toBe(2 * 256 * 5 * 8);
    expect(report.total).toBe(28160 + 1024 + 36864 + 3584 + 17408 + 14336 + 2048 + 20480);
    expect(report.byKind.conv).toBe(28160 + 36864 + 17408);
    expect(report.byKind.norm).toBe(1024 + 3584);
    expect(formatFlopTable(report)).toContain('conv1');
    // the forward methods are restored
    expect(Object.prototype.hasOwnProperty.call(net.conv1, 'forward')).toBe(false);
    net.dispose();
    x.dispose();
  });

  it('names conv kernels run with a folded BatchNorm after their Conv2d', async () => {
    class Block extends Module {
      readonly conv1 = this.registerModule('conv1', new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, stride: 2, padding: 1, bias: false }));
      readonly bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: 8 }));
      forward(x: tf.Tensor4D): tf.Tensor4D {
        return convNormAct(x, this.conv1, this.bn1, true);
      }
    }
    const block = new Block().eval();
    setBatchNormFolding(true);
    expect(batchNormFolding()).toBe(true);
    const x = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    const { report, result } = await countFlops(block, () => block.forward(x));
    result.dispose();
    // conv + the folded shift as a bias; the fold itself is a few elementwise ops on the weights
    expect(report.layers.find((l) => l.name === 'conv1')?.flops).toBe(2 * 512 * 27 + 512);
    expect(report.layers.find((l) => l.name === 'bn1')).toBeUndefined();
    block.dispose();
    x.dispose();
  });

  it('counts a modulated deformable conv as sampling + conv, its offset conv separately', async () => {
    const dcn = new ModulatedDeformConv2dPack({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 1 });
    const x = tf.zeros([1, 8, 8, 8]) as tf.Tensor4D;
    const { report, result } = await countFlops(dcn, () => dcn.forward(x));
    result.dispose();
    expect(report.layers.find((l) => l.name === 'conv_offset')?.flops).toBe(2 * 64 * 27 * 72 + 64 * 27);
    // root: conv 2*64*8*9*8 + bias 64*8, sampling 64*9*8*(7+1)
    expect(report.layers.find((l) => l.name === '(model)')?.flops).toBe(73728 + 512 + 36864);
    dcn.dispose();
    x.dispose();
  });

  it('kernelFlops handles transposed matmuls and depthwise convs', () => {
    expect(kernelFlops('BatchMatMul', [[2, 8, 3], [2, 8, 5]], [[2, 3, 5]])).toBe(2 * 2 * 3 * 5 * 8);
    expect(kernelFlops('BatchMatMul', [[3, 8], [5, 8]], [[3, 5]])).toBe(2 * 3 * 5 * 8);
    expect(kernelFlops('DepthwiseConv2dNative', [[1, 8, 8, 4], [3, 3, 4, 2]], [[1, 8, 8, 8]])).toBe(2 * 512 * 9);
    expect(kernelFlops('Relu', [[10]], [[10]])).toBe(0);
    expect(kernelFlops('Sum', [[4, 5]], [[4]])).toBe(20);
  });
});
