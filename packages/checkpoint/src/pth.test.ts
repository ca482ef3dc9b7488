// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { CheckpointError } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { PickleGlobal, PickleObject, isPyDict } from './py-values.js';
import { isPth, readPth } from './pth.js';
import { extractStateDict } from './state-dict.js';
import { TorchTensor } from './tensor.js';
import { ZipReader } from './zip.js';
import { dataSha256, expectedValue, firstMismatch, fixture, fixtureJson, PARITY_DIR, walkTensors, type ExpectedTensor } from '../__fixtures__/test-helpers.js';

interface ParityTensor {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
  sha256: string;
  first: Array<number | string>;
  last: Array<number | string>;
  sum: number | string;
  sumsq?: number;
}
interface ParityRecord {
  variant: string;
  top_level_keys: string[];
  meta: unknown;
  metadata_keys: number;
  tensors: ParityTensor[];
}

const VARIANTS = ['solo_r50_fpn_1x_coco', 'decoupled-solo_r50_fpn_1x_coco', 'decoupled-solo-light_r50_fpn_3x_coco', 'solov2_r50_fpn_1x_coco', 'solov2-light_r18_fpn_ms-3x_coco'];
const inflateRaw = (d: Uint8Array) => inflateRawSync(d);

describe('readPth on the mmdetection parity checkpoints', () => {
  for (const v of VARIANTS) {
    const file = join(PARITY_DIR, v, 'checkpoint.pth');
    it.skipIf(!existsSync(file))(`${v}: every tensor equals what PyTorch wrote`, async () => {
      const { readFileSync } = await import('node:fs');
      const bytes = new Uint8Array(readFileSync(file));
      const want = fixtureJson<ParityRecord>('parity', `${v}.json`);
      const obj = readPth(bytes, { name: file });
      expect(isPyDict(obj)).toBe(true);
      expect(Object.keys(obj as object)).toEqual(want.top_level_keys);
      const sdObj = (obj as Record<string, Record<string, unknown>>).state_dict;
      // the OrderedDict's _metadata attribute is kept, but out of the items
      const md = (sdObj as { _metadata?: unknown })._metadata;
      expect(isPyDict(md)).toBe(true);
      expect(Object.keys(md as object).length).toBe(want.metadata_keys);
      expect(Object.keys(sdObj)).not.toContain('_metadata');

      const { stateDict, meta, wrapper, skipped } = extractStateDict(obj);
      expect(wrapper).toBe('state_dict');
      expect(skipped).toEqual([]);
      expect(meta).toEqual(want.meta);
      expect([...stateDict.keys()]).toEqual(want.tensors.map((t) => t.name));
      for (const t of want.tensors) {
        const got = stateDict.get(t.name)!;
        expect(got.dtype, t.name).toBe(t.dtype);
        expect(got.shape, t.name).toEqual(t.shape);
        expect(got.data.length, t.name).toBe(t.numel);
        expect(dataSha256(got), `${t.name} bytes`).toBe(t.sha256);
        const d = got.data as ArrayLike<number | bigint>;
        expect(firstMismatch(Array.from(d).slice(0, 8), t.first, t.dtype), `${t.name} first`).toBe(-1);
        expect(firstMismatch(Array.from(d).slice(Math.max(0, t.numel - 8)), t.last, t.dtype), `${t.name} last`).toBe(-1);
        if (t.dtype === 'float32') {
          let s = 0;
          let s2 = 0;
          for (let i = 0; i < d.length; i++) {
            const x = d[i] as number;
            s += x;
            s2 += x * x;
          }
          expect(Math.abs(s - (t.sum as number)), `${t.name} sum`).toBeLessThanOrEqual(1e-9 * Math.max(1, t.sumsq!));
          expect(Math.abs(s2 - t.sumsq!), `${t.name} sumsq`).toBeLessThanOrEqual(1e-12 * Math.max(1, t.sumsq!));
        } else {
          let s = 0n;
          for (let i = 0; i < d.length; i++) s += d[i] as bigint;
          expect(s.toString()).toBe(t.sum);
        }
      }
    });
  }
});

