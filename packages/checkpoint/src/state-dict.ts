// SPDX-License-Identifier: Apache-2.0
/**
 * Finding the state dict in an unpickled checkpoint, renaming keys, and making meta JSON-safe.
 *
 * Recognised layouts: mmdetection / mmengine `{meta, state_dict, optimizer, ...}`, other wrappers
 * (`{state_dict}`, `{model}`, `{module}`, `{model_state_dict}`, `{net}`), and plain state dicts (torchvision's
 * `model.state_dict()`). A leading `module.` (DataParallel / DistributedDataParallel) is removed like mmengine's
 * `load_checkpoint` does.
 */
import { CheckpointError } from '@solo-ts/core';
import { PickleGlobal, PickleObject, isPyDict } from './py-values.js';
import { TorchTensor, numel } from './tensor.js';

export interface ExtractedStateDict {
  /** Tensor name -> tensor, in file order. */
  stateDict: Map<string, TorchTensor>;
  /** The checkpoint's `meta` (mmdetection), when present. */
  meta?: unknown;
  /** The wrapper key the state dict was found under (`state_dict`, `model`, ...), or undefined for a plain one. */
  wrapper?: string;
  /** Entries of the state dict that are not tensors (skipped). */
  skipped: string[];
}

export interface ExtractOptions {
  /** Key prefixes removed when present (default `['module.']`). */
  stripPrefixes?: string[];
  /** Source name for messages. */
  name?: string;
}

const WRAPPER_KEYS = ['state_dict', 'model', 'module', 'model_state_dict', 'net'];

function tensorCount(d: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(d)) if (v instanceof TorchTensor) n++;
  return n;
}

/** Finds the state dict of a checkpoint object returned by `readPth`. */
export function extractStateDict(obj: unknown, options: ExtractOptions = {}): ExtractedStateDict {
  const label = options.name ?? 'checkpoint';
  if (!isPyDict(obj)) {
    const what = obj instanceof PickleObject ? `a pickled ${obj.__class__} object (a whole model?)` : Array.isArray(obj) ? 'a list' : typeof obj;
    throw new CheckpointError(`${label}: expected a dict holding a state dict, found ${what}`, {
      hint: 'save the weights with torch.save(model.state_dict(), path) rather than the model object',
    });
  }
  let sd: Record<string, unknown> | undefined;
  let wrapper: string | undefined;
  for (const k of WRAPPER_KEYS) {
    const v = obj[k];
    if (isPyDict(v) && (tensorCount(v) > 0 || Object.keys(v).length === 0)) {
      sd = v;
      wrapper = k;
      break;
    }
  }
  if (!sd) {
    if (tensorCount(obj) === 0) {
      throw new CheckpointError(`${label}: no state dict found (top-level keys: ${Object.keys(obj).slice(0, 20).join(', ') || 'none'})`, {
        expected: `a dict of tensors, or a dict with one under ${WRAPPER_KEYS.map((k) => `'${k}'`).join(' / ')}`,
      });
    }
    sd = obj;
  }
  const strip = options.stripPrefixes ?? ['module.'];
  const stateDict = new Map<string, TorchTensor>();
  const skipped: string[] = [];
  for (const [k0, v] of Object.entries(sd)) {
    if (!(v instanceof TorchTensor)) {
      skipped.push(k0);
      continue;
    }
    let k = k0;
    for (const p of strip) if (p && k.startsWith(p)) k = k.slice(p.length);
    if (stateDict.has(k)) throw new CheckpointError(`${label}: key '${k}' appears twice after removing prefixes ${strip.join(', ')}`);
    stateDict.set(k, v);
  }
  const meta = wrapper !== undefined ? obj.meta : undefined;
  return { stateDict, ...(meta !== undefined ? { meta } : {}), ...(wrapper ? { wrapper } : {}), skipped };
}

/** One rename rule: a key starting with `from` gets `to` instead of that prefix. */
export type PrefixMap = Array<[from: string, to: string]>;

/** Parses `old=new` strings (CLI `--prefix-map`); `old=` removes the prefix, `=new` prefixes every key. */
export function parsePrefixMap(specs: string[]): PrefixMap {
  return specs.map((s) => {
    const i = s.indexOf('=');
    if (i < 0) throw new CheckpointError(`bad prefix map '${s}'`, { expected: 'old=new, e.g. backbone.=backbone.body. (either side may be empty)' });
    return [s.slice(0, i), s.slice(i + 1)];
  });
}

