import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { SGD, clipGradNorm } from './sgd.js';

const fx = JSON.parse(fs.readFileSync(new URL('../../__fixtures__/sgd.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  await setupTestBackend('cpu');
});

function close(a: ArrayLike<number>, b: number[], tol = 1e-6) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

describe('SGD (torch.optim.SGD reference)', () => {
  it('momentum + weight decay + grad clipping match PyTorch over 3 steps', () => {
    const before = tf.memory().numTensors;
    const params = new Map<string, tf.Variable>([
      ['p1', tf.tidy(() => tf.variable(tf.tensor(fx.init.p1, [3, 4])))],
      ['p2', tf.tidy(() => tf.variable(tf.tensor(fx.init.p2, [5])))],
    ]);
    const opt = new SGD({ lr: 0.01, momentum: fx.momentum, weightDecay: fx.weight_decay });
    for (const s of fx.steps) {
      const grads = new Map<string, tf.Tensor>([
        ['p1', tf.tensor(s.g1, [3, 4])],
        ['p2', tf.tensor(s.g2, [5])],
      ]);
      const { grads: clipped, totalNorm } = clipGradNorm(grads, fx.max_norm);
      expect(Math.abs(totalNorm.dataSync()[0] - s.total_norm)).toBeLessThan(1e-5 * s.total_norm);
      opt.setLr(s.lr);
      opt.step(params, clipped);
      close(params.get('p1')!.dataSync(), s.p1);
      close(params.get('p2')!.dataSync(), s.p2);
      for (const g of [...grads.values(), ...clipped.values(), totalNorm]) g.dispose();
    }
    opt.dispose();
    for (const p of params.values()) p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('state round trip continues identically', async () => {
    const mk = () => new Map<string, tf.Variable>([['w', tf.variable(tf.tensor([1, 2, 3]))]]);
    const g = new Map<string, tf.Tensor>([['w', tf.tensor([0.5, -1, 2])]]);
    const a = new SGD({ lr: 0.1, momentum: 0.9 });
    const pa = mk();
    a.step(pa, g);
    const st = await a.state();
    const b = new SGD({ lr: 0.1, momentum: 0.9 });
    b.loadState(st);
    const pb = new Map<string, tf.Variable>([['w', tf.variable(tf.clone(pa.get('w')!))]]);
    a.step(pa, g);
    b.step(pb, g);
    close(pb.get('w')!.dataSync(), Array.from(pa.get('w')!.dataSync()), 0);
    a.dispose();
    b.dispose();
  });

  it('rejects invalid settings', () => {
    expect(() => new SGD({ lr: -1 })).toThrow(/lr/);
    expect(() => new SGD({ lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
  });
});
