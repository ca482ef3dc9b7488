// SPDX-License-Identifier: Apache-2.0
/** The data-parallel batch shards and wire codec, and the `--workers` / threads options (no worker threads). */
import { describe, expect, it } from 'vitest';
import type { DataBatch } from '../runner/types.js';
import { shardSizes } from '@solo-ts/datasets';
import { decodeBatch, encodeBatch, splitBatch } from './batch-codec.js';
import { autoWorkers, parseWorkers, threadsPerWorker } from './data-parallel.js';

describe('shards and options', () => {
  it('splits batches into contiguous, as-even-as-possible shards', () => {
    expect(shardSizes(16, 2)).toEqual([8, 8]);
    expect(shardSizes(5, 2)).toEqual([3, 2]);
    expect(shardSizes(1, 3)).toEqual([1, 0, 0]);
    const b = { inputs: [0, 1, 2, 3, 4], dataSamples: [0, 1, 2, 3, 4].map((i) => ({ metainfo: { imgId: i } })) } as unknown as DataBatch;
    expect(splitBatch(b, 2).map((s) => s.inputs)).toEqual([[0, 1, 2], [3, 4]]);
    // plain data goes through (copied, buffers listed for transfer); a class instance is refused by name
    const plain = { inputs: [{ data: new Uint8Array([1, 2, 3]), height: 1, width: 1, channels: 3, channelOrder: 'bgr' }], dataSamples: [{ metainfo: { imgId: 1, oriShape: [1, 1] }, gtInstances: { labels: new Int32Array([2]), masks: { count: 1, height: 1, width: 1, data: new Uint8Array([1]) } } }] } as unknown as DataBatch;
    const enc = encodeBatch(plain);
    expect(enc.transfer).toHaveLength(3);
    expect(decodeBatch(structuredClone(enc.batch, { transfer: enc.transfer }))).toEqual(plain);
    class Masks {
      data = new Uint8Array(1);
    }
    const withClass = { inputs: [{}], dataSamples: [{ metainfo: {}, gtInstances: { masks: new Masks() } }] } as unknown as DataBatch;
    expect(() => encodeBatch(withClass)).toThrow(/dataSamples\[0\]\.gtInstances\.masks \(an instance of Masks\)/);
    expect(() => decodeBatch({ inputs: [{}], dataSamples: [] })).toThrow(/malformed/);
    expect(autoWorkers(16)).toBe(2);
    expect(autoWorkers(1)).toBe(1);
    expect(parseWorkers('auto')).toBe('auto');
    expect(parseWorkers('3')).toBe(3);
    expect(parseWorkers(undefined)).toBeUndefined();
    expect(() => parseWorkers('0')).toThrow(/--workers/);
    expect(() => parseWorkers('1.5')).toThrow(/--workers/);
    expect(threadsPerWorker(undefined, 2, 2)).toBe(1);
    expect(threadsPerWorker(undefined, 2, 8)).toBe(4);
    expect(threadsPerWorker(3, 2, 8)).toBe(3);
  });
});
