// SPDX-License-Identifier: Apache-2.0
/**
 * `buildDataLoader`: a `DataLoader` from an mmengine dataloader config
 * (`{batch_size, num_workers, persistent_workers, drop_last, sampler, batch_sampler, dataset}`):
 * the dataset through registry scope `datasets`, the sampler and the batch sampler through `data_samplers`
 * (with `dataset`, `seed`, `sampler`, `batch_size`, `drop_last` supplied like mmengine's default args).
 * `num_workers > 0` runs the pipelines in that many worker threads (`workers: false` forces in-process).
 */
import { DatasetError, type Registry } from '@solo-ts/core';
import type { DetDataset } from '../coco/coco-dataset.js';
import { DataLoader, type DataLoaderOptions } from './data-loader.js';
import { PlainBatchSampler, type BatchSampler, type Sampler } from './samplers.js';
import { WorkerRunner } from './worker-pool.js';

export interface DataLoaderCfg {
  batch_size?: number;
  num_workers?: number;
  persistent_workers?: boolean;
  drop_last?: boolean;
  pin_memory?: boolean;
  sampler?: Record<string, unknown>;
  batch_sampler?: Record<string, unknown> | null;
  dataset: Record<string, unknown>;
  [key: string]: unknown;
}

export interface BuildDataLoaderOptions extends Omit<DataLoaderOptions, 'dataset' | 'batchSampler' | 'runner' | 'batchSize' | 'dropLast' | 'shuffle'> {
  registry: Registry;
  /** Config path for messages, e.g. `train_dataloader`. */
  path?: string;
  /** Use worker threads when num_workers > 0 (default true). */
  workers?: boolean;
  /** Plugin packages the workers must load (from `custom_imports.imports`). */
  modules?: string[];
}

const KNOWN = new Set(['batch_size', 'num_workers', 'persistent_workers', 'drop_last', 'pin_memory', 'sampler', 'batch_sampler', 'dataset', 'collate_fn', 'prefetch_factor']);

export function buildDataLoader(cfg: DataLoaderCfg, options: BuildDataLoaderOptions): DataLoader {
  const path = options.path ?? 'dataloader';
  if (typeof cfg !== 'object' || cfg === null) throw new DatasetError(`\`${path}\` must be a map`);
  for (const k of Object.keys(cfg)) {
    if (!KNOWN.has(k) && !k.startsWith('_')) throw new DatasetError(`unknown dataloader option \`${k}\``, { location: { file: '<config>', key: `${path}.${k}` }, hint: `known: ${[...KNOWN].join(', ')}` });
  }
  const { registry } = options;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const dataset = registry.build<DetDataset>('datasets', cfg.dataset, `${path}.dataset`, options.onWarning ? { onWarning: options.onWarning } : {});
  const batchSize = cfg.batch_size ?? 1;
  const dropLast = cfg.drop_last ?? false;
  const sampler = registry.build<Sampler>('data_samplers', cfg.sampler ?? { type: 'DefaultSampler', shuffle: !dataset.testMode }, `${path}.sampler`, { dataset, seed });
  const batchSampler: BatchSampler = cfg.batch_sampler
    ? registry.build<BatchSampler>('data_samplers', cfg.batch_sampler, `${path}.batch_sampler`, { sampler, batchSize, dropLast })
    : new PlainBatchSampler(sampler, batchSize, dropLast);
  const numWorkers = cfg.num_workers ?? 0;
  const runner = numWorkers > 0 && options.workers !== false ? new WorkerRunner({ datasetCfg: cfg.dataset, numWorkers, modules: options.modules }) : undefined;
  return new DataLoader({ ...options, dataset, batchSampler, runner, seed, prefetch: options.prefetch ?? (cfg.prefetch_factor as number | undefined) ?? Math.max(2, numWorkers) });
}
