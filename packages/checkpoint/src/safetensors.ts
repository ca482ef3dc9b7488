// SPDX-License-Identifier: Apache-2.0
/**
 * safetensors reading and writing (pure TypeScript, on `Uint8Array`s).
 *
 * File layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian unsigned header length N, N bytes
 * of UTF-8 JSON `{"__metadata__": {string: string}, name: {"dtype": "F32", "shape": [...], "data_offsets":
 * [begin, end]}, ...}` (offsets relative to the data section, which follows the header), then the data: tensors
 * little-endian, row-major, back to back, no holes. We pad the header with spaces so the data starts 8-byte
 * aligned and write tensors by decreasing element size, so every tensor is aligned for zero-copy readers.
 */
import { CheckpointError } from '@solo-ts/core';
import {
  allocData,
  bfloat16BitsToFloat32,
  checkTensorData,
  DTYPE_INFO,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  numel,
  plainBytes,
  TorchTensor,
  type TensorData,
  type TensorLike,
  type TorchDType,
} from './tensor.js';

/** Tensors given as a Map, a record, or `[name, tensor]` pairs; order is kept (within equal element sizes). */
export type TensorCollection = Map<string, TensorLike> | Record<string, TensorLike> | Iterable<[string, TensorLike]>;

export interface SafetensorsEntry {
  name: string;
  dtype: TorchDType;
  shape: number[];
  /** Byte range in the data section. */
  begin: number;
  end: number;
}

/** A planned data section: entries with offsets and the little-endian bytes of each tensor. */
export interface SafetensorsLayout {
  entries: SafetensorsEntry[];
  chunks: Uint8Array[];
  dataLength: number;
}