describe('readPth on small torch.save fixtures', () => {
  const expected = fixtureJson<{ files: Record<string, string>; objects: Record<string, Record<string, ExpectedTensor>> }>('small', 'expected.json');
  for (const [file, objName] of Object.entries(expected.files)) {
    it(`${file}: every tensor equals what PyTorch wrote`, () => {
      const obj = readPth(fixture('small', file), { name: file, inflateRaw });
      const got = walkTensors(obj);
      const want = expected.objects[objName];
      expect([...got.keys()].sort()).toEqual(Object.keys(want).sort());
      for (const [path, w] of Object.entries(want)) {
        const t = got.get(path)!;
        expect(t.dtype, path).toBe(w.dtype);
        expect(t.shape, path).toEqual(w.shape);
        expect(firstMismatch(t.data as ArrayLike<number | bigint>, w.values, w.dtype), `${file} ${path} values`).toBe(-1);
        expect(t.requiresGrad, path).toBe(w.requires_grad);
        expect(t.isParameter, path).toBe(w.is_parameter);
      }
    });
  }

  it('gives each dtype its typed array', () => {
    const o = readPth(fixture('small', 'dtypes.pth')) as Record<string, TorchTensor>;
    expect(o.f32.data).toBeInstanceOf(Float32Array);
    expect(o.f16.data).toBeInstanceOf(Float32Array);
    expect(o.bf16.data).toBeInstanceOf(Float32Array);
    expect(o.f64.data).toBeInstanceOf(Float64Array);
    expect(o.i64.data).toBeInstanceOf(BigInt64Array);
    expect(o.i32.data).toBeInstanceOf(Int32Array);
    expect(o.i16.data).toBeInstanceOf(Int16Array);
    expect(o.i8.data).toBeInstanceOf(Int8Array);
    expect(o.u8.data).toBeInstanceOf(Uint8Array);
    expect(o.bool.data).toBeInstanceOf(Uint8Array);
    expect(o.i64.data[3]).toBe(-(2n ** 63n));
    expect(o.scalar.shape).toEqual([]);
    expect(Array.from(o.scalar.data as Float32Array)).toEqual([3.5]);
  });

  it('views of one storage are independent copies', () => {
    const o = readPth(fixture('small', 'views.pth')) as Record<string, TorchTensor>;
    (o.base.data as Float32Array)[0] = 1000;
    expect((o.reshaped.data as Float32Array)[0]).toBe(0);
    expect(Array.from(o.transpose.data as Float32Array).slice(0, 4)).toEqual([0, 12, 4, 16]);
  });

  for (const file of ['mmdet_style.pth', 'mmdet_style_p4.pth', 'mmdet_style_legacy.pth']) {
    it(`${file}: meta with numpy scalars, sets, bytes, big ints and unknown classes loads`, () => {
      const obj = readPth(fixture('small', file), { name: file });
      const { stateDict, meta, wrapper } = extractStateDict(obj);
      expect(wrapper).toBe('state_dict');
      expect([...stateDict.keys()]).toEqual(['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight', '3.bias']);
      expect(stateDict.get('1.num_batches_tracked')!.data).toEqual(new BigInt64Array([17n]));
      const m = meta as Record<string, unknown>;
      expect(m.mmdet_version).toBe('2.25.0');
      expect(m.CLASSES).toEqual(['person', 'car']);
      expect(m.epoch).toBe(12);
      expect(m.lr).toBe(0.01);
      const scalar = (k: string) => {
        const s = m[k] as PickleObject;
        expect(s).toBeInstanceOf(PickleObject);
        expect(s.__class__).toBe('numpy.core.multiarray.scalar');
        return s.value;
      };
      expect(scalar('np_f64')).toBe(0.5);
      expect(scalar('np_f32')).toBe(1.25);
      expect(scalar('np_i64')).toBe(-7);
      expect(scalar('np_bool')).toBe(true);
      const arr = m.np_arr as PickleObject;
      expect(arr.value).toBeInstanceOf(TorchTensor);
      expect((arr.value as TorchTensor).dtype).toBe('int32');
      expect((arr.value as TorchTensor).shape).toEqual([2, 2]);
      expect(Array.from((arr.value as TorchTensor).data as Int32Array)).toEqual([1, 2, 3, 4]);
      expect(Array.from(((m.np_farr as PickleObject).value as TorchTensor).data as Float64Array)).toEqual([0.5, -1.5]);
      expect(m.a_set).toBeInstanceOf(PickleObject);
      expect((m.a_set as PickleObject).__class__).toBe('builtins.set');
      expect((m.a_set as PickleObject).args).toEqual([[3]]);
      expect((m.a_frozenset as PickleObject).__class__).toBe('builtins.frozenset');
      expect((m.a_frozenset as PickleObject).args).toEqual([['x']]);
      expect(m.raw_bytes).toEqual(new Uint8Array([0, 1, 97, 98, 99, 255]));
      expect(m.nothing).toBeNull();
      expect(m.yes).toBe(true);
      expect(m.no).toBe(false);
      expect(m.big).toBe(2n ** 70n);
      expect(m.neg_big).toBe(-(2n ** 64n) - 5n);
      expect(m.neg).toBe(-100000);
      expect(m.unicode).toBe('h\u00e9llo \u2713 \u{1F600}');
      expect(m.int_keys).toEqual({ 1: 'a', 2: 'b' });
      expect(m.nested).toEqual([{ a: [1, 2.5, 'x'] }, [[]], []]);
      const hook = m.hook as PickleObject;
      expect(hook.__class__).toBe('__main__.HookState');
      expect(hook.state).toEqual({ count: 3, name: 'hook' });
      const dd = m.dd as PickleObject;
      expect(dd.__class__).toBe('collections.defaultdict');
      expect((dd.args[0] as PickleGlobal).__global__).toBe('builtins.list');
      expect(dd.items).toEqual({ k: [1, 2] });
      expect((m.complex as PickleObject).__class__).toBe('builtins.complex');
      expect((m.complex as PickleObject).args).toEqual([1.5, -2]);
      const opt = (obj as Record<string, Record<string, unknown>>).optimizer;
      expect(((opt.param_groups as unknown[])[0] as Record<string, unknown>).params).toEqual([0, 1]);
    });
  }

  it('model_wrapper.pth: {model} wrapper, module. prefix, nn.Parameter flags', () => {
    const { stateDict, wrapper, meta } = extractStateDict(readPth(fixture('small', 'model_wrapper.pth')));
    expect(wrapper).toBe('model');
    expect(meta).toBeUndefined();
    expect([...stateDict.keys()]).toEqual(['fc.weight', 'fc.bias']);
    expect(stateDict.get('fc.weight')!.isParameter).toBe(true);
    expect(stateDict.get('fc.weight')!.requiresGrad).toBe(true);
    expect(stateDict.get('fc.bias')!.requiresGrad).toBe(false);
  });

  it('state_dict.pth: a plain torchvision-style state dict', () => {
    const obj = readPth(fixture('small', 'state_dict.pth'));
    const { stateDict, wrapper } = extractStateDict(obj);
    expect(wrapper).toBeUndefined();
    expect(stateDict.size).toBe(8);
    // dict keys become object keys: JavaScript lists integer-like keys first, hence the sort
    expect(Object.keys((obj as { _metadata: object })._metadata).sort()).toEqual(['', '0', '1', '2', '3']);
  });
});

