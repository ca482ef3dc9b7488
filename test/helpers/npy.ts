// SPDX-License-Identifier: Apache-2.0
/**
 * A small NumPy `.npy` reader for tests (golden data from ../shared/parity).
 *
 * Supports format versions 1.0, 2.0 and 3.0 headers, little-endian, C order only (`fortran_order: False`), and the
 * dtypes the goldens use: float32 (`<f4`), float64 (`<f8`), int64 (`<i8`), int32 (`<i4`), uint8 (`|u1`) and bool
 * (`|b1`). int64 values are converted to numbers (`Int32Array` when every value fits in int32, otherwise a
 * `Float64Array`, exact up to 2^53; outside that range the reader throws). bool is returned as a `Uint8Array` of 0/1.
 *
 * Usage:
 *   const a = readNpy(parityPath('ops/dice_solo/pred.npy'));  // { dtype: 'float32', shape: [..], data: Float32Array }
 *   const f = npyFloat32(a);                                    // asserts the dtype, returns the Float32Array
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

export interface NpyArray {
  /** The NumPy dtype of the file. */
  dtype: NpyDtype;
  shape: number[];
  /**
   * float32 -> Float32Array, float64 -> Float64Array, int32 -> Int32Array, uint8/bool -> Uint8Array,
   * int64 -> Int32Array if all values fit, else Float64Array.
   */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i8': 'int64',
  '<i4': 'int32',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '|b1': 'bool',
  '<b1': 'bool',
};
const ITEMSIZE: Record<NpyDtype, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

/** Parse the bytes of a `.npy` file. `name` is only used in error messages. */
export function parseNpy(bytes: Uint8Array, name = '<npy>'): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  for (let i = 0; i < 6; i++) if (bytes[i] !== magic[i]) throw new Error(`${name}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`${name}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descrM = /'descr'\s*:\s*'([^']+)'/.exec(header);
  const fortranM = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descrM || !fortranM || !shapeM) throw new Error(`${name}: cannot parse .npy header: ${header}`);
  const dtype = DESCR[descrM[1]];
  if (!dtype) throw new Error(`${name}: unsupported dtype '${descrM[1]}' (supported: ${Object.keys(DESCR).join(', ')})`);
  if (fortranM[1] === 'True') throw new Error(`${name}: Fortran-order arrays are not supported`);
  const shape = shapeM[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number.parseInt(s, 10));
  const size = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const nbytes = size * ITEMSIZE[dtype];
  if (bytes.byteLength - offset < nbytes) {
    throw new Error(`${name}: truncated data (${bytes.byteLength - offset} bytes, expected ${nbytes} for shape [${shape}])`);
  }
  // Copy into a fresh aligned buffer (the data offset is not necessarily aligned to the item size).
  // (Node's Buffer#slice returns a view, so copy explicitly.)
  const raw = new Uint8Array(nbytes);
  raw.set(bytes.subarray(offset, offset + nbytes));
  let data: NpyArray['data'];
  switch (dtype) {
    case 'float32':
      data = new Float32Array(raw.buffer, 0, size);
      break;
    case 'float64':
      data = new Float64Array(raw.buffer, 0, size);
      break;
    case 'int32':
      data = new Int32Array(raw.buffer, 0, size);
      break;
    case 'uint8':
      data = raw;
      break;
    case 'bool':
      for (let i = 0; i < size; i++) raw[i] = raw[i] ? 1 : 0;
      data = raw;
      break;
    case 'int64': {
      const big = new BigInt64Array(raw.buffer, 0, size);
      let fits32 = true;
      for (let i = 0; i < size; i++) {
        const v = big[i];
        if (v > 2147483647n || v < -2147483648n) fits32 = false;
        if (v > 9007199254740991n || v < -9007199254740991n) throw new Error(`${name}: int64 value ${v} at ${i} is not exactly representable`);
      }
      if (fits32) {
        const out = new Int32Array(size);
        for (let i = 0; i < size; i++) out[i] = Number(big[i]);
        data = out;
      } else {
        const out = new Float64Array(size);
        for (let i = 0; i < size; i++) out[i] = Number(big[i]);
        data = out;
      }
      break;
    }
  }
  return { dtype, shape, data };
}

/** Read a `.npy` file from disk. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

/** The data of a float32 array (throws if the file has another dtype). */
export function npyFloat32(a: NpyArray): Float32Array {
  if (a.dtype !== 'float32') throw new Error(`expected a float32 .npy, got ${a.dtype}`);
  return a.data as Float32Array;
}

/** The data of an integer array (int64/int32/uint8/bool) as an Int32Array (throws on values outside int32). */
export function npyInt32(a: NpyArray): Int32Array {
  if (a.dtype === 'float32' || a.dtype === 'float64') throw new Error(`expected an integer .npy, got ${a.dtype}`);
  if (a.data instanceof Int32Array) return a.data;
  if (a.data instanceof Float64Array) throw new Error('int64 values do not fit in int32');
  return Int32Array.from(a.data);
}

/** The data of a bool/uint8 array as a Uint8Array of 0/1 (bool) or raw bytes (uint8). */
export function npyUint8(a: NpyArray): Uint8Array {
  if (a.dtype !== 'bool' && a.dtype !== 'uint8') throw new Error(`expected a bool or uint8 .npy, got ${a.dtype}`);
  return a.data as Uint8Array;
}

export { REPO_ROOT, PARITY_ROOT } from './shared-dir.js';
import { PARITY_ROOT } from './shared-dir.js';

/** Absolute path of a file under the parity goldens, e.g. `parityPath('ops/focal/pred.npy')`. */
export function parityPath(...parts: string[]): string {
  return resolve(PARITY_ROOT, ...parts);
}

/** Read a parity golden `.npy` by its path relative to the parity root. */
export function readParity(...parts: string[]): NpyArray {
  return readNpy(parityPath(...parts));
}
