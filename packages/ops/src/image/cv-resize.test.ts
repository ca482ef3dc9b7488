// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ImageU8, nearestIndices, resizeLinearU8, resizeNearestU8 } from './cv-resize.js';

const FIX = new URL('./__fixtures__/cv-resize/', import.meta.url);
interface Case {
  h: number;
  w: number;
  c: number;
  mode: 'noise' | 'smooth';
  seed: number;
  dst_w: number;
  dst_h: number;
  interp: 'linear' | 'nearest';
  offset: number;
  bytes: number;
}
const { cases } = JSON.parse(readFileSync(new URL('cases.json', FIX), 'utf8')) as { cases: Case[] };
const outputs = new Uint8Array(readFileSync(new URL('outputs.bin', FIX)));

/** Same generator as scripts/make-resize-fixtures.py. */
function makeInput(c: Case): ImageU8 {
  const n = c.h * c.w * c.c;
  const data = new Uint8Array(n);
  if (c.mode === 'noise') {
    let s = c.seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
      s = (s ^ (s << 13)) >>> 0;
      s = (s ^ (s >>> 17)) >>> 0;
      s = (s ^ (s << 5)) >>> 0;
      data[i] = s & 255;
    }
  } else {
    for (let y = 0; y < c.h; y++)
      for (let x = 0; x < c.w; x++) for (let ch = 0; ch < c.c; ch++) data[(y * c.w + x) * c.c + ch] = (x * 7 + y * 3 + ch * 50) % 256;
  }
  return { data, height: c.h, width: c.w, channels: c.c };
}

describe('cv2.resize emulation (uint8) against OpenCV 4.6.0', () => {
  for (const c of cases) {
    it(`${c.interp} ${c.h}x${c.w}x${c.c} (${c.mode}) -> ${c.dst_h}x${c.dst_w}`, () => {
      const src = makeInput(c);
      const fn = c.interp === 'linear' ? resizeLinearU8 : resizeNearestU8;
      const out = fn(src, c.dst_w, c.dst_h);
      expect([out.height, out.width, out.channels]).toEqual([c.dst_h, c.dst_w, c.c]);
      const ref = outputs.subarray(c.offset, c.offset + c.bytes);
      let diff = 0;
      let first = -1;
      for (let i = 0; i < ref.length; i++)
        if (ref[i] !== out.data[i]) {
          diff++;
          if (first < 0) first = i;
        }
      expect({ diff, first }).toEqual({ diff: 0, first: -1 });
    });
  }

  it('nearest indices follow floor(d * (1 / (dst / src)))', () => {
    expect(Array.from(nearestIndices(4, 2))).toEqual([0, 2]);
    expect(Array.from(nearestIndices(2, 4))).toEqual([0, 0, 1, 1]);
  });

  it('rejects bad sizes', () => {
    const img = { data: new Uint8Array(12), height: 2, width: 2, channels: 3 };
    expect(() => resizeLinearU8(img, 0, 3)).toThrow(/positive integers/);
    expect(() => resizeLinearU8({ ...img, data: new Uint8Array(5) }, 1, 1)).toThrow(/bytes/);
  });
});
