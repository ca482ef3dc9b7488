// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '@solo-ts/core';
import { datasetsComponents } from '../components.js';
import { makeShapesDataset } from '../synthetic/make-shapes.js';
import { buildDataLoader, type DataLoaderCfg } from './build.js';
import type { DataBatch, DataLoader } from './data-loader.js';

let root: string;
const registry = new Registry().load(datasetsComponents);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'solo-loader-'));
  await makeShapesDataset({ out: root, numTrain: 11, numVal: 3, seed: 5, imageSize: [80, 60] });
});

function cfg(over: Partial<DataLoaderCfg> = {}, testMode = false): DataLoaderCfg {
  return {
    batch_size: 2,
    num_workers: 0,
    sampler: { type: 'DefaultSampler', shuffle: !testMode },
    batch_sampler: testMode ? null : { type: 'AspectRatioBatchSampler' },
    dataset: {
      type: 'CocoDataset',
      data_root: root,
      ann_file: testMode ? 'annotations/instances_val.json' : 'annotations/instances_train.json',
      data_prefix: { img: testMode ? 'val/' : 'train/' },
      test_mode: testMode,
      pipeline: [
        { type: 'LoadImageFromFile' },
        { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
        { type: 'RandomChoiceResize', scales: [[64, 48], [96, 72]], keep_ratio: true },
        { type: 'RandomFlip', prob: 0.5 },
        { type: 'PackDetInputs' },
      ],
    },
    ...over,
  };
}

function digest(b: DataBatch): string {
  const h = createHash('sha1');
  h.update(JSON.stringify([b.indices, b.epoch, b.iter, b.dataSamples.map((s) => [s.metainfo.flip, s.metainfo.imgShape])]));
  for (const x of b.inputs) h.update(x.data);
  for (const s of b.dataSamples) h.update(s.gtInstances!.masks!.data);
  return h.digest('hex').slice(0, 12);
}

async function collect(loader: DataLoader, maxBatches = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const b of loader.epochBatches()) {
    out.push(digest(b));
    if (out.length >= maxBatches) break;
  }
  return out;
}

const loaders: DataLoader[] = [];
function make(c: DataLoaderCfg, seed = 11, extra: { prefetch?: number; onWarning?: (m: string) => void; shard?: { rank: number; worldSize: number; perRank?: number } } = {}): DataLoader {
  const l = buildDataLoader(c, { registry, seed, onWarning: extra.onWarning ?? (() => undefined), prefetch: extra.prefetch, shard: extra.shard });
  loaders.push(l);
  return l;
}
afterAll(async () => {
  await Promise.all(loaders.map((l) => l.close()));
});

