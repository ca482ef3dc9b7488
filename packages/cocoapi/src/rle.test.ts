// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import {
  MaskApiError,
  decode,
  encode,
  encodeMasks,
  iou,
  merge,
  rleDecodeColumnMajor,
  rleEncodeColumnMajor,
  rleFromString,
  rleToString,
  toRleData,
} from './index.js';
import { cInt } from './poly.js';

describe('string code', () => {
  it('round-trips large and negative deltas, including counts above 2^31', () => {
    const cnts = Uint32Array.of(0, 5, 4294967295, 3, 1, 2147483648, 2147483647, 7, 0, 0, 123456789);
    const s = rleToString(cnts);
    expect(Array.from(rleFromString(s, 1, 1).cnts)).toEqual(Array.from(cnts));
  });
  it('writes the documented 5-bit groups (counts 1..3 = "123", 36000 needs several chars)', () => {
    expect(rleToString(Uint32Array.of(1, 2, 3))).toBe('123');
    // x = 36000: groups of 5 bits low first, 0x20 on all but the last
    const s = rleToString(Uint32Array.of(36000));
    expect(Array.from(rleFromString(s, 1, 1).cnts)).toEqual([36000]);
    expect(s.length).toBe(4);
  });
});

describe('C semantics', () => {
  it('(int) truncates toward zero and gives INT_MIN for NaN / out of range', () => {
    expect(cInt(-0.9)).toBe(0);
    expect(cInt(-1.5)).toBe(-1);
    expect(cInt(2.9)).toBe(2);
    expect(cInt(Number.NaN)).toBe(-2147483648);
    expect(cInt(1e12)).toBe(-2147483648);
  });
  it('inconsistent run totals throw instead of looping forever (pycocotools hangs)', () => {
    const a = { size: [2, 2] as [number, number], counts: [1, 2] };
    const b = { size: [2, 2] as [number, number], counts: [0, 4] };
    expect(() => merge([a, b])).toThrow(MaskApiError);
    expect(() => iou([a], [b], [0])).toThrow(MaskApiError);
  });
});

describe('full-size masks', () => {
  it('encode/decode 1333x800 masks and a batch, fast paths agree', () => {
    const h = 800;
    const w = 1333;
    const data = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x - 600) ** 2 + (y - 400) ** 2 < 300 ** 2 ? 1 : 0;
    const t0 = performance.now();
    const rle = encode({ data, height: h, width: w });
    const back = decode(rle);
    const ms = performance.now() - t0;
    expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
    expect(ms).toBeLessThan(500);
    const col = rleDecodeColumnMajor(toRleData(rle));
    expect(rleToString(rleEncodeColumnMajor(col, h, w))).toBe(rle.counts);
    const two = new Uint8Array(2 * h * w);
    two.set(data, h * w);
    const rles = encodeMasks(two, 2, h, w);
    expect(rles[1]).toEqual(rle);
    expect(decode(rles[0]).data.every((v) => v === 0)).toBe(true);
    expect(iou([rle], [rle], [0])).toEqual([[1]]);
  });
});
