// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `.pth` / `.pt` reader, pure TypeScript (no Python), working on a `Uint8Array`.
 *
 * Formats:
 * - the zip format `torch.save` writes since PyTorch 1.6: `<archive>/data.pkl` (the pickled object),
 *   `<archive>/data/<key>` (one entry per storage), `<archive>/byteorder` (optional), `<archive>/version`;
 * - the legacy format (`_use_new_zipfile_serialization=False`, what mmdetection's `publish_model.py` writes for
 *   released checkpoints): magic-number pickle, protocol pickle, sys-info pickle, the object pickle, the storage-key
 *   list pickle, then each storage as an int64 element count followed by its raw bytes.
 *
 * Tensors are rebuilt from `torch._utils._rebuild_tensor_v2` (and `_rebuild_tensor`, `_rebuild_parameter`,
 * `torch._tensor._rebuild_from_type_v2`): storage + offset + size + stride, materialised as contiguous row-major
 * copies (views, transposes, slices and shared storages all come out right). Storage types: Float, Half, BFloat16,
 * Double, Long, Int, Short, Char, Byte, Bool (Untyped as bytes).
 */
import { CheckpointError } from '@solo-ts/core';
import { unpickle } from './pickle.js';
import { PickleObject, isPyDict, type GlobalHandler } from './py-values.js';
import { PY_BUILDERS, PY_HANDLERS } from './py-globals.js';
import { bfloat16BitsToFloat32, DTYPE_INFO, float16BitsToFloat32, numel, plainBytes, TorchTensor, type TensorData, type TorchDType } from './tensor.js';
import { isZip, ZipReader, type InflateRaw } from './zip.js';

/** What an unpickled `.pth` contains. */
export type PthValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | TorchTensor
  | PickleObject
  | { __global__: string }
  | PthValue[]
  | { [key: string]: PthValue };
/** The root object of a `.pth` file (usually a dict). */
export type PthObject = PthValue;

export interface ReadPthOptions {
  /** Source name (file path) used in error messages. */
  name?: string;
  /** Inflater for DEFLATE zip entries (Node: `zlib.inflateRawSync`); torch writes STORED entries only. */
  inflateRaw?: InflateRaw;
  /** Verify zip CRC-32s (default true). */
  verifyCrc?: boolean;
  /** CRC-32 implementation (default pure TS). */
  crc32?: (data: Uint8Array) => number;
}

const STORAGE_TYPES: Record<string, TorchDType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

interface StorageRef {
  key: string;
  dtype: TorchDType;
  /** Element offset into the root storage (legacy storage views only). */
  elemOffset: number;
}

interface Pending {
  tensor: TorchTensor;
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** State of one load: storages seen, tensors waiting for their bytes. */
class TorchLoad {
  readonly pending: Pending[] = [];
  readonly storages = new Map<string, StorageRef>();
  private readonly uses = new Map<string, number>();
  readonly handlers: Record<string, GlobalHandler>;

  constructor(private readonly label: string) {
    const rebuild = (args: unknown[], v2: boolean) => this.rebuildTensor(args[0], args[1], args[2], args[3], v2 ? args[4] : false);
    const param = (args: unknown[]) => {
      const t = args[0];
      if (t instanceof TorchTensor) {
        t.requiresGrad = args[1] === true;
        t.isParameter = true;
      }
      return t;
    };
    const fromType = (args: unknown[]) => {
      // _rebuild_from_type_v2(func, new_type, args, state): tensor subclasses; we keep the plain tensor.
      const fn = args[0] as { __global__?: string };
      const h = fn?.__global__ ? this.handlers[fn.__global__] : undefined;
      const inner = Array.isArray(args[2]) ? args[2] : [];
      return h ? h(inner) : new PickleObject(fn?.__global__ ?? '<callable>', inner);
    };
    this.handlers = {
      ...PY_HANDLERS,
      'torch._utils._rebuild_tensor_v2': (a) => rebuild(a, true),
      'torch._utils._rebuild_tensor': (a) => rebuild(a, false),
      'torch._utils._rebuild_parameter': param,
      'torch._utils._rebuild_parameter_with_state': param,
      'torch._tensor._rebuild_from_type_v2': fromType,
      'torch.tensor._rebuild_from_type_v2': fromType,
      'torch.Size': (a) => (Array.isArray(a[0]) ? [...a[0]] : []),
    };
  }

  fail(what: string): never {
    throw new CheckpointError(`${this.label}: ${what}`);
  }

