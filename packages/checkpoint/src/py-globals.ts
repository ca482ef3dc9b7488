// SPDX-License-Identifier: Apache-2.0
/**
 * Handlers for the Python (non-torch) globals found in checkpoints: `collections.OrderedDict`, bytes as
 * `_codecs.encode`, `copyreg._reconstructor`, and numpy scalars / arrays / dtypes (kept as opaque
 * `PickleObject`s, with the decoded number or array in `value` when the dtype is a plain numeric one).
 */
import { bfloat16BitsToFloat32, float16BitsToFloat32, TorchTensor, type TorchDType, type TensorData } from './tensor.js';
import { PickleObject, isPyDict, setDictItem, type BuildHandler, type GlobalHandler } from './py-values.js';

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function encodeString(s: unknown, encoding: unknown): Uint8Array | PickleObject {
  if (typeof s !== 'string') return new PickleObject('_codecs.encode', [s, encoding]);
  const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace(/[-_]/g, '') : 'utf8';
  if (enc === 'latin1' || enc === 'iso88591') return latin1Bytes(s);
  if (enc === 'utf8') return new TextEncoder().encode(s);
  return new PickleObject('_codecs.encode', [s, encoding]);
}

/** Numeric numpy dtype codes -> our dtype (plus the per-element decoder for scalars). */
const NUMPY_DTYPES: Record<string, TorchDType> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  b1: 'bool',
};

interface NumpyDtype {
  dtype: TorchDType;
  itemsize: number;
  bigEndian: boolean;
}

function numpyDtypeOf(d: unknown): NumpyDtype | undefined {
  if (!(d instanceof PickleObject) || d.__class__ !== 'numpy.dtype') return undefined;
  const code = d.args[0];
  if (typeof code !== 'string' || !(code in NUMPY_DTYPES)) return undefined;
  const st = d.state;
  const order = Array.isArray(st) && typeof st[1] === 'string' ? st[1] : '<';
  // structured dtypes carry field names in the state: not a plain number
  if (Array.isArray(st) && (st[3] !== null && st[3] !== undefined)) return undefined;
  return { dtype: NUMPY_DTYPES[code], itemsize: parseInt(code.slice(1), 10), bigEndian: order === '>' };
}

/** Decodes raw little/big-endian bytes of a numeric numpy dtype into our typed array. */
function decodeNumpyBytes(raw: Uint8Array, dt: NumpyDtype): TensorData | undefined {
  if (raw.length % dt.itemsize !== 0) return undefined;
  const b = raw.slice();
  if (dt.bigEndian && dt.itemsize > 1) {
    for (let i = 0; i < b.length; i += dt.itemsize) b.subarray(i, i + dt.itemsize).reverse();
  }
  const buf = b.buffer;
  switch (dt.dtype) {
    case 'float16':
      return float16BitsToFloat32(new Uint16Array(buf));
    case 'bfloat16':
      return bfloat16BitsToFloat32(new Uint16Array(buf));
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    default:
      return b;
  }
}

function scalarValue(dtypeObj: unknown, payload: unknown): unknown {
  const dt = numpyDtypeOf(dtypeObj);
  if (!dt || !(payload instanceof Uint8Array) || payload.length !== dt.itemsize) return undefined;
  const arr = decodeNumpyBytes(payload, dt);
  if (!arr) return undefined;
  const v = arr[0];
  if (dt.dtype === 'bool') return v !== 0;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  return v;
}

/** Row-major copy of a Fortran-ordered array. */
function fortranToC(data: TensorData, shape: number[]): TensorData {
  const out = data.slice() as TensorData;
  const nd = shape.length;
  const fStrides = new Array<number>(nd);
  let s = 1;
  for (let i = 0; i < nd; i++) {
    fStrides[i] = s;
    s *= shape[i];
  }
  const idx = new Array<number>(nd).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < nd; i++) src += idx[i] * fStrides[i];
    (out as unknown as { [k: number]: number | bigint })[o] = data[src];
    for (let i = nd - 1; i >= 0; i--) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

const buildNdarray: BuildHandler = (obj, state) => {
  // numpy ndarray.__setstate__: (version, shape, dtype, is_fortran, rawdata)
  if (!Array.isArray(state) || state.length < 5) return;
  const [, shape, dtypeObj, isFortran, raw] = state as [unknown, unknown, unknown, unknown, unknown];
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) return;
  if (Array.isArray(raw)) {
    obj.value = raw; // object array: the pickled Python objects
    return;
  }
  const dt = numpyDtypeOf(dtypeObj);
  if (!dt || !(raw instanceof Uint8Array)) return;
  let data = decodeNumpyBytes(raw, dt);
  if (!data || data.length !== shape.reduce((a: number, b: number) => a * b, 1)) return;
  if (isFortran === true && shape.length > 1) data = fortranToC(data, shape as number[]);
  obj.value = new TorchTensor(dt.dtype, shape as number[], data);
};

export const PY_HANDLERS: Record<string, GlobalHandler> = {
  'collections.OrderedDict': (args) => {
    const d: Record<string, unknown> = {};
    const items = args[0];
    if (Array.isArray(items)) {
      for (const kv of items) if (Array.isArray(kv) && kv.length === 2) setDictItem(d, kv[0], kv[1]);
    } else if (isPyDict(items)) {
      Object.assign(d, items);
    }
    return d;
  },
  '_codecs.encode': (args) => encodeString(args[0], args[1]),
  'builtins.bytes': (args) => (args.length === 0 ? new Uint8Array(0) : Array.isArray(args[0]) ? Uint8Array.from(args[0] as number[]) : encodeString(args[0], args[1])),
  'builtins.bytearray': (args) => (args.length === 0 ? new Uint8Array(0) : args[0] instanceof Uint8Array ? args[0] : encodeString(args[0], args[1])),
  'copyreg._reconstructor': (args) => {
    const cls = args[0] as { __global__?: string } | undefined;
    return new PickleObject(cls?.__global__ ?? 'copyreg._reconstructor', args.slice(2, 3).filter((x) => x !== null));
  },
};
for (const mod of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
  PY_HANDLERS[`${mod}.scalar`] = (args) => {
    const o = new PickleObject(`${mod}.scalar`, args);
    const v = scalarValue(args[0], args[1]);
    if (v !== undefined) o.value = v;
    return o;
  };
}

export const PY_BUILDERS: Record<string, BuildHandler> = {
  'numpy.core.multiarray._reconstruct': buildNdarray,
  'numpy._core.multiarray._reconstruct': buildNdarray,
};
