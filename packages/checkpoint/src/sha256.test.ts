// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Hex } from './sha256.js';
import * as zlib from 'node:zlib';
import { crc32 } from './zip.js';

describe('sha256 (pure TS)', () => {
  it('matches the FIPS 180-4 examples', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(sha256Hex(enc(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(enc('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('matches node:crypto on every length 0..300 and in random chunks', () => {
    const data = new Uint8Array(5000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 3)) & 0xff;
    for (let n = 0; n <= 300; n++) expect(sha256Hex(data.subarray(0, n))).toBe(createHash('sha256').update(data.subarray(0, n)).digest('hex'));
    const h = new Sha256();
    for (let o = 0, k = 1; o < data.length; o += k, k = (k * 37) % 211 + 1) h.update(data.subarray(o, Math.min(data.length, o + k)));
    expect(h.hex()).toBe(createHash('sha256').update(data).digest('hex'));
  });
});

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  const z = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  it.skipIf(!z)('matches zlib.crc32 on every length 0..100 and unaligned views', () => {
    const data = new Uint8Array(1000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    const ref = (d: Uint8Array) => z!(d) >>> 0;
    for (let n = 0; n <= 100; n++) expect(crc32(data.subarray(3, 3 + n))).toBe(ref(data.subarray(3, 3 + n)));
    expect(crc32(data)).toBe(ref(data));
  });
});