describe('DataLoader', () => {
  it('same seed -> same batches, whatever the prefetch depth; epochs differ', async () => {
    const a = make(cfg(), 11, { prefetch: 0 });
    const b = make(cfg(), 11, { prefetch: 4 });
    const ea = await collect(a);
    expect(ea.length).toBeGreaterThanOrEqual(6);
    expect(await collect(b)).toEqual(ea);
    expect(a.epoch).toBe(1);
    const e1 = await collect(a);
    expect(e1).not.toEqual(ea);
    const c = make(cfg(), 12);
    expect(await collect(c)).not.toEqual(ea);
  });

  it('shard: each rank prepares its contiguous share of every global batch, with the global slots\' augmentation', async () => {
    const one = make(cfg({ batch_size: 4, batch_sampler: null }), 11);
    const ranks = [0, 1].map((rank) => make(cfg({ batch_size: 4, batch_sampler: null }), 11, { shard: { rank, worldSize: 2 } }));
    const whole: DataBatch[] = [];
    for await (const b of one.epochBatches()) whole.push(b);
    const parts: DataBatch[][] = [[], []];
    for (const [r, l] of ranks.entries()) for await (const b of l.epochBatches()) parts[r].push(b);
    expect(whole.map((b) => b.indices.length)).toEqual([4, 4, 3]);
    expect(parts.map((p) => p.map((b) => b.indices.length))).toEqual([[2, 2, 2], [2, 2, 1]]);
    whole.forEach((b, i) => {
      const joined = [...parts[0][i].inputs, ...parts[1][i].inputs] as Array<{ data: Uint8Array }>;
      expect([...parts[0][i].indices, ...parts[1][i].indices]).toEqual(b.indices);
      joined.forEach((x, k) => expect(Buffer.from(x.data).equals(Buffer.from((b.inputs[k] as { data: Uint8Array }).data))).toBe(true));
    });
    // perRank: a short last batch fills the first ranks (each rank's batches are those of batch size 2)
    const fill = [0, 1, 2].map((rank) => make(cfg({ batch_size: 9, batch_sampler: null }), 11, { shard: { rank, worldSize: 3, perRank: 3 } }));
    const sizes: number[][] = [[], [], []];
    for (const [r, l] of fill.entries()) for await (const b of l.epochBatches()) sizes[r].push(b.indices.length);
    expect(sizes).toEqual([[3, 2], [3, 0], [3, 0]]);
    expect(() => make(cfg(), 11, { shard: { rank: 2, worldSize: 2 } })).toThrow(/invalid loader shard: rank 2 of 2/);
  });

  it('groups batches by aspect ratio', async () => {
    const l = make(cfg());
    const ds = l.dataset;
    const mixed: number[][] = [];
    for await (const b of l.epochBatches()) {
      const kinds = new Set(b.indices.map((i) => (ds.getDataInfo(i).width < ds.getDataInfo(i).height ? 'p' : 'l')));
      if (kinds.size > 1) mixed.push(b.indices);
    }
    expect(mixed.length).toBeLessThanOrEqual(1); // only the final leftover batch may mix
  });

  it('state() / restore() resumes at the same batch', async () => {
    const a = make(cfg());
    const full = await collect(a);
    const b = make(cfg());
    const head = await collect(b, 2);
    const state = b.state();
    expect(state).toEqual({ epoch: 0, position: 2, seed: 11 });
    const c = make(cfg());
    c.restore(JSON.parse(JSON.stringify(state)));
    const tail = await collect(c);
    expect([...head, ...tail]).toEqual(full);
    expect(c.state()).toEqual({ epoch: 1, position: 0, seed: 11 });
    expect(() => make(cfg(), 99).restore(state)).toThrow(/seed 11/);
  });

  it('worker threads give the same batches and shut down cleanly', async () => {
    const inproc = await collect(make(cfg()));
    const w = make(cfg({ num_workers: 2 }));
    expect(await collect(w)).toEqual(inproc);
    await w.close();
    await expect(collect(w)).rejects.toThrow(/closed/);
  });

  it('training: a missing image is replaced by another sample, counted and reported', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'solo-loader-broken-'));
    await makeShapesDataset({ out: broken, numTrain: 4, numVal: 0, seed: 5, imageSize: [80, 60] });
    renameSync(join(broken, 'train/000002.png'), join(broken, 'train/moved.png'));
    const warnings: string[] = [];
    const c = cfg({ batch_sampler: null });
    (c.dataset as Record<string, unknown>).data_root = broken;
    const l = make(c, 1, { onWarning: (m) => warnings.push(m) });
    let samples = 0;
    for await (const b of l.epochBatches()) samples += b.indices.length;
    expect(samples).toBe(4);
    expect(l.stats.refetches).toBeGreaterThanOrEqual(1);
    expect(l.stats.failures[0].imgPath).toMatch(/000002\.png$/);
    expect(l.stats.failures[0].message).toMatch(/file not found/);
    expect(warnings.join('\n')).toMatch(/000002\.png.*skipped/);
  });

  it('test mode: a missing image is an error naming the file', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'solo-loader-test-'));
    await makeShapesDataset({ out: broken, numTrain: 0, numVal: 3, seed: 5, imageSize: [80, 60] });
    renameSync(join(broken, 'val/000003.png'), join(broken, 'val/moved.png'));
    const c = cfg({ batch_size: 1 }, true);
    (c.dataset as Record<string, unknown>).data_root = broken;
    const l = make(c);
    await expect(collect(l)).rejects.toThrow(/failed to load image .*val\/000003\.png: file not found/);
  });

  it('rejects unknown dataloader options', () => {
    expect(() => make(cfg({ batchsize: 2 } as Partial<DataLoaderCfg>))).toThrow(/unknown dataloader option `batchsize`/);
  });
});
