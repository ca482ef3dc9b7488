// SPDX-License-Identifier: Apache-2.0
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectForwardAndGrads, fixture } from '../../__fixtures__/load.js';
import { Conv2d } from './conv2d.js';
import { ConvModule } from './conv-module.js';
import { ModulatedDeformConv2dPack } from './dcn.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`conv modules (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));

    it('Conv2d loads a PyTorch (OIHW) weight and matches F.conv2d (groups 4, stride 2)', () => {
      const f = fixture('conv/g4s2');
      const conv = new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, stride: 2, padding: 1, groups: 4, bias: false });
      expect(conv.weight.shape).toEqual([3, 3, 2, 8]);
      conv.loadStateDict(new Map([['weight', f.raw('weight')]]));
      const before = tf.memory().numTensors;
      tf.tidy(() => expectClose(conv.forward(f.nhwc('x')), f.nhwc('y'), 1e-4, 1e-5));
      expect(tf.memory().numTensors).toBe(before);
      conv.dispose();
    });

    it('ConvModule: names, bias auto, norm + ReLU, fused path without norm', () => {
      const gn = new ConvModule({ inChannels: 4, outChannels: 8, kernelSize: 3, padding: 1, normCfg: { type: 'GN', num_groups: 4 } });
      expect([...gn.stateDict().keys()]).toEqual(['conv.weight', 'gn.weight', 'gn.bias']);
      const bn = new ConvModule({ inChannels: 4, outChannels: 8, kernelSize: 1, normCfg: { type: 'BN', requires_grad: false } });
      expect([...bn.stateDict().keys()]).toEqual(['conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
      expect(bn.trainableParameters().map(([n]) => n)).toEqual(['conv.weight']);
      const plain = new ConvModule({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, actCfg: null });
      expect([...plain.stateDict().keys()]).toEqual(['conv.weight', 'conv.bias']);
      const relu = new ConvModule({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1 });
      const dcn = new ConvModule({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, convCfg: { type: 'DCNv2', deform_groups: 1 }, normCfg: { type: 'GN', num_groups: 2 } });
      expect([...dcn.stateDict().keys()]).toEqual(['conv.weight', 'conv.conv_offset.weight', 'conv.conv_offset.bias', 'gn.weight', 'gn.bias']);
      const x = tf.randomNormal([1, 5, 6, 4]) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        // fused conv+bias+relu equals relu(conv + bias)
        relu.conv.loadStateDict(new Map([['weight', (plain.conv as Conv2d).weight.variable], ['bias', (plain.conv as Conv2d).bias!.variable]]), { torchLayout: false });
        expectClose(relu.forward(x), tf.relu(plain.forward(x)), 1e-6, 1e-6);
        const y = gn.forward(x);
        expect(y.shape).toEqual([1, 5, 6, 8]);
        expect(tf.min(y).dataSync()[0]).toBeGreaterThanOrEqual(0);
        expect(dcn.forward(x).shape).toEqual([1, 5, 6, 6]);
      });
      expect(tf.memory().numTensors).toBe(before);
      [gn, bn, plain, relu, dcn].forEach((m) => m.dispose());
      x.dispose();
    });

    it('ModulatedDeformConv2dPack = mmcv (conv_offset -> chunk -> cat(o1, o2), sigmoid(mask)), gradients', () => {
      const f = fixture('dcn/pack_s2');
      const m = new ModulatedDeformConv2dPack({ inChannels: 4, outChannels: 5, kernelSize: 3, stride: 2, padding: 1, bias: false });
      // zero-initialised offsets
      expect(Math.max(...Array.from(m.convOffset.weight.variable.dataSync()).map(Math.abs))).toBe(0);
      m.loadStateDict(new Map([['weight', f.raw('weight')], ['conv_offset.weight', f.raw('conv_offset_weight')], ['conv_offset.bias', f.raw('conv_offset_bias')]]));
      expectForwardAndGrads(f, (x) => m.forward(x), [
        [m.weight.variable, (g) => g.hwio('dweight'), 'dweight'],
        [m.convOffset.weight.variable, (g) => g.hwio('dconv_offset_weight'), 'dconv_offset.weight'],
        [m.convOffset.bias!.variable, (g) => g.raw('dconv_offset_bias'), 'dconv_offset.bias'],
      ]);
      m.dispose();
    });
  });
}
