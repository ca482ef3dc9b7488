import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Module } from './module.js';
import { CheckpointError } from './errors.js';

class Conv extends Module {
  weight;
  constructor(cin: number, cout: number) {
    super();
    this.weight = this.registerParameter('weight', tf.zeros([3, 3, cin, cout]), { torchLayout: 'conv' });
    this.registerParameter('bias', tf.zeros([cout]));
  }
}
class BN extends Module {
  constructor(c: number) {
    super();
    this.registerParameter('weight', tf.ones([c]));
    this.registerBuffer('running_mean', tf.zeros([c]));
    this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }
}
class Block extends Module {
  constructor() {
    super();
    this.registerModule('conv1', new Conv(2, 4));
    this.registerModule('bn1', new BN(4));
  }
}
class Net extends Module {
  constructor() {
    super();
    this.registerModule('layer1', new Block());
    this.registerModule('skip', null);
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Module', () => {
  it('names parameters and buffers like PyTorch', () => {
    const n = new Net();
    expect([...n.namedParameters()].map(([k]) => k)).toEqual(['layer1.conv1.weight', 'layer1.conv1.bias', 'layer1.bn1.weight']);
    expect([...n.stateDict().keys()]).toEqual([
      'layer1.conv1.weight',
      'layer1.conv1.bias',
      'layer1.bn1.weight',
      'layer1.bn1.running_mean',
      'layer1.bn1.num_batches_tracked',
    ]);
    expect(n.numParameters()).toBe(3 * 3 * 2 * 4 + 4 + 4);
    n.dispose();
  });

  it('loads PyTorch-layout tensors (OIHW -> HWIO) and reports problems in one message', () => {
    const n = new Net();
    const before = tf.memory().numTensors;
    const w = new Float32Array(4 * 2 * 3 * 3).map((_, i) => i);
    const state = new Map<string, { dtype: string; shape: number[]; data: Float32Array | BigInt64Array }>([
      ['layer1.conv1.weight', { dtype: 'float32', shape: [4, 2, 3, 3], data: w }],
      ['layer1.conv1.bias', { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4]) }],
      ['layer1.bn1.weight', { dtype: 'float32', shape: [4], data: new Float32Array(4).fill(2) }],
      ['layer1.bn1.running_mean', { dtype: 'float32', shape: [4], data: new Float32Array(4).fill(0.5) }],
      ['layer1.bn1.num_batches_tracked', { dtype: 'int64', shape: [], data: new BigInt64Array([7n]) }],
    ]);
    const rep = n.loadStateDict(state);
    expect(rep.loaded.length).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
    const hwio = n.stateDict().get('layer1.conv1.weight')!.tensor;
    // torch w[o=1, i=0, h=2, w=1] = ((1*2+0)*3+2)*3+1 = 25 -> ours [2,1,0,1]
    expect((hwio.arraySync() as number[][][][])[2][1][0][1]).toBe(25);

    const bad = new Map(state);
    bad.delete('layer1.bn1.weight');
    bad.set('layer1.conv9.weight', state.get('layer1.conv1.bias')!);
    bad.set('layer1.conv1.bias', { dtype: 'float32', shape: [5], data: new Float32Array(5) });
    let err: unknown;
    try {
      n.loadStateDict(bad, { source: 'x.pth' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as Error).message;
    expect(msg).toContain('missing keys (1): layer1.bn1.weight');
    expect(msg).toContain('unexpected keys (1): layer1.conv9.weight');
    expect(msg).toContain('layer1.conv1.bias: model [4], checkpoint [5]');
    const rep2 = n.loadStateDict(bad, { strict: false });
    expect(rep2.mismatched.map((m) => m.key)).toEqual(['layer1.conv1.bias']);
    expect(tf.memory().numTensors).toBe(before);
    n.dispose();
  });

  it('train/eval propagate and requiresGrad freezes', () => {
    const n = new Net();
    n.eval();
    expect([...n.namedModules()].every(([, m]) => !m.training)).toBe(true);
    n.train();
    expect([...n.namedModules()].every(([, m]) => m.training)).toBe(true);
    n.requiresGrad(false);
    expect(n.trainableParameters().length).toBe(0);
    n.dispose();
  });
});
