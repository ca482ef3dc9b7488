// SPDX-License-Identifier: Apache-2.0
/**
 * Samplers (scope `data_samplers`), mmengine / mmdetection semantics on one process:
 *
 * - `DefaultSampler(shuffle, seed, round_up)`: the epoch's order is `torch.randperm(len, seed + epoch)`
 *   (reproduced bit-for-bit, see `torch-random.ts`) or 0..len-1 without shuffling. `setEpoch(e)` selects the
 *   permutation, so a resumed run continues with the same order.
 * - `AspectRatioBatchSampler(batch_size, drop_last)`: walks the sampler's order and puts each index in one of two
 *   buckets (width < height: portrait, else landscape); a bucket that reaches batch_size becomes a batch. At the
 *   end of the epoch the leftovers of both buckets (portrait first) are batched together (the last one is
 *   dropped with `drop_last`).
 * - `batchIndices(order, batchSize, dropLast)`: plain consecutive batching (torch's BatchSampler).
 *
 * Browser-safe.
 */
import { DatasetError, defineOptions, resolveOptions, type BuildContext, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { torchRandperm } from './torch-random.js';

/** What samplers need from a dataset. */
export interface SizedDataset {
  readonly length: number;
  getDataInfo(index: number): { width: number; height: number };
  /** Cheap size lookup (no copy of the record), used when present. */
  getImageSize?(index: number): { width: number; height: number };
}

export interface Sampler {
  readonly dataset: SizedDataset;
  readonly length: number;
  setEpoch(epoch: number): void;
  /** Sample order of the current epoch. */
  order(): number[];
}

export interface BatchSampler {
  readonly sampler: Sampler;
  readonly batchSize: number;
  /** Number of batches per epoch (an upper bound for the aspect-ratio sampler without drop_last). */
  readonly length: number;
  setEpoch(epoch: number): void;
  /** The batches of the current epoch. */
  batches(): number[][];
}

/** The options of {@link DefaultSampler} (mmengine `DefaultSampler.__init__`), declared once. */
export const defaultSamplerOptions = defineOptions({
  shuffle: { type: 'boolean', default: true, doc: 'shuffle each epoch with torch.randperm(seed + epoch)' },
  seed: { type: 'integer', nullable: true, default: null, doc: 'base seed (default: the run seed)' },
  round_up: { type: 'boolean', default: true, doc: 'pad to a multiple of the world size (one process: no effect)' },
});
/** Resolved options of {@link DefaultSampler}. */
export type DefaultSamplerOptions = ResolvedOptions<typeof defaultSamplerOptions>;
/** What the loader passes to `new DefaultSampler(...)`: the options and the dataset (checked: the registry cannot promise it). */
export type DefaultSamplerInput = OptionsInput<typeof defaultSamplerOptions> & { dataset?: SizedDataset };

export class DefaultSampler implements Sampler {
  static readonly type = 'DefaultSampler';
  static readonly description = 'Epoch-seeded shuffle (torch.randperm(seed + epoch)) or sequential order.';
  static readonly options = defaultSamplerOptions;

  readonly dataset: SizedDataset;
  readonly shuffle: boolean;
  readonly seed: number;
  epoch = 0;

  constructor(input: DefaultSamplerInput, _ctx?: BuildContext) {
    const { dataset, ...rest } = input;
    const options = resolveOptions(defaultSamplerOptions, rest, 'DefaultSampler');
    if (!dataset) throw new DatasetError('DefaultSampler needs a dataset');
    this.dataset = dataset;
    this.shuffle = options.shuffle;
    const seed = options.seed;
    if (seed !== null && seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw new DatasetError(`DefaultSampler: seed must be a non-negative integer, got ${seed}`);
    this.seed = seed ?? 0;
  }

  get length(): number {
    return this.dataset.length;
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  order(): number[] {
    const n = this.dataset.length;
    if (!this.shuffle) return Array.from({ length: n }, (_, i) => i);
    return torchRandperm(n, BigInt(this.seed) + BigInt(this.epoch));
  }
}

/**
 * Sizes of the `n` contiguous shards of a batch of `size` samples (data parallel: rank r gets samples
 * [r*B, (r+1)*B) of a full batch of n*B; a short batch is split as evenly as possible, the first ranks getting one
 * more; a rank can get none).
 */
export function shardSizes(size: number, n: number): number[] {
  const base = Math.floor(size / n);
  const extra = size % n;
  return Array.from({ length: n }, (_, r) => base + (r < extra ? 1 : 0));
}

/** Consecutive batches of `order` (torch BatchSampler). */
export function batchIndices(order: readonly number[], batchSize: number, dropLast: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length < batchSize && dropLast) break;
    out.push(b);
  }
  return out;
}

/** Plain batching over a sampler. */
export class PlainBatchSampler implements BatchSampler {
  constructor(
    readonly sampler: Sampler,
    readonly batchSize: number,
    readonly dropLast = false,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new DatasetError(`batch_size must be a positive integer, got ${batchSize}`);
  }
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  setEpoch(epoch: number): void {
    this.sampler.setEpoch(epoch);
  }
  batches(): number[][] {
    return batchIndices(this.sampler.order(), this.batchSize, this.dropLast);
  }
}

/** The options of {@link AspectRatioBatchSampler} (mmdet `AspectRatioBatchSampler.__init__`), declared once. */
export const aspectRatioBatchSamplerOptions = defineOptions({
  batch_size: { type: 'integer', doc: 'images per batch (default: the loader batch_size)' },
  drop_last: { type: 'boolean', doc: 'drop the last incomplete batch (default: the loader drop_last)' },
});
/** Resolved options of {@link AspectRatioBatchSampler}. */
export type AspectRatioBatchSamplerOptions = ResolvedOptions<typeof aspectRatioBatchSamplerOptions>;
/** What the loader passes to `new AspectRatioBatchSampler(...)`: the options and the sampler (checked). */
export type AspectRatioBatchSamplerInput = OptionsInput<typeof aspectRatioBatchSamplerOptions> & { sampler?: Sampler };

export class AspectRatioBatchSampler extends PlainBatchSampler {
  static readonly type = 'AspectRatioBatchSampler';
  static readonly description = 'Batches of images with the same orientation (portrait / landscape).';
  static readonly options = aspectRatioBatchSamplerOptions;

  constructor(input: AspectRatioBatchSamplerInput, _ctx?: BuildContext) {
    const { sampler, ...rest } = input;
    const options = resolveOptions(aspectRatioBatchSamplerOptions, rest, 'AspectRatioBatchSampler');
    if (!sampler) throw new DatasetError('AspectRatioBatchSampler needs a sampler');
    const batchSize = options.batchSize;
    if (batchSize === undefined || !Number.isInteger(batchSize) || batchSize < 1) throw new DatasetError(`AspectRatioBatchSampler: batch_size must be a positive integer, got ${batchSize}`);
    super(sampler, batchSize, options.dropLast ?? false);
  }

  /** Batches of one orientation each (length and epochs as plain batching). */
  override batches(): number[][] {
    const buckets: number[][] = [[], []];
    const out: number[][] = [];
    for (const idx of this.sampler.order()) {
      const ds = this.sampler.dataset;
      const { width, height } = ds.getImageSize ? ds.getImageSize(idx) : ds.getDataInfo(idx);
      const bucket = buckets[width < height ? 0 : 1];
      bucket.push(idx);
      if (bucket.length === this.batchSize) {
        out.push(bucket.slice());
        bucket.length = 0;
      }
    }
    let left = [...buckets[0], ...buckets[1]];
    while (left.length > 0) {
      if (left.length <= this.batchSize) {
        if (!this.dropLast) out.push(left);
        left = [];
      } else {
        out.push(left.slice(0, this.batchSize));
        left = left.slice(this.batchSize);
      }
    }
    return out;
  }
}