describe('readPth errors', () => {
  const good = fixture('small', 'views.pth');

  it('recognises checkpoints by content', () => {
    expect(isPth(good)).toBe(true);
    expect(isPth(fixture('small', 'views_legacy.pth'))).toBe(true);
    expect(isPth(new TextEncoder().encode('{"a": 1}'))).toBe(false);
  });

  it('rejects a truncated zip checkpoint with a CheckpointError naming the file', () => {
    for (const cut of [good.length - 10, Math.floor(good.length / 2), 100]) {
      expect(() => readPth(good.subarray(0, cut), { name: 'views.pth' })).toThrowError(CheckpointError);
      expect(() => readPth(good.subarray(0, cut), { name: 'views.pth' })).toThrowError(/views\.pth/);
    }
  });

  it('rejects a truncated legacy checkpoint', () => {
    const legacy = fixture('small', 'views_legacy.pth');
    expect(() => readPth(legacy.subarray(0, legacy.length - 3), { name: 'l.pth' })).toThrowError(/l\.pth: file is truncated/);
    expect(() => readPth(legacy.subarray(0, 200), { name: 'l.pth' })).toThrowError(CheckpointError);
  });

  it('detects a flipped byte in tensor data by CRC-32', () => {
    const bad = good.slice();
    const zip = new ZipReader(good);
    const name = [...zip.entries.keys()].find((k) => k.endsWith('/data/0'))!;
    const e = zip.entries.get(name)!;
    const view = new DataView(good.buffer, good.byteOffset);
    const dataStart = e.localHeaderOffset + 30 + view.getUint16(e.localHeaderOffset + 26, true) + view.getUint16(e.localHeaderOffset + 28, true);
    bad[dataStart + 5] ^= 0x10;
    expect(() => readPth(bad, { name: 'views.pth', verifyCrc: false })).not.toThrow();
    expect(() => readPth(bad, { name: 'views.pth' })).toThrowError(/CRC-32 mismatch/);
  });

  it('rejects files that are not checkpoints', () => {
    expect(() => readPth(new TextEncoder().encode('hello world'), { name: 'x.bin' })).toThrowError(/x\.bin: not a PyTorch checkpoint/);
  });

  it('needs an inflater for DEFLATE entries and says so', () => {
    expect(() => readPth(fixture('small', 'views_deflate.pth'), { name: 'd.pth' })).toThrowError(/DEFLATE/);
  });

  it('never fails with anything but a CheckpointError on corrupted bytes (fuzz)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const file of ['mmdet_style.pth', 'mmdet_style_legacy.pth', 'views_legacy.pth', 'mmdet_style_p4.pth']) {
      const good = fixture('small', file);
      for (let k = 0; k < 150; k++) {
        const bad = good.slice();
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
        try {
          readPth(bad, { name: file, verifyCrc: false });
        } catch (e) {
          expect(e, `${file} try ${k}: ${String(e)}`).toBeInstanceOf(CheckpointError);
        }
      }
    }
  });

  it('decodes expected values helper sanity', () => {
    expect(Object.is(expectedValue('-0', 'float32'), -0)).toBe(true);
  });
});
