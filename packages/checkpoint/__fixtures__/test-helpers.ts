// SPDX-License-Identifier: Apache-2.0
/** Helpers shared by this package's tests (not part of the package build). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPyDict } from '../src/py-values.js';
import { TorchTensor, type TensorLike } from '../src/tensor.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = here;
export const REPO_ROOT = resolve(here, '..', '..', '..');
export { PARITY_ROOT as PARITY_DIR } from '../../../test/helpers/shared-dir.js';

export function fixture(...parts: string[]): Uint8Array {
  const b = readFileSync(join(FIXTURES, ...parts));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(FIXTURES, ...parts), 'utf8')) as T;
}

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: Array<number | string>;
  requires_grad: boolean;
  is_parameter: boolean;
}

/** Every tensor under dicts / arrays, keyed by path components joined with '/', like make_fixtures.py. */
export function walkTensors(x: unknown, prefix = '', out = new Map<string, TorchTensor>()): Map<string, TorchTensor> {
  if (x instanceof TorchTensor) out.set(prefix, x);
  else if (Array.isArray(x)) x.forEach((v, i) => walkTensors(v, prefix ? `${prefix}/${i}` : String(i), out));
  else if (isPyDict(x)) for (const [k, v] of Object.entries(x)) walkTensors(v, prefix ? `${prefix}/${k}` : k, out);
  return out;
}

/** Decodes make_fixtures.py's exact value encoding. */
export function expectedValue(v: number | string, dtype: string): number | bigint {
  if (dtype === 'int64') return BigInt(v as string);
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === '-0') return -0;
  return v as number;
}

/** Index of the first element that differs (Object.is semantics: NaN equals NaN, -0 differs from 0), or -1. */
export function firstMismatch(actual: ArrayLike<number | bigint>, expected: Array<number | string>, dtype: string): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expectedValue(expected[i], dtype))) return i;
  return -1;
}

/** sha256 of a tensor's little-endian bytes at its stored dtype (float32 data for float32 tensors). */
export function dataSha256(t: TensorLike): string {
  return createHash('sha256').update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).digest('hex');
}
