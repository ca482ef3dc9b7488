// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertPthToSafetensors, loadAnyCheckpoint, loadCheckpoint, loadPthFile } from './node.js';
import { pthToCheckpoint } from './convert.js';
import { readPth } from './pth.js';
import { parsePrefixMap, toJSONSafe } from './state-dict.js';
import { dataSha256, fixture, FIXTURES, fixtureJson, PARITY_DIR } from '../__fixtures__/test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'solo-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// parameter counts of the golden models as PyTorch reports them (numel summed over model.parameters(), so
// without BN running statistics)
const PARAMS: Record<string, number> = {
  solo_r50_fpn_1x_coco: 400876,
  'decoupled-solo_r50_fpn_1x_coco': 412044,
  'decoupled-solo-light_r50_fpn_3x_coco': 291404,
  solov2_r50_fpn_1x_coco: 288124,
  'solov2-light_r18_fpn_ms-3x_coco': 404968,
};

describe('convertPthToSafetensors', () => {
  for (const [v, params] of Object.entries(PARAMS)) {
    const src = join(PARITY_DIR, v, 'checkpoint.pth');
    it.skipIf(!existsSync(src))(`${v}: converted tensors are bit-identical and the summary counts ${params} parameters`, async () => {
      const want = fixtureJson<{ meta: unknown; tensors: Array<{ name: string; sha256: string; dtype: string; shape: number[] }> }>('parity', `${v}.json`);
      const out = join(dir, `${v}.safetensors`);
      const summary = await convertPthToSafetensors(src, out);
      expect(summary.numTensors).toBe(want.tensors.length);
      expect(summary.numParameters).toBe(params);
      expect(summary.fileBytes).toBe(readFileSync(out).length);
      expect(summary.skipped).toEqual([]);
      const ck = await loadAnyCheckpoint(out);
      expect(ck.format).toBe('solo-ts');
      expect(ck.layout).toBe('pytorch');
      const m = ck.meta as Record<string, unknown>;
      expect(m.source).toBe('pth');
      expect(m.sourceFile).toBe('checkpoint.pth');
      expect(m.wrapper).toBe('state_dict');
      expect(m.meta).toEqual(want.meta);
      expect(ck.stateDict.size).toBe(want.tensors.length);
      for (const t of want.tensors) {
        const got = ck.stateDict.get(t.name)!;
        expect(got.dtype, t.name).toBe(t.dtype);
        expect(got.shape, t.name).toEqual(t.shape);
        expect(dataSha256(got), t.name).toBe(t.sha256);
      }
      // loading the .pth directly gives the same uniform result
      const direct = await loadAnyCheckpoint(src);
      expect(direct.format).toBe('pth');
      expect(direct.layout).toBe('pytorch');
      expect([...direct.stateDict.keys()]).toEqual(want.tensors.map((t) => t.name));
      expect(direct.meta).toEqual(want.meta);
    });
  }

  it('keeps float16 / bfloat16 / int64 / bool exactly and applies prefix maps', async () => {
    const src = join(FIXTURES, 'small', 'dtypes.pth');
    const out = join(dir, 'dtypes.safetensors');
    const s = await convertPthToSafetensors(src, out, { prefixMap: parsePrefixMap(['f=float.', 'i=int.']) });
    expect(s.dtypes).toEqual({ float32: 4, float16: 2, bfloat16: 1, float64: 1, int64: 2, int32: 1, int16: 1, int8: 1, uint8: 1, bool: 1 });
    const pth = readPth(fixture('small', 'dtypes.pth')) as Record<string, { data: ArrayLike<unknown>; dtype: string }>;
    const ck = await loadCheckpoint(out);
    const rename = (k: string) => (k.startsWith('f') ? `float.${k.slice(1)}` : k.startsWith('i') ? `int.${k.slice(1)}` : k);
    for (const [k, t] of Object.entries(pth)) {
      const got = ck.tensors.get(rename(k))!;
      expect(got, k).toBeDefined();
      expect(got.dtype).toBe(t.dtype);
      expect(Array.from(got.data as ArrayLike<unknown>).map((x) => Object.is(x, -0) ? '-0' : String(x))).toEqual(Array.from(t.data).map((x) => Object.is(x, -0) ? '-0' : String(x)));
    }
    await expect(convertPthToSafetensors(src, out)).rejects.toThrowError(/already exists/);
    await convertPthToSafetensors(src, out, { overwrite: true });
  });

  it('stores exotic meta JSON-safe', async () => {
    const c = pthToCheckpoint(await loadPthFile(join(FIXTURES, 'small', 'mmdet_style.pth')));
    const m = c.meta.meta as Record<string, unknown>;
    expect(m.big).toBe((2n ** 70n).toString());
    expect(m.raw_bytes).toEqual({ __bytes__: 'AAFhYmP/' });
    expect(m.np_f64).toMatchObject({ __class__: 'numpy.core.multiarray.scalar', value: 0.5 });
    expect(m.a_set).toEqual({ __class__: 'builtins.set', args: [[3]] });
    expect(m.hook).toEqual({ __class__: '__main__.HookState', args: [], state: { count: 3, name: 'hook' } });
    expect(JSON.parse(JSON.stringify(c.meta))).toEqual(c.meta);
    expect(toJSONSafe([NaN, Infinity])).toEqual(['NaN', 'Infinity']);
    expect(c.summary.numTensors).toBe(8);
    expect([...c.tensors.keys()][0]).toBe('0.weight');
  });
});