  /** Persistent ids: ('storage', storage_type, key, location, numel[, view_metadata]) and legacy ('module', ...). */
  persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid) || pid.length < 2) this.fail(`unexpected persistent id ${JSON.stringify(String(pid))}`);
    const kind = pid[0] instanceof Uint8Array ? new TextDecoder().decode(pid[0]) : pid[0];
    if (kind === 'module') return pid[1];
    if (kind !== 'storage') this.fail(`unknown persistent id type ${String(kind)}`);
    const type = pid[1] as { __global__?: string; name?: string };
    const typeName = type?.__global__ ?? String(type);
    const short = typeName.slice(typeName.lastIndexOf('.') + 1);
    const dtype = STORAGE_TYPES[short];
    if (!dtype) this.fail(`storage type ${typeName} is not supported (supported: ${Object.keys(STORAGE_TYPES).join(', ')})`);
    const key = String(pid[2]);
    let ref = this.storages.get(key);
    if (!ref) {
      ref = { key, dtype, elemOffset: 0 };
      this.storages.set(key, ref);
    } else if (ref.dtype !== dtype) {
      this.fail(`storage ${key} is used with two dtypes (${ref.dtype}, ${dtype})`);
    }
    const view = pid[5];
    if (Array.isArray(view) && view.length === 3) {
      // legacy storage view: (view_key, offset, view_size)
      return { key, dtype, elemOffset: Number(view[1]) } satisfies StorageRef;
    }
    return ref;
  };

  private rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown, requiresGrad: unknown): TorchTensor {
    const s = storage as StorageRef;
    if (typeof s !== 'object' || s === null || typeof s.key !== 'string' || !s.dtype) this.fail('tensor without a storage');
    const ints = (x: unknown, what: string): number[] => {
      if (!Array.isArray(x) || !x.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
        this.fail(`tensor ${what} is not a tuple of non-negative integers`);
      }
      return [...(x as number[])];
    };
    const shape = ints(size, 'size');
    const strides = ints(stride, 'stride');
    if (strides.length !== shape.length) this.fail('tensor size and stride differ in length');
    if (typeof offset !== 'number' || offset < 0) this.fail('tensor storage offset is not a non-negative integer');
    const t = new TorchTensor(s.dtype, shape, new Float32Array(0), requiresGrad === true);
    this.pending.push({ tensor: t, storage: s, offset: offset as number, size: shape, stride: strides });
    this.uses.set(s.key, (this.uses.get(s.key) ?? 0) + 1);
    return t;
  }

  /** Fills every tensor from its storage bytes. */
  materialize(storageBytes: (key: string, ref: StorageRef) => Uint8Array, littleEndian: boolean): void {
    const decoded = new Map<string, TensorData>();
    const decode = (ref: StorageRef): TensorData => {
      let d = decoded.get(ref.key);
      if (d) return d;
      const raw = storageBytes(ref.key, ref);
      d = decodeStorage(raw, ref.dtype, littleEndian !== HOST_LE, () => this.fail(`storage ${ref.key} has ${raw.length} bytes, not a multiple of the ${ref.dtype} element size`));
      decoded.set(ref.key, d);
      return d;
    };
    for (const p of this.pending) {
      const src = decode(p.storage);
      const off = p.offset + p.storage.elemOffset;
      const n = numel(p.size);
      if (n > 0) {
        let last = off;
        for (let i = 0; i < p.size.length; i++) last += (p.size[i] - 1) * p.stride[i];
        if (last >= src.length) {
          this.fail(`tensor of shape [${p.size.join(', ')}] reads element ${last} of storage ${p.storage.key}, which has ${src.length} elements (truncated or corrupted file)`);
        }
      }
      p.tensor.data = gather(src, off, p.size, p.stride, this.uses.get(p.storage.key) === 1);
    }
  }
}

function decodeStorage(raw: Uint8Array, dtype: TorchDType, swap: boolean, bad: () => never): TensorData {
  const size = DTYPE_INFO[dtype].itemsize;
  if (raw.length % size !== 0) bad();
  const b = raw.slice(); // aligned private copy
  if (swap && size > 1) for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  const buf = b.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float16':
      return float16BitsToFloat32(new Uint16Array(buf));
    case 'bfloat16':
      return bfloat16BitsToFloat32(new Uint16Array(buf));
    case 'float64':
      return new Float64Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'bool':
      for (let i = 0; i < b.length; i++) b[i] = b[i] ? 1 : 0;
      return b;
    default:
      return b;
  }
}

/** Contiguous row-major copy of the strided view (`src` itself when the view is the whole, unshared storage). */
function gather(src: TensorData, off: number, size: number[], stride: number[], soleUser: boolean): TensorData {
  const n = numel(size);
  let contiguous = true;
  let expect = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= size[i];
  }
  if (contiguous) {
    if (soleUser && off === 0 && n === src.length) return src;
    return src.slice(off, off + n) as TensorData;
  }
  const out = src.slice(0, 0).constructor as new (n: number) => TensorData;
  const dst = new out(n) as unknown as { [i: number]: number | bigint };
  const s = src as unknown as { [i: number]: number | bigint };
  const nd = size.length;
  const inner = size[nd - 1];
  const innerStride = stride[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  while (o < n) {
    let base = off;
    for (let i = 0; i < nd - 1; i++) base += idx[i] * stride[i];
    for (let j = 0; j < inner; j++) dst[o++] = s[base + j * innerStride];
    let i = nd - 2;
    for (; i >= 0; i--) {
      if (++idx[i] < size[i]) break;
      idx[i] = 0;
    }
    if (i < 0) break;
  }
  return dst as unknown as TensorData;
}

