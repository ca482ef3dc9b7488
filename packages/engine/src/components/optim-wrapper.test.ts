// SPDX-License-Identifier: Apache-2.0
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Module, Registry } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { GroupNorm, Conv2d } from '@solo-ts/ops';
import { engineComponents } from './index.js';
import { OptimWrapper, paramMultipliers } from './optim-wrapper.js';

beforeAll(async () => {
  await setupTestBackend('cpu');
});

class Net extends Module {
  constructor() {
    super();
    this.registerModule('conv', new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3 }));
    this.registerModule('gn', new GroupNorm({ numGroups: 1, numChannels: 2 }));
    this.registerModule('head', new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 1 }));
  }
}

describe('OptimWrapper', () => {
  it('validates clip_grad and paramwise_cfg keys', () => {
    const r = new Registry().load(engineComponents);
    const ow = r.build<OptimWrapper>('optim_wrappers', { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01 }, clip_grad: { max_norm: 35, norm_type: 2 } });
    expect(ow.clipGrad).toEqual({ maxNorm: 35, normType: 2 });
    expect(() => r.build('optim_wrappers', { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01 }, clip_grad: { max_norm: 35, norm_type: 1 } })).toThrow(/norm_type 1 is not supported/);
    expect(() => r.build('optim_wrappers', { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01 }, paramwise_cfg: { norm_decay: 0 } })).toThrow(/unknown key `norm_decay`/);
    expect(() => r.build('optim_wrappers', { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01 }, accumulative_counts: 2 })).toThrow(/accumulative_counts 2/);
  });

  it('paramwise_cfg: norm and bias multipliers, custom_keys win (longest key first)', () => {
    const net = new Net();
    const names = [...net.namedParameters()].map(([n]) => n);
    expect(names).toEqual(['conv.weight', 'conv.bias', 'gn.weight', 'gn.bias', 'head.weight', 'head.bias']);
    const m = paramMultipliers(net, names, { normDecayMult: 0, biasLrMult: 2, biasDecayMult: 0.5, customKeys: { head: { lr_mult: 0.1 }, 'head.bias': { decay_mult: 3 } } });
    expect(Object.fromEntries(m)).toEqual({
      'conv.bias': { lrMult: 2, decayMult: 0.5 },
      'gn.weight': { lrMult: 1, decayMult: 0 },
      'gn.bias': { lrMult: 1, decayMult: 0 },
      'head.weight': { lrMult: 0.1, decayMult: 1 },
      'head.bias': { lrMult: 1, decayMult: 3 },
    });
    expect(paramMultipliers(net, names, null).size).toBe(0);
    net.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });
});
