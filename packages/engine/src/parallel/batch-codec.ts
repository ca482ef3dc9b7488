// SPDX-License-Identifier: Apache-2.0
/**
 * Splitting a data batch into per-rank shards, and sending a shard to a worker thread.
 *
 * `splitBatch(batch, n)`: n contiguous shards (rank r gets samples [r*B, (r+1)*B) of a full batch of n*B; a short
 * last batch is split as evenly as possible, the first ranks getting one more; a rank can get none).
 *
 * `encodeBatch` / `decodeBatch`: a batch crosses to a worker by structured clone, which keeps plain objects,
 * arrays, typed arrays and primitives but drops prototypes (class instances arrive as plain objects without their
 * methods) and fails on functions. solo-ts batches are plain data (`PackedInputs`: `Uint8Array` image + sizes;
 * `DetDataSample`: `metainfo`, `gtInstances` with `Float32Array` boxes, `Int32Array` labels and `BitmapMasks`
 * `{count, height, width, data: Uint8Array}`), so `encodeBatch` checks that it is (a plugin transform that packs
 * a class instance gets an error naming the field instead of a silently different batch) and copies it into a
 * message; `decodeBatch` checks the shape of what arrived.
 */
import { SoloError, type DetDataSample } from '@solo-ts/core';
import { shardSizes } from '@solo-ts/datasets';
import type { DataBatch } from '../runner/types.js';

/** A batch as sent to a worker (plain data only). */
export interface EncodedBatch {
  inputs: unknown[];
  dataSamples: unknown[];
}

/** n contiguous shards of `batch` (see the module doc). */
export function splitBatch(batch: DataBatch, n: number): DataBatch[] {
  if (batch.inputs.length !== batch.dataSamples.length) {
    throw new SoloError(`a batch has ${batch.inputs.length} inputs but ${batch.dataSamples.length} data samples`, { code: 'DATASET' });
  }
  const out: DataBatch[] = [];
  let start = 0;
  for (const size of shardSizes(batch.inputs.length, n)) {
    out.push({ inputs: batch.inputs.slice(start, start + size), dataSamples: batch.dataSamples.slice(start, start + size) });
    start += size;
  }
  return out;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A copy of `v` made of plain objects, arrays, typed arrays (copied) and primitives; anything else is an error. */
function plainCopy(v: unknown, where: string, transfer: ArrayBuffer[]): unknown {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v !== 'object') {
    throw new SoloError(`data-parallel training cannot send ${where} (a ${typeof v}) to a worker thread`, { code: 'DATASET', expected: 'batches of plain objects, arrays, typed arrays and primitives' });
  }
  if (ArrayBuffer.isView(v)) {
    const copy = v instanceof DataView ? new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) : (v as unknown as { slice(): ArrayBufferView }).slice();
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  }
  if (Array.isArray(v)) return v.map((x, i) => plainCopy(x, `${where}[${i}]`, transfer));
  if (!isPlainObject(v)) {
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new SoloError(`data-parallel training cannot send ${where} (an instance of ${name}) to a worker thread: structured clone would drop its class`, {
      code: 'DATASET',
      expected: 'batches of plain objects, arrays, typed arrays and primitives (as PackDetInputs produces)',
      hint: 'train with --workers 1, or make the transform pack plain data',
    });
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plainCopy(x, `${where}.${k}`, transfer);
  return out;
}

/**
 * Check that `batch` is plain data and copy it for `postMessage` (see the module doc). `transfer` lists the
 * copies' buffers: pass it as the transfer list so that they move instead of being copied a second time.
 */
export function encodeBatch(batch: DataBatch): { batch: EncodedBatch; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const encoded = {
    inputs: batch.inputs.map((x, i) => plainCopy(x, `inputs[${i}]`, transfer)),
    dataSamples: batch.dataSamples.map((x, i) => plainCopy(x, `dataSamples[${i}]`, transfer)),
  };
  return { batch: encoded, transfer: [...new Set(transfer)] };
}

/** The batch a worker received, checked: as many inputs as samples, each sample with a `metainfo` map. */
export function decodeBatch(msg: EncodedBatch): DataBatch {
  if (!msg || !Array.isArray(msg.inputs) || !Array.isArray(msg.dataSamples) || msg.inputs.length !== msg.dataSamples.length) {
    throw new SoloError('malformed data-parallel batch: expected {inputs: [...], dataSamples: [...]} of equal length', { code: 'RUNTIME' });
  }
  msg.dataSamples.forEach((s, i) => {
    const meta = (s as { metainfo?: unknown } | null)?.metainfo;
    if (typeof meta !== 'object' || meta === null) throw new SoloError(`malformed data-parallel batch: dataSamples[${i}] has no metainfo`, { code: 'RUNTIME' });
  });
  return { inputs: msg.inputs, dataSamples: msg.dataSamples as DetDataSample[] };
}
