// SPDX-License-Identifier: Apache-2.0
/**
 * Training with the real components (ResNet, FPN, SOLOV2Head, CocoDataset, loader, SGD, runner) on a tiny synthetic
 * dataset, in process on the single-threaded WebAssembly backend (5x faster than cpu here; the exact-resume test in
 * resume.test.ts runs on cpu): loss falls, no tensor leaks, clear errors for bad checkpoints and work
 * dirs, fine-tuning with another class count, empty-gt images, single-class data, the non-finite guard.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSoloError } from '@solo-ts/core';
import { defaultRegistryFactory } from '@solo-ts/apis';
import { buildRunnerFromConfig, type BuildRunnerOptions, type DataBatch, type TrainSummary } from '@solo-ts/engine';
import { TINY_CONFIG, dataOptions, makeTinyData, tmpDir } from './helpers.js';

let root: string;
let scratch: string;

beforeAll(async () => {
  root = await makeTinyData(tmpDir('data'));
  scratch = tmpDir('train');
}, 120_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function train(name: string, extra: string[], o: Partial<BuildRunnerOptions> = {}): Promise<{ s: TrainSummary; log: string[]; workDir: string }> {
  const log: string[] = [];
  const workDir = o.workDir ?? path.join(scratch, name);
  const run = await buildRunnerFromConfig(TINY_CONFIG, { registry: defaultRegistryFactory, backend: 'wasm', threads: 1, workDir, noValidate: true, progress: false, print: (l) => log.push(l), ...o, cfgOptions: [...dataOptions(root), ...extra] });
  const s = await run.train();
  return { s, log, workDir };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('training on tiny synthetic data (wasm, 1 thread)', () => {
  it('overfitting one batch: the loss falls and the number of tensors stays constant', async () => {
    // two images, no flip, no shuffle: every iteration sees the same batch
    const { s, log } = await train('overfit', ['train_dataloader.dataset.indices=2', 'train_dataloader.sampler.shuffle=false', 'train_dataloader.dataset.pipeline.3.prob=0', 'optim_wrapper.optimizer.lr=0.05', 'default_hooks.checkpoint.interval=-1'], { maxIters: 10 });
    const losses = s.history.map((h) => h.loss);
    expect(losses).toHaveLength(10);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(mean(losses.slice(-3))).toBeLessThan(0.85 * mean(losses.slice(0, 3)));
    // momentum buffers appear at the first step; after that every iteration ends with the same tensors
    const counts = s.history.slice(1).map((h) => h.numTensors);
    expect(new Set(counts).size).toBe(1);
    expect(log.some((l) => /Epoch\(train\) \[1\/100\]\[1\/1\]\s+lr: .* eta: .* time: .* data_time: .* memory: \d+ .*loss_mask: .*loss_cls: .*loss: /.test(l))).toBe(true);
  });

  it('a stop request is honoured while the data loader is ahead (the loop yields to the event loop every iteration)', async () => {
    const log: string[] = [];
    const run = await buildRunnerFromConfig(TINY_CONFIG, {
      registry: defaultRegistryFactory, backend: 'wasm', threads: 1, workDir: path.join(scratch, 'stop'), noValidate: true, progress: false, print: (l) => log.push(l), maxIters: 40,
      cfgOptions: [...dataOptions(root), 'default_hooks.checkpoint.interval=-1'],
    });
    // One epoch of batches held in memory: every await of the training loop then resolves as a microtask, as when a
    // fast loader is ahead of training. Signals and timers only run if the loop yields to the event loop itself.
    const batches: DataBatch[] = [];
    for await (const b of run.trainLoader.iterate(0)) batches.push(b);
    run.trainLoader.iterate = async function* (_epoch: number, start = 0) {
      yield* batches.slice(start);
    };
    const timer = setTimeout(() => run.runner.requestStop('SIGTERM'), 0);
    const s = await run.train();
    clearTimeout(timer);
    expect(s.stoppedBy).toBe('signal');
    expect(s.signal).toBe('SIGTERM');
    expect(s.iters).toBeLessThan(5); // the timer fires within a few iterations (without the yield: all 40)
    expect(log.some((l) => l.includes('stop requested (SIGTERM)'))).toBe(true);
    expect(s.lastCheckpoint).toMatch(/iter_\d+\.safetensors$/);
  });

  it('images without annotations in a batch and single-class data train without error', async () => {
    const empty = await train('empty-gt', ['train_dataloader.dataset.ann_file=annotations/instances_train_empty.json', 'train_dataloader.sampler.shuffle=false'], { maxIters: 3 });
    expect(empty.s.history.map((h) => h.loss).every(Number.isFinite)).toBe(true);
    const single = await train('single', ['train_dataloader.dataset.ann_file=annotations/instances_train_single.json', 'train_dataloader.dataset.metainfo.classes=[shape]', 'model.mask_head.num_classes=1'], { maxIters: 2 });
    expect(single.s.history.map((h) => h.loss).every(Number.isFinite)).toBe(true);
  });

  it('a corrupted last checkpoint is a clear error naming the file', async () => {
    const { s, workDir } = await train('corrupt', [], { maxIters: 2 });
    const file = s.lastCheckpoint!;
    expect(path.basename(file)).toBe('iter_2.safetensors');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const err = await train('corrupt', [], { maxIters: 1, resume: true, workDir }).catch((e: unknown) => e);
    expect(isSoloError(err)).toBe(true);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/checksum mismatch|corrupted/);
    fs.writeFileSync(file, bytes.subarray(0, 1000));
    const err2 = await train('corrupt', [], { maxIters: 1, resume: true, workDir }).catch((e: unknown) => e);
    expect(isSoloError(err2)).toBe(true);
    expect((err2 as Error).message).toContain('iter_2.safetensors');
  });

  it('an unwritable work dir is a clear error', async () => {
    const blocker = path.join(scratch, 'a-file');
    fs.writeFileSync(blocker, 'x');
    const err = await train('x', [], { maxIters: 1, workDir: path.join(blocker, 'work') }).catch((e: unknown) => e);
    expect(isSoloError(err)).toBe(true);
    expect((err as Error).message).toMatch(/cannot write to the work directory .*a-file\/work/);
  });

  it('a checkpoint of another config: strict resume lists the mismatches, --load-from skips them and reports', async () => {
    const { s } = await train('five-classes', [], { maxIters: 1 });
    const oneClass = ['train_dataloader.dataset.ann_file=annotations/instances_train_single.json', 'train_dataloader.dataset.metainfo.classes=[shape]', 'model.mask_head.num_classes=1'];
    const err = await train('one-class', oneClass, { maxIters: 1, resume: s.lastCheckpoint }).catch((e: unknown) => e);
    expect(isSoloError(err)).toBe(true);
    expect((err as Error).message).toMatch(/does not match the model/);
    expect((err as Error).message).toMatch(/mask_head\.conv_cls\.weight: model \[1, 16, 3, 3\], checkpoint \[5, 16, 3, 3\]/);
    const ft = await train('one-class-ft', oneClass, { maxIters: 1, loadFrom: s.lastCheckpoint });
    const text = ft.log.join('\n');
    expect(text).toMatch(/Loaded \d+ of \d+ tensors from/);
    expect(text).toMatch(/skipped, shape differs .*mask_head\.conv_cls\.weight \[5,16,3,3\] -> \[1,16,3,3\]/);
    expect(ft.s.history).toHaveLength(1);
  });

  it('init_cfg Pretrained loads a local checkpoint (with prefix); a missing torchvision file is a clear error', async () => {
    const src = await train('pretrained-src', [], { maxIters: 1 });
    const ckpt = src.s.lastCheckpoint!;
    const { log } = await train('pretrained', [`model.backbone.init_cfg={type: Pretrained, checkpoint: '${ckpt}', prefix: backbone}`], { maxIters: 1 });
    expect(log.join('\n')).toMatch(/backbone: loaded \d+ pretrained tensors from .*iter_1\.safetensors/);
    const err = await train('pretrained-missing', ["model.backbone.init_cfg={type: Pretrained, checkpoint: 'torchvision://resnet18_not_downloaded'}"], { maxIters: 1 }).catch((e: unknown) => e);
    expect(isSoloError(err)).toBe(true);
    expect((err as Error).message).toMatch(/torchvision:\/\/resnet18_not_downloaded are not in the PyTorch hub cache/);
  });

  it('a non-finite loss stops training with the iteration and the loss terms', async () => {
    const err = await train('nan', ['optim_wrapper.optimizer.lr=1e12', 'optim_wrapper.clip_grad=null', 'param_scheduler=[]'], { maxIters: 20 }).catch((e: unknown) => e);
    expect(isSoloError(err)).toBe(true);
    expect((err as Error).message).toMatch(/non-finite loss at iteration \d+: .*loss_(mask|cls)=(NaN|-?Infinity)/);
  });
});
