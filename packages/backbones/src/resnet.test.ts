// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, RegistryError, type Backbone } from '@solo-ts/core';
import { BatchNorm2d, ModulatedDeformConv2dPack, type NormCfg } from '@solo-ts/ops';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { backbonesComponents, ResNet, ResNeXt } from './index.js';

const fixDir = join(dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__');
interface Ref {
  offset: number;
  shape: number[];
}
const meta = JSON.parse(readFileSync(join(fixDir, 'backbones.json'), 'utf8')) as {
  cases: Record<string, { config: Record<string, unknown>; state_dict: Record<string, Ref>; input: Ref; outputs: Ref[] }>;
};
const buf = readFileSync(join(fixDir, 'backbones.bin'));
const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const rec = (r: Ref) => ({ dtype: 'float32', shape: r.shape, data: data.slice(r.offset, r.offset + r.shape.reduce((a, b) => a * b, 1)) });

const registry = () => new Registry().load(backbonesComponents);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`ResNet / ResNeXt vs PyTorch reference (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));
    for (const [name, c] of Object.entries(meta.cases)) {
      it(`${name}: strict load of mmdet names, outputs`, () => {
        const net = registry().build<Backbone>('models', c.config, `backbone(${name})`);
        const sd = new Map(Object.entries(c.state_dict).map(([k, r]) => [k, rec(r)]));
        net.loadStateDict(sd, { strict: true });
        net.eval();
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const x = tf.transpose<tf.Tensor>(tf.tensor(rec(c.input).data, c.input.shape), [0, 2, 3, 1]) as tf.Tensor4D;
          const outs = net.forward(x);
          expect(outs.length).toBe(c.outputs.length);
          outs.forEach((o, i) => {
            const e = rec(c.outputs[i]);
            const a = tf.transpose(o, [0, 3, 1, 2]);
            expect(a.shape).toEqual(e.shape);
            const ad = a.dataSync();
            let scale = 0;
            for (const v of e.data) scale = Math.max(scale, Math.abs(v));
            let worst = 0;
            for (let j = 0; j < ad.length; j++) worst = Math.max(worst, Math.abs(ad[j] - e.data[j]) - 1e-4 * Math.abs(e.data[j]));
            expect(worst / scale, `${name} out ${i}`).toBeLessThan(1e-5);
          });
        });
        expect(tf.memory().numTensors).toBe(before);
        net.dispose();
      });
    }
  });
}

describe('ResNet structure and training behaviour', () => {
  beforeAll(() => setupTestBackend('cpu'));

  it('R50 names, channels and strides match mmdet', () => {
    const net = new ResNet({ depth: 50, baseChannels: 4 });
    const keys = [...net.stateDict().keys()];
    for (const k of ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']) expect(keys).toContain(k);
    expect(keys.length).toBe(53 + 53 * 5);
    expect(keys).toContain('layer1.0.downsample.0.weight');
    expect(keys).toContain('layer4.2.bn3.running_var');
    expect(keys.filter((k) => k.endsWith('.weight')).length).toBe(53 + 53); // 53 convs, 53 BNs
    expect(net.outFeatures).toEqual([
      { channels: 16, stride: 4 },
      { channels: 32, stride: 8 },
      { channels: 64, stride: 16 },
      { channels: 128, stride: 32 },
    ]);
    expect((net.stateDict().get('layer2.0.conv2.weight')!.tensor.shape)).toEqual([3, 3, 8, 8]);
    net.dispose();
  });

  it('R18 has no layer1 downsample; R101 has 23 blocks in layer3', () => {
    const r18 = new ResNet({ depth: 18, baseChannels: 2 });
    const k18 = [...r18.stateDict().keys()];
    expect(k18.some((k) => k.startsWith('layer1.0.downsample'))).toBe(false);
    expect(k18).toContain('layer2.0.downsample.1.running_mean');
    const r101 = new ResNet({ depth: 101, baseChannels: 1, numStages: 3, strides: [1, 2, 2], dilations: [1, 1, 1], outIndices: [2] });
    expect([...r101.stateDict().keys()].some((k) => k.startsWith('layer3.22.'))).toBe(true);
    expect(r101.outFeatures).toEqual([{ channels: 16, stride: 16 }]);
    r18.dispose();
    r101.dispose();
  });

  it('DCNv2 in stages 2-4 (conv_offset zero-initialised), deformable_groups alias', () => {
    const net = new ResNet({ depth: 50, baseChannels: 2, dcn: { type: 'DCNv2', deformable_groups: 1, fallback_on_stride: false }, stageWithDcn: [false, true, true, true] });
    const keys = [...net.stateDict().keys()];
    expect(keys).toContain('layer2.0.conv2.conv_offset.weight');
    expect(keys).not.toContain('layer1.0.conv2.conv_offset.weight');
    expect(keys).not.toContain('layer2.0.conv2.bias');
    const l2 = (net as unknown as { resLayers: Array<{ blocks: Array<{ conv2: unknown }> }> }).resLayers[1].blocks[0].conv2 as ModulatedDeformConv2dPack;
    expect(l2).toBeInstanceOf(ModulatedDeformConv2dPack);
    expect(l2.stride).toEqual([2, 2]);
    expect(tf.max(tf.abs(l2.convOffset.weight.variable)).dataSync()[0]).toBe(0);
    net.dispose();
    const fb = new ResNet({ depth: 50, baseChannels: 2, dcn: { type: 'DCNv2', fallback_on_stride: true }, stageWithDcn: [false, true, true, true] });
    expect([...fb.stateDict().keys()].some((k) => k.includes('conv_offset'))).toBe(false);
    fb.dispose();
  });

  it('zero_init_residual zeroes the last BN of each block; init_cfg / pretrained are recorded', () => {
    const net = new ResNet({ depth: 50, baseChannels: 2 });
    expect(tf.max(tf.abs(net.stateDict().get('layer3.1.bn3.weight')!.tensor)).dataSync()[0]).toBe(0);
    expect(tf.min(net.stateDict().get('layer3.1.bn2.weight')!.tensor).dataSync()[0]).toBe(1);
    expect(net.initCfg).toBeNull();
    const pre = new ResNet({ depth: 50, baseChannels: 2, pretrained: 'torchvision://resnet50' });
    expect(pre.initCfg).toEqual({ type: 'Pretrained', checkpoint: 'torchvision://resnet50' });
    net.dispose();
    pre.dispose();
  });

  it('explicit init_cfg replaces the default init: [] = PyTorch layer init, Kaiming fan_in, Constant norms, DCN offsets stay zero', () => {
    const gn: NormCfg = { type: 'GN', num_groups: 8, requires_grad: true };
    const w = (net: ResNet, k: string) => net.stateDict().get(k)!.tensor;
    const stats = (t: tf.Tensor) => tf.tidy(() => [tf.moments(t).variance.sqrt().dataSync()[0], tf.max(tf.abs(t)).dataSync()[0]]);
    const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
    const minOf = (t: tf.Tensor) => tf.tidy(() => tf.min(t).dataSync()[0]);
    const before = tf.memory().numTensors;
    // layer4.0.conv1: 64 -> 128 channels, 3x3: fan_in 576, fan_out 1152
    const dflt = new ResNet({ depth: 18, baseChannels: 16, normCfg: gn });
    const [stdDefault] = stats(w(dflt, 'layer4.0.conv1.weight'));
    expect(stdDefault).toBeCloseTo(Math.sqrt(2 / 1152), 2); // mmdet: Kaiming normal fan_out
    expect(maxAbs(w(dflt, 'layer4.1.gn2.weight'))).toBe(0); // zero_init_residual
    const torch = new ResNet({ depth: 18, baseChannels: 16, normCfg: gn, initCfg: [] });
    const [stdTorch, maxTorch] = stats(w(torch, 'layer4.0.conv1.weight'));
    expect(maxTorch).toBeLessThanOrEqual(1 / Math.sqrt(576)); // kaiming_uniform_(a=sqrt(5)) bound 1/sqrt(fan_in)
    expect(stdTorch).toBeCloseTo(1 / Math.sqrt(576) / Math.sqrt(3), 3);
    expect(minOf(w(torch, 'layer4.1.gn2.weight'))).toBe(1); // zero_init_residual ignored, as in mmdet
    const fanIn = new ResNet({
      depth: 18,
      baseChannels: 16,
      normCfg: gn,
      zeroInitResidual: true,
      initCfg: [
        { type: 'Kaiming', layer: 'Conv2d', mode: 'fan_in' },
        { type: 'Constant', val: 0.5, bias: 0.25, layer: ['_BatchNorm', 'GroupNorm'] },
        { type: 'Constant', val: 0, override: { name: 'layer1.0.gn2' } },
      ],
    });
    expect(stats(w(fanIn, 'layer4.0.conv1.weight'))[0]).toBeCloseTo(Math.sqrt(2 / 576), 2);
    expect([...w(fanIn, 'layer2.1.gn1.weight').dataSync()].every((v) => v === 0.5)).toBe(true);
    expect([...w(fanIn, 'layer2.1.gn1.bias').dataSync()].every((v) => v === 0.25)).toBe(true);
    expect(maxAbs(w(fanIn, 'layer1.0.gn2.weight'))).toBe(0);
    expect([...w(fanIn, 'layer1.1.gn2.weight').dataSync()].every((v) => v === 0.5)).toBe(true);
    const dcn = new ResNet({ depth: 50, baseChannels: 2, dcn: { type: 'DCNv2' }, stageWithDcn: [false, true, false, false], initCfg: [] });
    expect(maxAbs(w(dcn, 'layer2.0.conv2.conv_offset.weight'))).toBe(0);
    for (const n of [dflt, torch, fanIn, dcn]) n.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // a Pretrained init_cfg leaves the default init for the engine's checkpoint loading
    const pre = new ResNet({ depth: 18, baseChannels: 16, normCfg: gn, initCfg: { type: 'Pretrained', checkpoint: 'x.pth' } });
    expect(maxAbs(w(pre, 'layer4.1.gn2.weight'))).toBe(1);
    pre.dispose();
    expect(() => new ResNet({ depth: 18, baseChannels: 4, initCfg: [{ type: 'Kaiming', layer: 'Linear' }] })).toThrow(/init_cfg layer "Linear" is not supported/);
    expect(() => new ResNet({ depth: 18, baseChannels: 4, initCfg: [{ type: 'Normal', std: 0.1, layer: 'GroupNorm' }], normCfg: { type: 'GN', num_groups: 4 } })).toThrow(/only take a Constant init/);
    expect(() => new ResNet({ depth: 18, baseChannels: 4, initCfg: [{ type: 'Orthogonal', layer: 'Conv2d' }] })).toThrow(/unsupported init type "Orthogonal"/);
  });

  it('frozen_stages freezes stem + layer1 (no grad, eval); norm_eval keeps BNs in eval under train()', () => {
    const net = new ResNet({ depth: 50, baseChannels: 2, frozenStages: 1, normEval: true });
    net.train();
    const trainable = net.trainableParameters().map(([n]) => n);
    expect(trainable.some((n) => n.startsWith('conv1') || n.startsWith('bn1') || n.startsWith('layer1.'))).toBe(false);
    expect(trainable).toContain('layer2.0.conv1.weight');
    expect(trainable).toContain('layer2.0.bn1.weight');
    const mods = [...net.namedModules()];
    expect(mods.filter(([, m]) => m instanceof BatchNorm2d).every(([, m]) => !m.training)).toBe(true);
    expect(mods.find(([n]) => n === 'layer2.0.conv1')![1].training).toBe(true);
    expect(mods.find(([n]) => n === 'layer1.0.conv1')![1].training).toBe(false);
    net.dispose();
    const free = new ResNet({ depth: 18, baseChannels: 2, frozenStages: -1, normEval: false });
    free.train();
    expect([...free.namedModules()].filter(([, m]) => m instanceof BatchNorm2d).every(([, m]) => m.training)).toBe(true);
    expect(free.trainableParameters().length).toBe([...free.namedParameters()].length);
    free.eval();
    expect([...free.namedModules()].every(([, m]) => !m.training)).toBe(true);
    free.dispose();
  });

  it('norm_cfg requires_grad false freezes every norm; GN backbones use gn names', () => {
    const net = new ResNet({ depth: 18, baseChannels: 2, normCfg: { type: 'BN', requires_grad: false } });
    expect(net.trainableParameters().some(([n]) => n.includes('bn'))).toBe(false);
    const gn = new ResNet({ depth: 18, baseChannels: 4, normCfg: { type: 'GN', num_groups: 2 } });
    expect([...gn.stateDict().keys()]).toContain('layer1.0.gn1.weight');
    net.dispose();
    gn.dispose();
  });

  it('training-mode forward and gradients flow to unfrozen stages only', () => {
    const net = new ResNet({ depth: 18, baseChannels: 2, frozenStages: 1 });
    net.train();
    const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const vars = net.trainableParameters().map(([, p]) => p.variable);
    const { value, grads } = tf.variableGrads(() => tf.addN(net.forward(x).map((o) => tf.mean(o))) as tf.Scalar, vars);
    expect(Object.keys(grads).length).toBe(vars.length);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it('DCN ResNeXt trains: gradients reach conv_offset and the grouped deformable weights', () => {
    const net = new ResNeXt({ depth: 50, baseChannels: 4, groups: 2, baseWidth: 4, numStages: 2, strides: [1, 2], dilations: [1, 1], outIndices: [1], dcn: { type: 'DCNv2', deform_groups: 1 }, stageWithDcn: [false, true], zeroInitResidual: false });
    net.train();
    const x = tf.randomNormal([1, 24, 24, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const named = net.trainableParameters();
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.forward(x)[0])) as tf.Scalar, named.map(([, p]) => p.variable));
    const byName = new Map(named.map(([n, p]) => [n, grads[p.variable.name]]));
    tf.tidy(() => {
      for (const k of ['layer2.0.conv2.weight', 'layer2.0.conv2.conv_offset.weight', 'layer2.0.conv2.conv_offset.bias']) {
        const g = byName.get(k)!;
        expect(Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0]), k).toBe(true);
      }
      // with zero offsets the offset gradient is generally non-zero (bilinear slope)
      expect(tf.sum(tf.abs(byName.get('layer2.0.conv2.conv_offset.bias')!)).dataSync()[0]).toBeGreaterThan(0);
    });
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it('registry validates options (unknown key, bad depth) and builds ResNeXt widths', () => {
    const r = registry();
    expect(() => r.build('models', { type: 'ResNet', depth: 50, bogus: 1 }, 'model.backbone')).toThrow(RegistryError);
    expect(() => r.build('models', { type: 'ResNet', depth: 42 }, 'model.backbone')).toThrow(/depth/);
    const x = r.build<ResNeXt>('models', { type: 'ResNeXt', depth: 50, groups: 4, base_width: 4, base_channels: 8, num_stages: 1, strides: [1], dilations: [1], out_indices: [0] }, 'model.backbone');
    // width = floor(8 * 4 / 8) * 4 = 16, conv2 grouped: weight [3, 3, 16 / 4, 16]
    expect(x.stateDict().get('layer1.0.conv2.weight')!.tensor.shape).toEqual([3, 3, 4, 16]);
    expect(x.stateDict().get('layer1.0.conv3.weight')!.tensor.shape).toEqual([1, 1, 16, 32]);
    x.dispose();
    expect(r.describe('models', 'ResNet').options?.frozen_stages?.default).toBe(-1);
  });
});
