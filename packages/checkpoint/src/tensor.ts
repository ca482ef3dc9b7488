// SPDX-License-Identifier: Apache-2.0
/**
 * Plain tensors read from or written to checkpoint files, independent of tfjs.
 *
 * A `TorchTensor` is a dtype, a shape and a row-major (C-contiguous) typed array. The array type is fixed by the
 * dtype (see `DTYPE_INFO`): half-precision values (`float16`, `bfloat16`) are widened to `Float32Array` (exact),
 * 64-bit integers stay `BigInt64Array` (use `int64ToNumbers` for a checked conversion), `bool` is a `Uint8Array`
 * of 0/1. The tensor is structurally a `TensorRecord` of `@solo-ts/core`, so `Module.loadStateDict` accepts it.
 * Layout is whatever the file holds: PyTorch checkpoints are NCHW / OIHW; models transpose themselves.
 */
import { CheckpointError, type TensorRecord } from '@solo-ts/core';

/** Element types a checkpoint tensor can have. */
export type TorchDType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** The typed arrays holding tensor values. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** A tensor as plain data: what checkpoint writers accept. */
export interface TensorLike {
  /** Element type; decides the array type of `data` (see `DTYPE_INFO`). */
  dtype: TorchDType;
  /** Dimensions, row-major; `[]` for a scalar. */
  shape: number[];
  /** `prod(shape)` values in row-major order. */
  data: TensorData;
}

/** Per-dtype facts: bytes per element in files, the typed-array constructor of `data`, the safetensors code. */
export const DTYPE_INFO: Record<
  TorchDType,
  { itemsize: number; array: 'Float32Array' | 'Float64Array' | 'BigInt64Array' | 'Int32Array' | 'Int16Array' | 'Int8Array' | 'Uint8Array'; safetensors: string }
> = {
  float32: { itemsize: 4, array: 'Float32Array', safetensors: 'F32' },
  float16: { itemsize: 2, array: 'Float32Array', safetensors: 'F16' },
  bfloat16: { itemsize: 2, array: 'Float32Array', safetensors: 'BF16' },
  float64: { itemsize: 8, array: 'Float64Array', safetensors: 'F64' },
  int64: { itemsize: 8, array: 'BigInt64Array', safetensors: 'I64' },
  int32: { itemsize: 4, array: 'Int32Array', safetensors: 'I32' },
  int16: { itemsize: 2, array: 'Int16Array', safetensors: 'I16' },
  int8: { itemsize: 1, array: 'Int8Array', safetensors: 'I8' },
  uint8: { itemsize: 1, array: 'Uint8Array', safetensors: 'U8' },
  bool: { itemsize: 1, array: 'Uint8Array', safetensors: 'BOOL' },
};

export function isTorchDType(x: unknown): x is TorchDType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_INFO, x);
}

/** A tensor loaded from a checkpoint (`.pth` or safetensors). */
export class TorchTensor implements TensorLike, TensorRecord {
  constructor(
    public dtype: TorchDType,
    public shape: number[],
    public data: TensorData,
    /** PyTorch `requires_grad` as saved (false for state-dict tensors). */
    public requiresGrad = false,
    /** Saved as a `torch.nn.Parameter` (only when a Parameter object itself was pickled). */
    public isParameter = false,
  ) {}

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
}

export function isTensorLike(x: unknown): x is TensorLike {
  if (x instanceof TorchTensor) return true;
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<TensorLike>;
  return isTorchDType(t.dtype) && Array.isArray(t.shape) && ArrayBuffer.isView(t.data);
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Allocates the typed array of `dtype` for `n` elements. */
export function allocData(dtype: TorchDType, n: number): TensorData {
  switch (DTYPE_INFO[dtype].array) {
    case 'Float32Array':
      return new Float32Array(n);
    case 'Float64Array':
      return new Float64Array(n);
    case 'BigInt64Array':
      return new BigInt64Array(n);
    case 'Int32Array':
      return new Int32Array(n);
    case 'Int16Array':
      return new Int16Array(n);
    case 'Int8Array':
      return new Int8Array(n);
    default:
      return new Uint8Array(n);
  }
}

/** Checks that `data` is the array type `dtype` needs and holds `prod(shape)` values. */
export function checkTensorData(name: string, t: TensorLike): void {
  if (!isTorchDType(t.dtype)) throw new CheckpointError(`tensor '${name}': unknown dtype ${JSON.stringify(t.dtype)}`, { expected: Object.keys(DTYPE_INFO).join(', ') });
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new CheckpointError(`tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  const want = DTYPE_INFO[t.dtype].array;
  const got = t.data?.constructor?.name;
  if (got !== want) throw new CheckpointError(`tensor '${name}': dtype ${t.dtype} needs a ${want}, got ${got ?? typeof t.data}`);
  if (t.data.length !== numel(t.shape)) {
    throw new CheckpointError(`tensor '${name}': shape [${t.shape.join(', ')}] has ${numel(t.shape)} elements but data has ${t.data.length}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// half precision

let f16Table: Float32Array | undefined;

function halfBitsToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Widens IEEE float16 bit patterns to float32 (exact). */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = halfBitsToFloat(i);
  }
  const out = new Float32Array(bits.length);
  const tab = f16Table;
  for (let i = 0; i < bits.length; i++) out[i] = tab[bits[i]];
  return out;
}

/** Widens bfloat16 bit patterns to float32 (exact: bfloat16 is the upper half of a float32). */
export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return new Float32Array(u.buffer);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Rounds float32 values to IEEE float16 bit patterns (round to nearest even; overflow to infinity). */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32Scratch[0] = values[i];
    const x = u32Scratch[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: correct (up to inf)
    out[i] = sign | h;
  }
  return out;
}

/** Rounds float32 values to bfloat16 bit patterns (round to nearest even; NaN stays NaN). */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    const lsb = (x >>> 16) & 1;
    out[i] = ((x + 0x7fff + lsb) >>> 16) & 0xffff;
  }
  return out;
}

/** Converts any tensor's values to float32 (int64 through Number; exact below 2^24 in magnitude). */
export function tensorToFloat32(t: TensorLike): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof BigInt64Array) return Float32Array.from(t.data, (x) => Number(x));
  return Float32Array.from(t.data as ArrayLike<number>);
}

/** int64 values as numbers; throws a `CheckpointError` when one is outside the safe-integer range. */
export function int64ToNumbers(data: BigInt64Array, name = 'tensor'): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new CheckpointError(`${name}: int64 value ${v} at index ${i} does not fit a JavaScript number exactly`);
    }
    out[i] = Number(v);
  }
  return out;
}

/**
 * A plain `Uint8Array` view of the same bytes. Node `Buffer`s are `Uint8Array`s whose `slice()` does not copy;
 * the readers rely on `slice()` copying, so they call this first.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
