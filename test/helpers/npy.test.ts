// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { parseNpy, readParity } from './npy.js';

function makeNpy(descr: string, shape: number[], body: Uint8Array, major = 1): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = major === 1 ? 10 : 12;
  while ((pre + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(pre + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(body, pre + header.length);
  return out;
}

describe('npy reader', () => {
  it('reads float32, int64, bool (v1 and v2 headers)', () => {
    const f = parseNpy(makeNpy('<f4', [2, 2], new Uint8Array(new Float32Array([1, 2.5, -3, 4]).buffer)));
    expect(f.dtype).toBe('float32');
    expect(f.shape).toEqual([2, 2]);
    expect(Array.from(f.data)).toEqual([1, 2.5, -3, 4]);
    const i = parseNpy(makeNpy('<i8', [3], new Uint8Array(new BigInt64Array([1n, -2n, 3000000000n]).buffer), 2));
    expect(i.dtype).toBe('int64');
    expect(i.data).toBeInstanceOf(Float64Array);
    expect(Array.from(i.data)).toEqual([1, -2, 3000000000]);
    const b = parseNpy(makeNpy('|b1', [3], new Uint8Array([1, 0, 1])));
    expect(Array.from(b.data)).toEqual([1, 0, 1]);
    const s = parseNpy(makeNpy('<f4', [], new Uint8Array(new Float32Array([7]).buffer)));
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data)).toEqual([7]);
  });
  it('rejects fortran order and bad magic', () => {
    const good = makeNpy('<f4', [1], new Uint8Array(4));
    const bad = good.slice();
    bad[1] = 0;
    expect(() => parseNpy(bad)).toThrow(/magic/);
    const fo = new TextDecoder('latin1').decode(good).replace('False', 'True ');
    expect(() => parseNpy(Uint8Array.from(fo, (c) => c.charCodeAt(0)))).toThrow(/Fortran/);
  });
  it('reads a parity golden', () => {
    const a = readParity('solo_r50_fpn_1x_coco', 'loss', 'gt_labels.npy');
    expect(a.dtype).toBe('int64');
    expect(a.shape).toEqual([5]);
    expect(a.data).toBeInstanceOf(Int32Array);
    expect(Array.from(a.data)).toEqual([5, 1, 7, 0, 3]);
    const m = readParity('solo_r50_fpn_1x_coco', 'loss', 'gt_masks.npy');
    expect(m.shape).toEqual([5, 128, 192]);
    const f = readParity('ops', 'dice_solo', 'loss_none.npy');
    expect(f.data[5]).toBe(3);
  });
});
