// SPDX-License-Identifier: Apache-2.0
/**
 * Data-parallel training over worker threads (2 ranks, wasm 1 thread each) with a tiny SOLOv2 on a tiny synthetic
 * dataset: averaged gradients equal the mean of the per-shard gradients computed on the main thread, training is
 * deterministic and resumes exactly, no tensor leaks on the main thread, worker errors name the rank, workers stop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSoloError } from '@solo-ts/core';
import { makeShapesDataset } from '@solo-ts/datasets';
import { defaultRegistryFactory } from '@solo-ts/apis';
import { buildRunnerFromConfig, computeGradients, type BuildRunnerOptions, type BuiltRun, type DataBatch, type Optimizer } from '@solo-ts/engine';

const TINY = `
data_root: &data_root /nonexistent/
classes: &classes [circle, triangle, square, star, hexagon]
model:
  type: SOLOv2
  data_preprocessor: {type: DetDataPreprocessor, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_mask: true, pad_size_divisor: 32}
  backbone: {type: ResNet, depth: 18, base_channels: 4, out_indices: [0, 1, 2, 3], frozen_stages: -1, norm_cfg: {type: GN, num_groups: 2, requires_grad: true}, norm_eval: false, init_cfg: null}
  neck: {type: FPN, in_channels: [4, 8, 16, 32], out_channels: 16, start_level: 0, num_outs: 5}
  mask_head:
    type: SOLOV2Head
    num_classes: 5
    in_channels: 16
    feat_channels: 16
    stacked_convs: 1
    strides: [8, 8, 16, 32, 32]
    scale_ranges: [[1, 16], [8, 32], [16, 64], [32, 128], [64, 512]]
    num_grids: [8, 6, 5, 4, 3]
    norm_cfg: {type: GN, num_groups: 4, requires_grad: true}
    mask_feature_head: {feat_channels: 8, start_level: 0, end_level: 3, out_channels: 16, mask_stride: 4, norm_cfg: {type: GN, num_groups: 4, requires_grad: true}}
    loss_mask: {type: DiceLoss, use_sigmoid: true, loss_weight: 3.0}
    loss_cls: {type: FocalLoss, use_sigmoid: true, gamma: 2.0, alpha: 0.25, loss_weight: 1.0}
  test_cfg: {nms_pre: 50, score_thr: 0.05, mask_thr: 0.5, filter_thr: 0.05, kernel: gaussian, sigma: 2.0, max_per_img: 10}
train_pipeline: &train_pipeline
  - {type: LoadImageFromFile}
  - {type: LoadAnnotations, with_bbox: true, with_mask: true}
  - {type: Resize, scale: [64, 48], keep_ratio: true}
  - {type: RandomFlip, prob: 0.5}
  - {type: PackDetInputs}
train_dataloader:
  batch_size: 2
  num_workers: 0
  sampler: {type: DefaultSampler, shuffle: true}
  dataset: {type: CocoDataset, data_root: *data_root, ann_file: annotations/instances_train.json, data_prefix: {img: train/}, metainfo: {classes: *classes}, filter_cfg: {filter_empty_gt: false}, pipeline: *train_pipeline}
train_cfg: {type: EpochBasedTrainLoop, max_epochs: 100, val_interval: 100}
optim_wrapper: {type: OptimWrapper, optimizer: {type: SGD, lr: 0.01, momentum: 0.9, weight_decay: 0.0001}, clip_grad: {max_norm: 35, norm_type: 2}}
param_scheduler:
  - {type: LinearLR, start_factor: 0.1, by_epoch: false, begin: 0, end: 5}
auto_scale_lr: {enable: false, base_batch_size: 2}
default_hooks:
  logger: {type: LoggerHook, interval: 1}
  checkpoint: {type: CheckpointHook, interval: 2, by_epoch: false, max_keep_ckpts: 3}
randomness: {seed: 3}
`;

let root: string;
let configFile: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-dp-'));
  await makeShapesDataset({ out: path.join(root, 'data'), numTrain: 6, numVal: 1, imageSize: [64, 48], varySize: false, seed: 7, maxObjects: 3 });
  configFile = path.join(root, 'tiny.yaml');
  fs.writeFileSync(configFile, TINY);
}, 120_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function build(name: string, o: Partial<BuildRunnerOptions>, extra: string[] = []): Promise<{ run: BuiltRun; log: string[] }> {
  const log: string[] = [];
  const run = await buildRunnerFromConfig(configFile, {
    registry: defaultRegistryFactory, backend: 'wasm', threads: 1, workDir: path.join(root, name), noValidate: true, progress: false, print: (l) => log.push(l), ...o,
    cfgOptions: [`train_dataloader.dataset.data_root=${path.join(root, 'data')}/`, ...extra],
  });
  return { run, log };
}

async function firstBatch(run: BuiltRun): Promise<DataBatch> {
  for await (const b of run.trainLoader.iterate(0)) return b;
  throw new Error('no batch');
}

/** An optimizer that records the gradients it is given and changes nothing. */
function capturingOptimizer(into: Map<string, Float32Array>): Optimizer {
  return {
    typeName: 'Capture', baseLr: 0, lr: 0, stepCount: 0,
    setLr: () => undefined,
    step: (_p, grads) => {
      for (const [k, g] of grads) into.set(k, g.dataSync() as Float32Array);
    },
    state: () => Promise.resolve({ type: 'Capture', buffers: {}, lr: 0, stepCount: 0 }),
    loadState: () => undefined,
    dispose: () => undefined,
  };
}