/** Renames keys by the first matching prefix rule; throws when two keys collide. */
export function applyPrefixMap<T>(sd: Map<string, T>, map: PrefixMap): Map<string, T> {
  if (map.length === 0) return sd;
  const out = new Map<string, T>();
  for (const [k, v] of sd) {
    const rule = map.find(([from]) => k.startsWith(from));
    const nk = rule ? rule[1] + k.slice(rule[0].length) : k;
    if (out.has(nk)) throw new CheckpointError(`prefix map makes two tensors share the name '${nk}'`);
    out.set(nk, v);
  }
  return out;
}

/**
 * A JSON-serialisable copy of an unpickled value: bigints become numbers when safe (else decimal strings),
 * non-finite numbers become 'NaN' / 'Infinity' / '-Infinity', bytes `{__bytes__: base64}`, tensors
 * `{__tensor__: {dtype, shape}}` (values dropped), opaque objects `{__class__, args, state, items, value}`.
 */
export function toJSONSafe(x: unknown, seen = new Set<unknown>()): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'string' || typeof x === 'boolean') return x;
  if (typeof x === 'number') return Number.isFinite(x) ? x : String(x);
  if (typeof x === 'bigint') return x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(x) : x.toString();
  if (x instanceof TorchTensor) return { __tensor__: { dtype: x.dtype, shape: [...x.shape] } };
  if (x instanceof Uint8Array) return { __bytes__: base64(x) };
  if (typeof x !== 'object') return String(x);
  if (seen.has(x)) return '[circular]';
  seen.add(x);
  try {
    if (Array.isArray(x)) return x.map((v) => toJSONSafe(v, seen));
    if (x instanceof PickleGlobal) return { __global__: x.__global__ };
    if (x instanceof PickleObject) {
      const o: Record<string, unknown> = { __class__: x.__class__, args: toJSONSafe(x.args, seen) };
      if (x.state !== undefined) o.state = toJSONSafe(x.state, seen);
      if (x.items !== undefined) o.items = toJSONSafe(x.items, seen);
      if (x.listItems !== undefined) o.listItems = toJSONSafe(x.listItems, seen);
      if (x.kwargs !== undefined) o.kwargs = toJSONSafe(x.kwargs, seen);
      if (x.value !== undefined) o.value = x.value instanceof TorchTensor ? { dtype: x.value.dtype, shape: x.value.shape, data: toJSONSafe(Array.from(x.value.data as ArrayLike<number | bigint>), seen) } : toJSONSafe(x.value, seen);
      return o;
    }
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      const jv = toJSONSafe(v, seen);
      if (k === '__proto__') Object.defineProperty(o, k, { value: jv, enumerable: true, writable: true, configurable: true });
      else o[k] = jv;
    }
    return o;
  } finally {
    seen.delete(x);
  }
}

function base64(b: Uint8Array): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += abc[(n >> 18) & 63] + abc[(n >> 12) & 63] + (i + 1 < b.length ? abc[(n >> 6) & 63] : '=') + (i + 2 < b.length ? abc[n & 63] : '=');
  }
  return s;
}

/** Sizes of a state dict: tensors, elements, learnable parameters (all but BatchNorm running statistics), bytes. */
export interface StateDictSummary {
  numTensors: number;
  /** All elements of all tensors. */
  numElements: number;
  /** Elements excluding `running_mean`, `running_var` and `num_batches_tracked` (= PyTorch `parameters()`). */
  numParameters: number;
  /** Bytes of tensor data at their stored dtypes. */
  bytes: number;
  /** Number of tensors per dtype. */
  dtypes: Record<string, number>;
}

const BUFFER_SUFFIXES = ['.running_mean', '.running_var', '.num_batches_tracked'];

export function summarizeStateDict(sd: Map<string, { dtype: string; shape: number[] }>, itemsize: (dtype: string) => number): StateDictSummary {
  const s: StateDictSummary = { numTensors: 0, numElements: 0, numParameters: 0, bytes: 0, dtypes: {} };
  for (const [k, t] of sd) {
    const n = numel(t.shape);
    s.numTensors++;
    s.numElements += n;
    if (!BUFFER_SUFFIXES.some((x) => k.endsWith(x) || k === x.slice(1))) s.numParameters += n;
    s.bytes += n * itemsize(t.dtype);
    s.dtypes[t.dtype] = (s.dtypes[t.dtype] ?? 0) + 1;
  }
  return s;
}
