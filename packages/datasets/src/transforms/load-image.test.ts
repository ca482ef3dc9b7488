// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '@solo-ts/core';
import { LoadImageFromFile } from './load-image.js';

const DIR = fileURLToPath(new URL('./__fixtures__/decode/files/', import.meta.url));
describe('LoadImageFromFile', () => {
  it('sets img, imgShape and oriShape', async () => {
    const t = new LoadImageFromFile({});
    const r = await t.transform({ imgPath: join(DIR, 'png-rgb8.png') });
    expect(r!.imgShape).toEqual([24, 32]);
    expect(r!.oriShape).toEqual([24, 32]);
    expect(r!.img!.channels).toBe(3);
  });

  it('names the file when it is missing or corrupt', async () => {
    const t = new LoadImageFromFile({});
    await expect(t.transform({ imgPath: '/nonexistent/x.jpg' })).rejects.toThrow(/failed to load image \/nonexistent\/x\.jpg: file not found/);
    const dir = mkdtempSync(join(tmpdir(), 'solo-img-'));
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, Buffer.from('this is not a jpeg'));
    const err = await t.transform({ imgPath: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain(bad);
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, readFileSync(join(DIR, 'jpeg-baseline-420.jpg')).subarray(0, 300));
    await expect(t.transform({ imgPath: truncated })).rejects.toThrow(/truncated\.jpg/);
  });

  it('ignore_empty drops the sample instead', async () => {
    const t = new LoadImageFromFile({ ignoreEmpty: true });
    expect(await t.transform({ imgPath: '/nonexistent/x.jpg' })).toBeNull();
  });

  it('rejects unsupported options', () => {
    expect(() => new LoadImageFromFile({ toFloat32: true })).toThrow(/to_float32/);
    expect(() => new LoadImageFromFile({ backendArgs: { backend: 'petrel' } })).toThrow(/local files only/);
  });
});
