// SPDX-License-Identifier: Apache-2.0
/**
 * Decode conformance: every fixture file under every mmcv imread flag against what `cv2.imdecode` (OpenCV 4.6.0)
 * returned for it (scripts/make-decode-fixtures.py wrote both; this test needs no Python).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '@solo-ts/core';
import { decodeImage, sniffImageFormat, type ColorType } from './decode-image.js';
import { LoadImageFromFile } from './load-image.js';

const DIR = fileURLToPath(new URL('./__fixtures__/decode/', import.meta.url));
interface Ref {
  shape: number[];
  dtype: 'uint8' | 'uint16';
  offset: number;
}
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { opencv: string; files: ({ file: string } & Record<ColorType, Ref | null>)[] };
const refs = gunzipSync(readFileSync(join(DIR, 'refs.bin.gz')));
/**
 * JPEGs that end early: OpenCV's JPEG source suspends at the end of the data, libjpeg delivers no more rows, and
 * cv2.imdecode returns the image with those rows (and, through fancy upsampling, some before them) left as
 * uninitialised memory. That content is undefined, so only the shape is compared; solo-ts returns libjpeg's fill-in.
 */
const UNDEFINED_IN_OPENCV = new Set(['jpeg-no-eoi.jpg', 'jpeg-truncated-scan.jpg']);
/**
 * Uncompressed tiled TIFFs whose tile size in bytes is not a multiple of 1024 (16x16 RGB tiles here): cv2.imdecode of
 * OpenCV 4.6 returns None for them (cv2.imread reads them, as it does 32x32 tiles); solo-ts decodes them.
 */
const OPENCV_IMDECODE_FAILS = new Set(['tiff-rgb8-tiled16.tif']);
const FLAGS: ColorType[] = ['color', 'color_ignore_orientation', 'grayscale', 'grayscale_ignore_orientation', 'unchanged'];

describe(`decodeImage equals cv2.imdecode (OpenCV ${index.opencv})`, () => {
  it('covers every format and flag', () => {
    const formats = new Set(index.files.map((e) => sniffImageFormat(readFileSync(join(DIR, 'files', e.file)))));
    expect([...formats].sort()).toEqual(['bmp', 'jpeg', 'png', 'pnm', 'tiff', 'webp', null].sort());
    expect(index.files.length).toBeGreaterThan(80);
  });

  for (const entry of index.files) {
    it(entry.file, async () => {
      const bytes = readFileSync(join(DIR, 'files', entry.file));
      for (const flag of FLAGS) {
        const ref = entry[flag];
        if (OPENCV_IMDECODE_FAILS.has(entry.file)) {
          const same = await decodeImage(readFileSync(join(DIR, 'files', 'tiff-rgb8.tif')), flag);
          expect((await decodeImage(bytes, flag)).data).toEqual(same.data);
          continue;
        }
        if (ref === null) {
          // OpenCV returns None: so do we fail (LoadImageFromFile names the file)
          await expect(decodeImage(bytes, flag), `${flag} should fail`).rejects.toThrow();
          continue;
        }
        if (ref.dtype === 'uint16') {
          // mmcv keeps uint16 under 'unchanged'; solo-ts images are uint8, so this is refused clearly
          await expect(decodeImage(bytes, flag)).rejects.toThrow(/16-bit samples.*'unchanged'/);
          continue;
        }
        const img = await decodeImage(bytes, flag);
        const shape = ref.shape.length === 2 ? [...ref.shape, 1] : ref.shape;
        expect([img.height, img.width, img.channels], flag).toEqual(shape);
        if (UNDEFINED_IN_OPENCV.has(entry.file)) continue;
        const want = refs.subarray(ref.offset, ref.offset + img.data.length);
        let differ = 0;
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(want[i] - img.data[i]);
          if (d) {
            differ++;
            worst = Math.max(worst, d);
          }
        }
        expect({ flag, differ, worst }).toEqual({ flag, differ: 0, worst: 0 });
      }
    });
  }
});

describe('JPEGs that end early', () => {
  it('decode to what libjpeg delivers (a missing EOI marker loses nothing)', async () => {
    const whole = await decodeImage(readFileSync(join(DIR, 'files', 'jpeg-baseline-420.jpg')));
    const noEoi = await decodeImage(readFileSync(join(DIR, 'files', 'jpeg-no-eoi.jpg')));
    expect(noEoi.data).toEqual(whole.data);
  });
});

describe('undecodable files', () => {
  it('LoadImageFromFile names the file', async () => {
    const t = new LoadImageFromFile({});
    for (const entry of index.files.filter((e) => e.color === null && !OPENCV_IMDECODE_FAILS.has(e.file))) {
      const file = join(DIR, 'files', entry.file);
      const err = await t.transform({ imgPath: file }).catch((e: unknown) => e);
      expect(err, entry.file).toBeInstanceOf(DatasetError);
      expect((err as Error).message).toContain(`failed to load image ${file}: cannot decode image`);
    }
  });

  it('a format OpenCV does not read says so', async () => {
    await expect(decodeImage(readFileSync(join(DIR, 'files', 'none-gif.gif')))).rejects.toThrow(/unsupported image format: OpenCV 4\.6/);
  });
});