function readZipPth(bytes: Uint8Array, opts: ReadPthOptions, label: string): PthValue {
  const zip = new ZipReader(bytes, { name: label, inflateRaw: opts.inflateRaw, verifyCrc: opts.verifyCrc, crc32: opts.crc32 });
  const pkls = [...zip.entries.keys()].filter((k) => k === 'data.pkl' || k.endsWith('/data.pkl'));
  if (pkls.length === 0) throw new CheckpointError(`${label}: zip archive without */data.pkl: not a PyTorch checkpoint`);
  pkls.sort((a, b) => a.split('/').length - b.split('/').length);
  const prefix = pkls[0].slice(0, pkls[0].length - 'data.pkl'.length);
  let littleEndian = true;
  if (zip.has(`${prefix}byteorder`)) {
    const bo = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (bo !== 'little' && bo !== 'big') throw new CheckpointError(`${label}: unknown byteorder '${bo}'`);
    littleEndian = bo === 'little';
  }
  const load = new TorchLoad(label);
  const { value } = unpickle(zip.read(`${prefix}data.pkl`), 0, { name: `${label} (data.pkl)`, handlers: load.handlers, builders: PY_BUILDERS, persistentLoad: load.persistentLoad });
  load.materialize((key) => {
    const entry = `${prefix}data/${key}`;
    if (!zip.has(entry)) throw new CheckpointError(`${label}: storage entry ${entry} is missing`);
    return zip.read(entry);
  }, littleEndian);
  return value as PthValue;
}

function readLegacyPth(bytes: Uint8Array, label: string): PthValue {
  const magic = unpickle(bytes, 0, { name: label });
  if (magic.value !== LEGACY_MAGIC && magic.value !== Number(LEGACY_MAGIC)) throw new CheckpointError(`${label}: not a PyTorch checkpoint (bad magic number)`);
  const proto = unpickle(bytes, magic.end, { name: label });
  if (proto.value !== 1001) throw new CheckpointError(`${label}: unsupported legacy protocol version ${String(proto.value)}`);
  const sys = unpickle(bytes, proto.end, { name: label });
  const info = sys.value as Record<string, unknown>;
  const littleEndian = !isPyDict(info) || info.little_endian !== false;
  const load = new TorchLoad(label);
  const main = unpickle(bytes, sys.end, { name: label, handlers: load.handlers, builders: PY_BUILDERS, persistentLoad: load.persistentLoad });
  const keysPickle = unpickle(bytes, main.end, { name: `${label} (storage keys)` });
  const keys = keysPickle.value;
  if (!Array.isArray(keys)) throw new CheckpointError(`${label}: storage key list missing`);
  const regions = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keysPickle.end;
  for (const k of keys) {
    const key = String(k);
    const ref = load.storages.get(key);
    if (!ref) throw new CheckpointError(`${label}: storage ${key} listed but never used`);
    if (p + 8 > bytes.length) throw new CheckpointError(`${label}: file is truncated (storage ${key} header missing)`);
    const count = Number(view.getBigInt64(p, littleEndian));
    const nbytes = count * DTYPE_INFO[ref.dtype].itemsize;
    if (count < 0 || p + 8 + nbytes > bytes.length) {
      throw new CheckpointError(`${label}: file is truncated (storage ${key} needs ${nbytes} bytes at offset ${p + 8}, file has ${bytes.length})`);
    }
    regions.set(key, bytes.subarray(p + 8, p + 8 + nbytes));
    p += 8 + nbytes;
  }
  load.materialize((key) => {
    const r = regions.get(key);
    if (!r) throw new CheckpointError(`${label}: storage ${key} has no data`);
    return r;
  }, littleEndian);
  return main.value as PthValue;
}

/** True when the bytes look like a legacy (non-zip) `torch.save` file. */
export function isLegacyPth(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

/** True when the bytes look like a PyTorch checkpoint (zip or legacy format). */
export function isPth(bytes: Uint8Array): boolean {
  return isZip(bytes) || isLegacyPth(bytes);
}

/**
 * Reads a PyTorch checkpoint from memory. Returns the unpickled object with tensors as `TorchTensor`s.
 * Throws a `CheckpointError` naming `options.name` for anything truncated, corrupted or unsupported.
 */
export function readPth(bytes: Uint8Array, options: ReadPthOptions = {}): PthObject {
  const label = options.name ?? 'checkpoint';
  bytes = plainBytes(bytes);
  try {
    if (isZip(bytes)) return readZipPth(bytes, options, label);
    if (isLegacyPth(bytes)) return readLegacyPth(bytes, label);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${label}: corrupted PyTorch checkpoint (${(e as Error).message})`, { cause: e });
  }
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new CheckpointError(`${label}: tar-based PyTorch checkpoint (PyTorch < 0.4) is not supported; re-save it with a newer PyTorch`);
  }
  throw new CheckpointError(`${label}: not a PyTorch checkpoint (expected a zip archive or a legacy torch.save pickle)`, {
    expected: 'a file written by torch.save',
  });
}
