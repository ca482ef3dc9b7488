// SPDX-License-Identifier: Apache-2.0
import { CheckpointError } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { readAnyCheckpoint } from './any.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-format.js';
import { encodeSafetensors } from './safetensors.js';
import { sha256Hex } from './sha256.js';

const tensors = {
  a: { dtype: 'float32' as const, shape: [3], data: new Float32Array([1, 2, 3]) },
  b: { dtype: 'int32' as const, shape: [2, 1], data: new Int32Array([4, -5]) },
};

describe('encodeCheckpoint / decodeCheckpoint (pure)', () => {
  it('round-trips with the pure SHA-256 and records the data checksum', () => {
    const { bytes, dataSha256 } = encodeCheckpoint({ tensors, meta: { layout: 'solo-ts', step: 3 } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(dataSha256).toBe(sha256Hex(bytes.subarray(8 + n)));
    const ck = decodeCheckpoint(bytes, { name: 'mem' });
    expect(ck.format).toBe('solo-ts');
    expect(ck.meta).toEqual({ layout: 'solo-ts', step: 3 });
    expect(Array.from(ck.tensors.get('b')!.data as Int32Array)).toEqual([4, -5]);
    const any = readAnyCheckpoint(bytes);
    expect(any).toMatchObject({ format: 'solo-ts', layout: 'solo-ts' });
  });

  it('loads plain safetensors files unverified', () => {
    const ck = decodeCheckpoint(encodeSafetensors(tensors, { framework: 'pt' }));
    expect(ck.format).toBe('safetensors');
    expect(ck.meta).toEqual({ framework: 'pt' });
    expect(readAnyCheckpoint(encodeSafetensors(tensors)).layout).toBeUndefined();
  });

  it('refuses every corrupted byte with a CheckpointError (fuzz)', () => {
    const { bytes } = encodeCheckpoint({ tensors, meta: { step: 1, note: 'x'.repeat(20) } });
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 600; k++) {
      const bad = bytes.slice();
      const i = Math.floor(rand() * bad.length);
      const v = Math.floor(rand() * 256);
      if (bad[i] === v) continue;
      bad[i] = v;
      try {
        decodeCheckpoint(bad, { name: 'f' });
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        continue;
      }
      // a change that still decodes must not have changed any tensor or the meta
      const ck = decodeCheckpoint(bad);
      expect(ck.meta).toEqual({ step: 1, note: 'x'.repeat(20) });
      expect(Array.from(ck.tensors.get('a')!.data as Float32Array)).toEqual([1, 2, 3]);
    }
  });
});
