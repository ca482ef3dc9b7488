// SPDX-License-Identifier: Apache-2.0
/**
 * Loader throughput with a simulated training step that blocks the main thread (as a synchronous TF.js step
 * does). Compares in-process prefetching (sharp decodes on libuv threads, transforms on the main thread) with
 * worker threads. Run: npx tsx --conditions=source packages/datasets/scripts/bench-loader.ts [stepMs] [images]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '@solo-ts/core';
import { buildDataLoader, datasetsComponents, makeShapesDataset } from '@solo-ts/datasets';

const stepMs = Number(process.argv[2] ?? 100);
const n = Number(process.argv[3] ?? 40);
const root = mkdtempSync(join(tmpdir(), 'solo-bench-loader-'));
await makeShapesDataset({ out: root, numTrain: n, numVal: 0, seed: 1 });
const registry = new Registry().load(datasetsComponents);

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin: a synchronous training step */
  }
}

for (const numWorkers of [0, 1, 2]) {
  const loader = buildDataLoader(
    {
      batch_size: 2,
      num_workers: numWorkers,
      sampler: { type: 'DefaultSampler', shuffle: true },
      batch_sampler: { type: 'AspectRatioBatchSampler' },
      dataset: {
        type: 'CocoDataset',
        data_root: root,
        ann_file: 'annotations/instances_train.json',
        data_prefix: { img: 'train/' },
        pipeline: [
          { type: 'LoadImageFromFile' },
          { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
          { type: 'RandomChoiceResize', scales: [[512, 384], [480, 360], [448, 336]], keep_ratio: true },
          { type: 'RandomFlip', prob: 0.5 },
          { type: 'PackDetInputs' },
        ],
      },
    },
    { registry, seed: 0, prefetch: 2 },
  );
  // warm-up epoch (workers start, caches fill), then a measured one
  for await (const _ of loader.epochBatches()) busy(1);
  const waitBefore = loader.stats.waitMs;
  const prepBefore = loader.stats.prepareMs;
  const t0 = performance.now();
  let batches = 0;
  for await (const _ of loader.epochBatches()) {
    busy(stepMs);
    batches++;
  }
  const total = performance.now() - t0;
  console.log(
    `num_workers=${numWorkers}: ${batches} batches, ${(total / batches).toFixed(1)} ms/batch (step ${stepMs} ms), ` +
      `consumer waited ${((loader.stats.waitMs - waitBefore) / batches).toFixed(1)} ms/batch, prepare ${((loader.stats.prepareMs - prepBefore) / (2 * batches)).toFixed(1)} ms/sample`,
  );
  await loader.close();
}
