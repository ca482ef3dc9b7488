// SPDX-License-Identifier: Apache-2.0
/**
 * One entry point for every checkpoint kind, dispatching on content: a zip archive (`PK`) or a legacy torch pickle
 * is a PyTorch `.pth`; anything else is read as safetensors (ours, verified, or a plain one).
 * The result is uniform: `{stateDict, meta, format, layout}`.
 */
import { decodeCheckpoint, type HashFactory } from './checkpoint-format.js';
import { isPth, readPth } from './pth.js';
import { extractStateDict } from './state-dict.js';
import type { TorchTensor } from './tensor.js';
import type { InflateRaw } from './zip.js';

export interface AnyCheckpoint {
  /** Tensor name -> tensor, in file order. */
  stateDict: Map<string, TorchTensor>;
  /** `.pth`: the checkpoint's `meta` (mmdetection) or undefined; safetensors: the JSON metadata. */
  meta: unknown;
  format: 'pth' | 'solo-ts' | 'safetensors';
  /**
   * Tensor layout: `pytorch` (NCHW / OIHW) for `.pth` files and converted ones; for our own checkpoints whatever
   * the writer recorded in `meta.layout`; undefined when unknown.
   */
  layout?: string;
}

export interface ReadAnyOptions {
  /** Source name (file path) for messages. */
  name?: string;
  /** Inflater for DEFLATE zip entries (Node: zlib.inflateRawSync). */
  inflateRaw?: InflateRaw;
  /** CRC-32 implementation for zip entries (default pure TS). */
  crc32?: (data: Uint8Array) => number;
  /** SHA-256 implementation for verifying our checkpoints (default pure TS). */
  hash?: HashFactory;
  /** Prefixes removed from `.pth` state-dict keys (default `['module.']`). */
  stripPrefixes?: string[];
}

/** Reads a `.pth` or safetensors checkpoint from memory. */
export function readAnyCheckpoint(bytes: Uint8Array, options: ReadAnyOptions = {}): AnyCheckpoint {
  if (isPth(bytes)) {
    const obj = readPth(bytes, { name: options.name, inflateRaw: options.inflateRaw, crc32: options.crc32 });
    const { stateDict, meta } = extractStateDict(obj, { name: options.name, stripPrefixes: options.stripPrefixes });
    return { stateDict, meta, format: 'pth', layout: 'pytorch' };
  }
  const ck = decodeCheckpoint(bytes, { name: options.name, hash: options.hash });
  const layout = typeof ck.meta === 'object' && ck.meta !== null && typeof (ck.meta as { layout?: unknown }).layout === 'string' ? (ck.meta as { layout: string }).layout : undefined;
  return { stateDict: ck.tensors, meta: ck.meta, format: ck.format, ...(layout ? { layout } : {}) };
}
