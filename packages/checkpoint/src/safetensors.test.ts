// SPDX-License-Identifier: Apache-2.0
import { CheckpointError } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, parseSafetensors } from './safetensors.js';
import { DTYPE_INFO, float32ToBfloat16Bits, float32ToFloat16Bits, TorchTensor, type TensorLike } from './tensor.js';
import { expectedValue, firstMismatch, fixture, fixtureJson } from '../__fixtures__/test-helpers.js';

function sample(): Record<string, TensorLike> {
  return {
    w: { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, -0, NaN]) },
    h: { dtype: 'float16', shape: [3], data: new Float32Array([1, -0.5, 65504]) },
    bf: { dtype: 'bfloat16', shape: [2], data: new Float32Array([1, -1.5]) },
    d: { dtype: 'float64', shape: [1], data: new Float64Array([1 / 3]) },
    n: { dtype: 'int64', shape: [], data: new BigInt64Array([-(2n ** 63n)]) },
    i: { dtype: 'int32', shape: [2], data: new Int32Array([-7, 9]) },
    s: { dtype: 'int16', shape: [1], data: new Int16Array([-300]) },
    c: { dtype: 'int8', shape: [1], data: new Int8Array([-3]) },
    u: { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 255]) },
    b: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
    e: { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
  };
}

describe('safetensors', () => {
  it('reads a file made by hand from the format description', () => {
    const want = fixtureJson<{ metadata: Record<string, string>; tensors: Record<string, { dtype: string; shape: number[]; values: Array<number | string> }> }>('small', 'reference.safetensors.json');
    const { tensors, metadata } = decodeSafetensors(fixture('small', 'reference.safetensors'), 'reference.safetensors');
    expect(metadata).toEqual(want.metadata);
    expect([...tensors.keys()].sort()).toEqual(Object.keys(want.tensors).sort());
    for (const [k, w] of Object.entries(want.tensors)) {
      const t = tensors.get(k)!;
      expect(t.dtype, k).toBe(w.dtype);
      expect(t.shape, k).toEqual(w.shape);
      expect(firstMismatch(t.data as ArrayLike<number | bigint>, w.values, w.dtype), k).toBe(-1);
    }
  });

  it('round-trips every dtype exactly, header padded so data is 8-byte aligned', () => {
    const src = sample();
    const bytes = encodeSafetensors(src, { hello: 'world' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ hello: 'world' });
    expect(tensors.size).toBe(Object.keys(src).length);
    for (const [k, t] of Object.entries(src)) {
      const got = tensors.get(k)!;
      expect(got).toBeInstanceOf(TorchTensor);
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data.constructor).toBe(t.data.constructor);
      expect(Array.from(got.data as ArrayLike<number | bigint>).map(String)).toEqual(Array.from(t.data as ArrayLike<number | bigint>).map(String));
    }
    // every tensor offset is a multiple of its element size
    const parsed = parseSafetensors(bytes);
    for (const e of parsed.entries) expect((parsed.dataOffset + e.begin) % DTYPE_INFO[e.dtype].itemsize, e.name).toBe(0);
  });

  it('rounds float32 to float16 / bfloat16 like numpy / PyTorch (round to nearest even)', () => {
    const r = fixtureJson<{ f32: Array<number | string>; f16_bits: number[]; bf16_bits: number[] }>('small', 'half_rounding.json');
    const f32 = Float32Array.from(r.f32.map((v) => expectedValue(v, 'float32') as number));
    expect(Array.from(float32ToFloat16Bits(f32))).toEqual(r.f16_bits);
    expect(Array.from(float32ToBfloat16Bits(f32))).toEqual(r.bf16_bits);
  });

  it('rejects bad input tensors with clear errors', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'float32', shape: [2], data: new Float32Array(3) } })).toThrowError(/shape \[2\] has 2 elements but data has 3/);
    expect(() => encodeSafetensors({ a: { dtype: 'int64', shape: [1], data: new Int32Array(1) as never } })).toThrowError(/needs a BigInt64Array/);
    expect(() => encodeSafetensors({ a: { dtype: 'complex64' as never, shape: [1], data: new Float32Array(1) } })).toThrowError(CheckpointError);
  });

  it('rejects truncated, padded-out and inconsistent files', () => {
    const bytes = encodeSafetensors(sample());
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1), 'f.st')).toThrowError(/f\.st: file is truncated: expected \d+ bytes, found \d+/);
    expect(() => decodeSafetensors(bytes.subarray(0, 20), 'f.st')).toThrowError(/f\.st: file is truncated: the header needs/);
    expect(() => decodeSafetensors(bytes.subarray(0, 5), 'f.st')).toThrowError(/truncated/);
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => decodeSafetensors(longer, 'f.st')).toThrowError(/trailing bytes/);
    const hdr = (h: object) => {
      const j = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + j.length + 8);
      new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
      out.set(j, 8);
      return out;
    };
    expect(() => decodeSafetensors(hdr({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }))).toThrowError(/overlap or hole/);
    expect(() => decodeSafetensors(hdr({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }))).toThrowError(/needs 12/);
    expect(() => decodeSafetensors(hdr({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }))).toThrowError(/unsupported dtype "C64"/);
  });
});
