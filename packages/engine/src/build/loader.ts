// SPDX-License-Identifier: Apache-2.0
/**
 * The engine's view of a data loader (`EpochLoader`) over `@solo-ts/datasets`'s `DataLoader`.
 *
 * `iterate(epoch, start)` restores the loader to batch `start` of `epoch` and yields the rest of the epoch. The
 * loader derives the sample order from (seed, epoch) and each sample's augmentation from (seed, epoch, batch,
 * slot), and prefetches the next batches while the current one trains, so a resumed run sees exactly the batches
 * an uninterrupted run would.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { DataLoader } from '@solo-ts/datasets';
import type { DataBatch, EpochLoader } from '../runner/types.js';

export class LoaderAdapter implements EpochLoader {
  constructor(readonly loader: DataLoader) {}

  get length(): number {
    return this.loader.length;
  }

  get numSamples(): number {
    return this.loader.dataset.length;
  }

  get seed(): number {
    return this.loader.seed;
  }

  async *iterate(epoch: number, start = 0): AsyncIterable<DataBatch> {
    this.loader.restore({ epoch, position: start, seed: this.loader.seed });
    for await (const b of this.loader.epochBatches()) yield { inputs: b.inputs, dataSamples: b.dataSamples };
  }

  stats(): Record<string, number> {
    const s = this.loader.stats;
    return { batches: s.batches, samples: s.samples, refetches: s.refetches, prepare_ms: s.prepareMs, wait_ms: s.waitMs };
  }

  /** The annotation file (path, size, modification time) and the number of samples. */
  fingerprint(): string {
    const ds = this.loader.dataset as { annFile?: string; length: number };
    let stat = '';
    if (ds.annFile) {
      try {
        const st = fs.statSync(ds.annFile);
        stat = `${st.size}:${Math.floor(st.mtimeMs)}`;
      } catch {
        stat = 'missing';
      }
    }
    return crypto.createHash('sha256').update(`${ds.annFile ?? ''}|${stat}|${ds.length}`).digest('hex').slice(0, 16);
  }

  close(): Promise<void> {
    return this.loader.close();
  }
}
