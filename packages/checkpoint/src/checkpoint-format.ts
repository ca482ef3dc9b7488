// SPDX-License-Identifier: Apache-2.0
/**
 * The solo-ts checkpoint format: ONE safetensors file whose `__metadata__` carries the JSON metadata and checksums.
 *
 * `__metadata__` keys:
 * - `format`: `solo-ts-checkpoint`, `format_version`: `1`
 * - `meta`: the JSON metadata (config, step / epoch / iter, optimizer state, RNG state, dataset fingerprint, ...)
 * - `data_sha256`: SHA-256 (hex) of the data section (all tensor bytes)
 * - `header_sha256`: SHA-256 (hex) of the canonical JSON
 *   `{"format","format_version","tensors":[[name, dtype, shape, [begin, end]], ...],"meta","data_sha256"}`
 *   (tensors in data order), so a change to any tensor name, dtype, shape, offset, the meta or the data checksum
 *   is detected too.
 * Any safetensors reader can read the tensors; `decodeCheckpoint` verifies both checksums and refuses a truncated or
 * corrupted file with a `CheckpointError`. Plain safetensors files (no `format` key) load unverified.
 */
import { CheckpointError } from '@solo-ts/core';
import { Sha256 } from './sha256.js';
import { assembleSafetensors, decodeSafetensorsEntry, parseSafetensors, planSafetensors, type SafetensorsEntry, type TensorCollection } from './safetensors.js';
import { DTYPE_INFO, TorchTensor } from './tensor.js';

export const CHECKPOINT_FORMAT = 'solo-ts-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = '1';

/** An incremental SHA-256: `update` bytes, then `hex`. */
export interface Hasher {
  update(data: Uint8Array): unknown;
  hex(): string;
}
/** Makes a fresh SHA-256 hasher (pure TS by default; Node passes one backed by `node:crypto`). */
export type HashFactory = () => Hasher;

export const pureSha256: HashFactory = () => new Sha256();

/** What a checkpoint holds: tensors and JSON metadata. */
export interface CheckpointData {
  tensors: TensorCollection;
  /** Any JSON-serialisable value (usually an object). */
  meta?: unknown;
}

export interface LoadedCheckpoint {
  /** Tensors in file order. */
  tensors: Map<string, TorchTensor>;
  /** The JSON metadata (for a plain safetensors file: its `__metadata__` map, or `{}`). */
  meta: unknown;
  /** `solo-ts` (checksums verified) or `safetensors` (a plain file, nothing to verify). */
  format: 'solo-ts' | 'safetensors';
}

function canonicalHeader(entries: SafetensorsEntry[], metaJson: string, dataSha: string): string {
  return JSON.stringify({
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_FORMAT_VERSION,
    tensors: entries.map((e) => [e.name, DTYPE_INFO[e.dtype].safetensors, e.shape, [e.begin, e.end]]),
    meta: metaJson,
    data_sha256: dataSha,
  });
}

/** Serialises `meta` to JSON, or throws a `CheckpointError` saying why it cannot be. */
export function metaToJson(meta: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(meta ?? {});
  } catch (e) {
    throw new CheckpointError(`checkpoint metadata is not JSON-serialisable: ${(e as Error).message}`, {
      hint: 'convert BigInts to numbers or strings and remove cycles (toJSONSafe does this)',
    });
  }
  if (s === undefined) throw new CheckpointError('checkpoint metadata is not JSON-serialisable (a function or undefined)');
  return s;
}

/** Encodes a checkpoint into one safetensors file image with checksums. */
export function encodeCheckpoint(ckpt: CheckpointData, hash: HashFactory = pureSha256): { bytes: Uint8Array; dataSha256: string; headerSha256: string } {
  const layout = planSafetensors(ckpt.tensors);
  const metaJson = metaToJson(ckpt.meta);
  const h = hash();
  for (const c of layout.chunks) h.update(c);
  const dataSha256 = h.hex();
  const hh = hash();
  hh.update(new TextEncoder().encode(canonicalHeader(layout.entries, metaJson, dataSha256)));
  const headerHex = hh.hex();
  const bytes = assembleSafetensors(layout, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_FORMAT_VERSION,
    meta: metaJson,
    data_sha256: dataSha256,
    header_sha256: headerHex,
  });
  return { bytes, dataSha256, headerSha256: headerHex };
}

export interface DecodeCheckpointOptions {
  /** Source name (file path) for messages. */
  name?: string;
  hash?: HashFactory;
}

/** Decodes and verifies a checkpoint file image (ours, or a plain safetensors file). */
export function decodeCheckpoint(bytes: Uint8Array, options: DecodeCheckpointOptions = {}): LoadedCheckpoint {
  const name = options.name ?? 'checkpoint';
  const hash = options.hash ?? pureSha256;
  const parsed = parseSafetensors(bytes, name);
  const md = parsed.metadata ?? {};
  const decodeAll = () => {
    const tensors = new Map<string, TorchTensor>();
    for (const e of parsed.entries) tensors.set(e.name, decodeSafetensorsEntry(parsed, e));
    return tensors;
  };
  // Ours when any of our keys is there: a corrupted `format` value must not downgrade the file to "plain, unverified".
  const ours = ['format_version', 'meta', 'data_sha256', 'header_sha256'].some((k) => k in md) || /solo/i.test(md.format ?? '');
  if (!ours) return { tensors: decodeAll(), meta: parsed.metadata ?? {}, format: 'safetensors' };
  if (md.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${name}: corrupted checkpoint: __metadata__ format is ${JSON.stringify(md.format)}, expected '${CHECKPOINT_FORMAT}'`);
  if (md.format_version !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(`${name}: checkpoint format version ${md.format_version} is not supported (this solo-ts reads version ${CHECKPOINT_FORMAT_VERSION})`);
  }
  for (const k of ['meta', 'data_sha256', 'header_sha256']) {
    if (typeof md[k] !== 'string') throw new CheckpointError(`${name}: corrupted checkpoint: __metadata__ lacks '${k}'`);
  }
  const h = hash();
  h.update(new TextEncoder().encode(canonicalHeader(parsed.entries, md.meta, md.data_sha256)));
  if (h.hex() !== md.header_sha256) {
    throw new CheckpointError(`${name}: header checksum mismatch: tensor names, shapes, offsets or metadata were altered (the file is corrupted)`);
  }
  const d = hash();
  d.update(parsed.data);
  const got = d.hex();
  if (got !== md.data_sha256) {
    throw new CheckpointError(`${name}: tensor data checksum mismatch (sha256 ${got}, recorded ${md.data_sha256}): the file is corrupted`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(md.meta);
  } catch (e) {
    throw new CheckpointError(`${name}: metadata is not valid JSON (${(e as Error).message})`);
  }
  return { tensors: decodeAll(), meta, format: 'solo-ts' };
}
