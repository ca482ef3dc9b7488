// SPDX-License-Identifier: Apache-2.0
/**
 * The demo config (configs/demo/solov2-light_r18_shapes.yaml: SOLOv2-light, ResNet-18/4, GroupNorm, AdamW with
 * gradient clipping) trains on `webgpu` with the losses wasm gives from the same initial weights and batch, leaks
 * no tensors, and its training step reads nothing back from the GPU unless asked to check the loss (one read).
 * On a software GPU in CI (SwiftShader, installed by .ci/run with chromium); skips where no WebGPU adapter exists.
 * Small inputs (2 images of 64x96, 2 steps): SwiftShader runs on the CPU (a step takes ~30 s there on 2 busy cores).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadConfig } from '@solo-ts/config';
import { createDefaultRegistry } from '@solo-ts/apis';
import { syntheticTrainBatch } from '@solo-ts/cli';
import { buildModel, buildOptimizer, trainStep, type TrainableDetector } from '@solo-ts/engine';
import { countDeviceReads, setupTestBackend, webgpuTestSkipReason } from '@solo-ts/testing';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

const skipReason = await webgpuTestSkipReason();
if (skipReason) console.warn(skipReason);

const STEPS = 2;
const batch = syntheticTrainBatch(64, 96, 2, 7);

interface HostTensor {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: tf.DataType;
}

function demoModel(): { model: TrainableDetector; cfg: ReturnType<typeof loadConfig> } {
  const cfg = loadConfig(path.join(REPO_ROOT, 'configs/demo/solov2-light_r18_shapes.yaml'));
  return { model: buildModel(cfg, { registry: createDefaultRegistry() }), cfg };
}

/** `STEPS` training steps from `init` (when given); returns the per-step loss terms and the step's device reads. */
async function train(init?: Map<string, HostTensor>): Promise<{ losses: Array<Record<string, number>>; reads: number[]; init: Map<string, HostTensor> }> {
  const { model, cfg } = demoModel();
  if (init) {
    const state = new Map([...init].map(([k, t]) => [k, tf.tensor(t.data, t.shape, t.dtype)]));
    model.loadStateDict(state, { strict: true, torchLayout: false });
    tf.dispose([...state.values()]);
  }
  const start = new Map<string, HostTensor>();
  for (const [k, { tensor }] of model.stateDict()) start.set(k, { data: (await tensor.data()) as HostTensor['data'], shape: tensor.shape, dtype: tensor.dtype });
  const built = buildOptimizer(cfg, model, { registry: createDefaultRegistry(), batchSize: 2 });
  const params = new Map(model.trainableParameters().map(([n, p]) => [n, p.variable]));
  const before = tf.memory().numTensors;
  const losses: Array<Record<string, number>> = [];
  const reads: number[] = [];
  model.train();
  for (let it = 0; it < STEPS; it++) {
    // step 0 checks the loss on the host (one read); the others read nothing
    const { result: r, reads: n } = await countDeviceReads(() => trainStep(batch, { model, optimizer: built.optimizer, params, mults: built.mults, clipGrad: built.clipGrad, checkFinite: it === 0, iter: it + 1 }));
    reads.push(n);
    const step: Record<string, number> = {};
    for (const [k, t] of Object.entries(r.losses)) step[k] = (await t.data())[0];
    tf.dispose([...Object.values(r.losses), ...(r.gradNorm ? [r.gradNorm] : [])]);
    losses.push(step);
  }
  const optimizerTensors = tf.memory().numTensors - before;
  built.optimizer.dispose();
  model.dispose();
  expect(optimizerTensors, 'only the optimizer state is left after the steps').toBeGreaterThanOrEqual(0);
  return { losses, reads, init: start };
}

describe.skipIf(skipReason !== undefined)('demo config training on webgpu', () => {
  it(`${STEPS} steps match wasm's losses from the same weights; reads: 1 with the loss check, 0 without; no leaks`, async () => {
    await setupTestBackend('wasm');
    const ref = await train();
    await setupTestBackend('webgpu');
    const tensorsBefore = tf.memory().numTensors;
    const got = await train(ref.init);
    expect(tf.memory().numTensors, 'no leaked tensors').toBe(tensorsBefore);
    expect(got.reads).toEqual([1, ...Array(STEPS - 1).fill(0)]);
    console.log(`[webgpu training] wasm ${JSON.stringify(ref.losses)}\n[webgpu training] webgpu ${JSON.stringify(got.losses)}`);
    for (let i = 0; i < STEPS; i++) {
      expect(Object.keys(got.losses[i]).sort()).toEqual(Object.keys(ref.losses[i]).sort());
      for (const [k, v] of Object.entries(ref.losses[i])) {
        // float32 summation order differs between the backends; the updates (AdamW) carry it into later steps
        expect(Math.abs(got.losses[i][k] - v), `step ${i + 1} ${k}: webgpu ${got.losses[i][k]}, wasm ${v}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v)) * (i + 1));
      }
    }
  }, 900_000);
});