const FROM_CODE: Record<string, TorchDType> = Object.fromEntries(Object.entries(DTYPE_INFO).map(([k, v]) => [v.safetensors, k as TorchDType]));
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Largest header we accept (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;

export function toEntries(tensors: TensorCollection): Array<[string, TensorLike]> {
  if (tensors instanceof Map) return [...tensors.entries()];
  if (Symbol.iterator in (tensors as object)) return [...(tensors as Iterable<[string, TensorLike]>)];
  return Object.entries(tensors as Record<string, TensorLike>);
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Little-endian bytes of a tensor at its file dtype. */
export function tensorFileBytes(t: TensorLike): Uint8Array {
  if (!HOST_LE) throw new CheckpointError('writing safetensors on a big-endian host is not supported');
  switch (t.dtype) {
    case 'float16':
      return bytesOf(float32ToFloat16Bits(t.data as Float32Array));
    case 'bfloat16':
      return bytesOf(float32ToBfloat16Bits(t.data as Float32Array));
    case 'bool': {
      const d = t.data as Uint8Array;
      return d.every((v) => v <= 1) ? d : d.map((v) => (v ? 1 : 0));
    }
    default:
      return bytesOf(t.data);
  }
}

/** Validates tensors and lays out the data section (tensors sorted by decreasing element size, stable). */
export function planSafetensors(tensors: TensorCollection): SafetensorsLayout {
  const items = toEntries(tensors);
  const seen = new Set<string>();
  for (const [name, t] of items) {
    if (name === '__metadata__') throw new CheckpointError("a tensor cannot be named '__metadata__'");
    if (seen.has(name)) throw new CheckpointError(`tensor '${name}' given twice`);
    seen.add(name);
    checkTensorData(name, t);
  }
  const order = items.map((it, i) => ({ it, i })).sort((a, b) => DTYPE_INFO[b.it[1].dtype].itemsize - DTYPE_INFO[a.it[1].dtype].itemsize || a.i - b.i);
  const entries: SafetensorsEntry[] = [];
  const chunks: Uint8Array[] = [];
  let off = 0;
  for (const { it: [name, t] } of order) {
    const b = tensorFileBytes(t);
    entries.push({ name, dtype: t.dtype, shape: [...t.shape], begin: off, end: off + b.length });
    chunks.push(b);
    off += b.length;
  }
  return { entries, chunks, dataLength: off };
}

/** Builds the file from a layout and `__metadata__` (string values only). */
export function assembleSafetensors(layout: SafetensorsLayout, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new CheckpointError(`safetensors metadata '${k}' must be a string`);
    header.__metadata__ = metadata;
  }
  for (const e of layout.entries) header[e.name] = { dtype: DTYPE_INFO[e.dtype].safetensors, shape: e.shape, data_offsets: [e.begin, e.end] };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + layout.dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const c of layout.chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Writes tensors (+ optional string metadata) as a safetensors file image. */
export function encodeSafetensors(tensors: TensorCollection, metadata?: Record<string, string>): Uint8Array {
  return assembleSafetensors(planSafetensors(tensors), metadata);
}

/** A parsed, validated safetensors file whose tensors are not decoded yet. */
export interface ParsedSafetensors {
  entries: SafetensorsEntry[];
  metadata?: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataOffset: number;
  /** The data section. */
  data: Uint8Array;
}

/** Parses and validates the header of a safetensors file image (sizes, dtypes, offsets, no holes, no truncation). */
export function parseSafetensors(bytes: Uint8Array, name = 'safetensors file'): ParsedSafetensors {
  const fail = (what: string): never => {
    throw new CheckpointError(`${name}: ${what}`);
  };
  bytes = plainBytes(bytes);
  if (bytes.length < 8) fail(`file is truncated (${bytes.length} bytes; a safetensors file has at least an 8-byte header length)`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is implausible: not a safetensors file, or corrupted`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`file is truncated: the header needs ${8 + n} bytes, the file has ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: the file is corrupted (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> | undefined;
  for (const [key, v] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) fail('__metadata__ must map strings to strings');
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' ? FROM_CODE[e.dtype] : undefined;
    if (!dtype) fail(`tensor '${key}': unsupported dtype ${JSON.stringify(e?.dtype)} (supported: ${Object.keys(FROM_CODE).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${key}': bad shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0) || offs[1] < offs[0]) {
      fail(`tensor '${key}': bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const shape = e.shape as number[];
    if (end - begin !== numel(shape) * DTYPE_INFO[dtype!].itemsize) {
      fail(`tensor '${key}': data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${shape.join(', ')}] of ${DTYPE_INFO[dtype!].safetensors} needs ${numel(shape) * DTYPE_INFO[dtype!].itemsize}`);
    }
    entries.push({ name: key, dtype: dtype!, shape: [...shape], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) fail(`tensor '${e.name}' starts at data byte ${e.begin}, expected ${cursor} (overlap or hole in the data section)`);
    cursor = e.end;
  }
  const expected = 8 + n + cursor;
  if (bytes.length < expected) fail(`file is truncated: expected ${expected} bytes, found ${bytes.length}`);
  if (bytes.length > expected) fail(`file has ${bytes.length - expected} unexpected trailing bytes (expected ${expected} bytes in all)`);
  return { entries, metadata, dataOffset: 8 + n, data: bytes.subarray(8 + n, expected) };
}

/** Decodes one tensor of a parsed file into a fresh typed array (half floats widened to float32). */
export function decodeSafetensorsEntry(parsed: ParsedSafetensors, e: SafetensorsEntry): TorchTensor {
  const raw = parsed.data.slice(e.begin, e.end); // aligned private copy
  if (!HOST_LE) throw new CheckpointError('reading safetensors on a big-endian host is not supported');
  const buf = raw.buffer;
  let data: TensorData;
  switch (e.dtype) {
    case 'float16':
      data = float16BitsToFloat32(new Uint16Array(buf));
      break;
    case 'bfloat16':
      data = bfloat16BitsToFloat32(new Uint16Array(buf));
      break;
    case 'bool':
      for (let i = 0; i < raw.length; i++) raw[i] = raw[i] ? 1 : 0;
      data = raw;
      break;
    case 'uint8':
      data = raw;
      break;
    default: {
      const C = allocData(e.dtype, 0).constructor as new (b: ArrayBuffer) => TensorData;
      data = new C(buf);
    }
  }
  return new TorchTensor(e.dtype, [...e.shape], data);
}

/** Reads a safetensors file image: tensors (in data order) and `__metadata__`. */
export function decodeSafetensors(bytes: Uint8Array, name?: string): { tensors: Map<string, TorchTensor>; metadata?: Record<string, string> } {
  const parsed = parseSafetensors(bytes, name);
  const tensors = new Map<string, TorchTensor>();
  for (const e of parsed.entries) tensors.set(e.name, decodeSafetensorsEntry(parsed, e));
  return { tensors, ...(parsed.metadata ? { metadata: parsed.metadata } : {}) };
}
