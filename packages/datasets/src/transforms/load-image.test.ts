// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '@solo-ts/core';
import { LoadImageFromFile, decodeImage, type ColorType } from './load-image.js';

const DIR = fileURLToPath(new URL('./__fixtures__/decode/', import.meta.url));
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as {
  files: ({ file: string } & Record<string, { ref: string; shape: number[] }>)[];
};

describe('decodeImage against cv2.imdecode (OpenCV 4.6.0)', () => {
  for (const entry of index.files) {
    for (const flag of ['color', 'color_ignore_orientation'] as ColorType[]) {
      it(`${entry.file} ${flag}`, async () => {
        const ref = entry[flag];
        const img = await decodeImage(readFileSync(join(DIR, entry.file)), flag);
        expect([img.height, img.width, img.channels]).toEqual(ref.shape);
        const want = readFileSync(join(DIR, ref.ref));
        let diff = 0;
        for (let i = 0; i < want.length; i++) if (want[i] !== img.data[i]) diff++;
        expect(diff).toBe(0);
      });
    }
  }

  it('grayscale has one channel with cv2 BGR2GRAY weights', async () => {
    const color = await decodeImage(readFileSync(join(DIR, 'rgb.png')), 'color');
    const gray = await decodeImage(readFileSync(join(DIR, 'rgb.png')), 'grayscale');
    expect(gray.channels).toBe(1);
    const [b, g, r] = [color.data[0], color.data[1], color.data[2]];
    expect(gray.data[0]).toBe((b * 1868 + g * 9617 + r * 4899 + 8192) >> 14);
  });
});

describe('LoadImageFromFile', () => {
  it('sets img, imgShape and oriShape', async () => {
    const t = new LoadImageFromFile({});
    const r = await t.transform({ imgPath: join(DIR, 'rgb.png') });
    expect(r!.imgShape).toEqual([37, 53]);
    expect(r!.oriShape).toEqual([37, 53]);
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
    writeFileSync(truncated, readFileSync(join(DIR, 'baseline.jpg')).subarray(0, 300));
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
