// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { Adam, AdamW } from './adam.js';

/** torch.optim.AdamW / Adam over 4 steps with changing lr (`__fixtures__/make_adamw.py`). */
const fx = JSON.parse(fs.readFileSync(new URL('../../__fixtures__/adamw.json', import.meta.url), 'utf8')) as Record<string, {
  init: { p1: number[]; p2: number[] };
  steps: Array<{ g1: number[]; g2: number[]; lr: number; p1: number[]; p2: number[] }>;
  betas: [number, number];
  eps: number;
  weight_decay: number;
}>;

beforeAll(async () => {
  await setupTestBackend('cpu');
});

function close(a: ArrayLike<number>, b: number[], tol = 2e-6): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

describe.each([
  ['adamw', AdamW],
  ['adam', Adam],
] as const)('%s (torch reference)', (name, Cls) => {
  it('matches PyTorch over 4 steps, and a restored state continues identically', async () => {
    const before = tf.memory().numTensors;
    const c = fx[name];
    const params = new Map<string, tf.Variable>([
      ['p1', tf.tidy(() => tf.variable(tf.tensor(c.init.p1, [3, 4])))],
      ['p2', tf.tidy(() => tf.variable(tf.tensor(c.init.p2, [5])))],
    ]);
    const opt = new Cls({ lr: c.steps[0].lr, betas: c.betas, eps: c.eps, weightDecay: c.weight_decay });
    const run = (o: Adam | AdamW, from: number) => {
      for (const s of c.steps.slice(from)) {
        const grads = new Map<string, tf.Tensor>([
          ['p1', tf.tensor(s.g1, [3, 4])],
          ['p2', tf.tensor(s.g2, [5])],
        ]);
        o.setLr(s.lr);
        o.step(params, grads);
        tf.dispose([...grads.values()]);
        close(params.get('p1')!.dataSync(), s.p1);
        close(params.get('p2')!.dataSync(), s.p2);
      }
    };
    run(opt, 0);
    // resume: state after 2 steps, restored into a fresh optimizer, gives the same last 2 steps
    tf.tidy(() => {
      params.get('p1')!.assign(tf.tensor(c.init.p1, [3, 4]));
      params.get('p2')!.assign(tf.tensor(c.init.p2, [5]));
    });
    const a = new Cls({ lr: c.steps[0].lr, betas: c.betas, eps: c.eps, weightDecay: c.weight_decay });
    const two = { ...c, steps: c.steps.slice(0, 2) };
    for (const s of two.steps) {
      const grads = new Map<string, tf.Tensor>([['p1', tf.tensor(s.g1, [3, 4])], ['p2', tf.tensor(s.g2, [5])]]);
      a.setLr(s.lr);
      a.step(params, grads);
      tf.dispose([...grads.values()]);
    }
    const state = await a.state();
    const b = new Cls({ lr: 1, betas: c.betas, eps: c.eps, weightDecay: c.weight_decay });
    b.loadState(state);
    expect(b.stepCount).toBe(2);
    run(b, 2);
    for (const o of [opt, a, b]) o.dispose();
    for (const v of params.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

it('refuses the state of another optimizer', async () => {
  const s = await new AdamW({}).state();
  expect(() => new Adam({}).loadState(s)).toThrow(/optimizer state is for AdamW, but this run uses Adam/);
});