describe('data-parallel training, 2 ranks (wasm, 1 thread each)', () => {
  it('averaged gradients = mean of the per-shard gradients; a worker error names its rank; workers stop', async () => {
    const { run } = await build('grads', { workers: 2 }, ['train_dataloader.sampler.shuffle=false', 'train_dataloader.dataset.pipeline.3.prob=0']);
    const par = run.parallel!;
    expect(par.worldSize).toBe(2);
    try {
      await par.start();
      await par.syncState();
      const batch = await firstBatch(run);
      const ref = await firstBatch(run); // the same batch again (deterministic loader), untouched by the step
      expect(batch.inputs).toHaveLength(4);
      const params = new Map(run.model.trainableParameters().map(([n, p]) => [n, p.variable]));
      const got = new Map<string, Float32Array>();
      const before = tf.memory().numTensors;
      const res = await par.step(batch, { model: run.model, optimizer: capturingOptimizer(got), params, checkFinite: true, iter: 1 });
      const losses = Object.fromEntries(Object.entries(res.losses).map(([k, t]) => [k, t.dataSync()[0]]));
      tf.dispose(Object.values(res.losses));
      expect(tf.memory().numTensors).toBe(before);
      expect(res.timings.sync).toBeGreaterThanOrEqual(0);

      // the expected values: each shard through the single-process forward/backward on the main thread
      const shards = [ref.inputs.slice(0, 2), ref.inputs.slice(2)].map((inputs, k) => ({ inputs, dataSamples: ref.dataSamples.slice(2 * k, 2 * k + 2) })).map((s) => {
        const r = computeGradients(s, run.model, params);
        const g = new Map([...r.grads].map(([k, t]) => [k, t.dataSync() as Float32Array]));
        const terms = Object.fromEntries(Object.entries(r.terms).map(([k, t]) => [k, t.dataSync()[0]]));
        const total = r.value.dataSync()[0];
        tf.dispose([...r.grads.values(), ...Object.values(r.terms), r.value]);
        return { g, terms, total };
      });
      expect(got.size).toBe(params.size);
      let worst = 0;
      for (const [name, g] of got) {
        const a = shards[0].g.get(name);
        const b = shards[1].g.get(name);
        let maxRef = 0;
        let maxDiff = 0;
        for (let j = 0; j < g.length; j++) {
          const m = ((a?.[j] ?? 0) + (b?.[j] ?? 0)) / 2;
          maxRef = Math.max(maxRef, Math.abs(m));
          maxDiff = Math.max(maxDiff, Math.abs(g[j] - m));
        }
        worst = Math.max(worst, maxDiff / Math.max(maxRef, 1e-12));
      }
      expect(worst).toBeLessThan(1e-5);
      // the two shards differ (else the test could not tell an average from a copy)
      expect(shards[0].total).not.toBeCloseTo(shards[1].total, 4);
      expect(losses.loss).toBeCloseTo((shards[0].total + shards[1].total) / 2, 5);
      expect(losses.loss_mask).toBeCloseTo((shards[0].terms.loss_mask + shards[1].terms.loss_mask) / 2, 5);

      // rank 1's shard is broken: the step fails with a SoloError naming rank 1, and the trainer stays usable
      const bad = await firstBatch(run);
      const img = bad.inputs[2] as { data: Uint8Array };
      bad.inputs[2] = { ...img, data: img.data.subarray(0, 5) };
      const err = await par.step(bad, { model: run.model, optimizer: capturingOptimizer(new Map()), params, checkFinite: true, iter: 2 }).catch((e: unknown) => e);
      expect(isSoloError(err)).toBe(true);
      expect((err as Error).message).toMatch(/data-parallel worker rank 1 failed at iteration 2: /);
      const again = await par.step(await firstBatch(run), { model: run.model, optimizer: capturingOptimizer(new Map()), params, checkFinite: true, iter: 3 });
      expect(again.losses.loss.dataSync()[0]).toBeCloseTo(losses.loss, 5);
      tf.dispose(Object.values(again.losses));
    } finally {
      await par.close();
      await run.close();
    }
    expect(par.liveWorkers).toBe(0);
  }, 180_000);

  it('trains deterministically, resumes exactly, leaks no tensors, and records the world size', async () => {
    const opts = { workers: 2 } as const;
    const a = await build('a', { ...opts, maxIters: 4 });
    const sa = await a.run.train();
    expect(a.log).toContain('data parallel: 2 workers x batch 2 (total 4), 1 thread each');
    expect(a.log.some((l) => /6 training images, 2 iterations per epoch/.test(l))).toBe(true);
    expect(a.run.parallel!.liveWorkers).toBe(0);
    const la = sa.history.map((h) => h.loss);
    expect(la).toHaveLength(4);
    expect(la.every(Number.isFinite)).toBe(true);
    // the optimizer's momentum buffers appear at the first step; after that the count is constant
    expect(new Set(sa.history.slice(1).map((h) => h.numTensors)).size).toBe(1);

    const b1 = await build('b', { ...opts, maxIters: 2 });
    const sb1 = await b1.run.train();
    expect(sb1.history.map((h) => h.loss)).toEqual(la.slice(0, 2));
    const b2 = await build('b', { ...opts, maxIters: 2, resume: true });
    const sb2 = await b2.run.train();
    expect(sb2.history.map((h) => h.iter)).toEqual([3, 4]);
    expect(sb2.history.map((h) => h.loss)).toEqual(la.slice(2));

    // resuming with another world size warns
    const c = await build('b', { workers: 1, maxIters: 1, resume: true });
    await c.run.train();
    expect(c.log.some((l) => /WARNING: .* 2 data-parallel workers, this run has 1/.test(l))).toBe(true);
  }, 300_000);

  it('SIGTERM: the run saves a checkpoint, the workers stop and the process exits on its own (child process)', async () => {
    const workDir = path.join(root, 'sigterm');
    const script = [
      "import { defaultRegistryFactory } from '@solo-ts/apis';",
      "import { buildRunnerFromConfig } from '@solo-ts/engine';",
      `const run = await buildRunnerFromConfig(${JSON.stringify(configFile)}, { registry: defaultRegistryFactory, backend: 'wasm', threads: 1, workers: 2, workDir: ${JSON.stringify(workDir)}, noValidate: true, progress: false,`,
      `  cfgOptions: [${JSON.stringify(`train_dataloader.dataset.data_root=${path.join(root, 'data')}/`)}, 'default_hooks.checkpoint.interval=1000'] });`,
      'const s = await run.train();',
      "console.log('STOPPED', s.stoppedBy, s.iters);",
      "if (s.stoppedBy === 'signal') process.exitCode = 143;",
    ].join('\n');
    const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!/Epoch\(train\) \[1\/100\]\[1\/2\]/.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no training iteration: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await exit;
    clearTimeout(timer);
    expect(code, out).toBe(143);
    expect(out).toMatch(/SIGTERM received/);
    expect(out).toMatch(/Saved checkpoint .*iter_\d+\.safetensors \(interrupted by SIGTERM\)/);
    expect(out).toMatch(/STOPPED signal \d+/);
  }, 200_000);
});
