import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TensorBoardWriter, crc32c, maskedCrc32c, readScalarEvents, tfRecord } from './tensorboard.js';

describe('TensorBoard event files', () => {
  it('crc32c matches the standard check values', () => {
    // RFC 3720 / iSCSI check value for "123456789"
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    // 32 bytes of zeros (RFC 3720 B.4)
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(maskedCrc32c(new Uint8Array(0))).toBe(((0 >>> 15 | 0 << 17) + 0xa282ead8) >>> 0);
  });
  it('frames records as TFRecord', () => {
    const r = tfRecord(new Uint8Array([1, 2, 3]));
    expect(r.length).toBe(8 + 4 + 3 + 4);
    expect(new DataView(r.buffer).getBigUint64(0, true)).toBe(3n);
  });
  it('writes scalars that read back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-'));
    const w = new TensorBoardWriter(dir);
    w.addScalar('train/loss', 1.5, 10);
    w.addScalars({ lr: 0.01, loss_mask: 0.25 }, 20, 'train/');
    w.close();
    const ev = readScalarEvents(w.file);
    expect(ev.map((e) => [e.tag, e.value, e.step])).toEqual([
      ['train/loss', 1.5, 10],
      ['train/lr', Math.fround(0.01), 20],
      ['train/loss_mask', 0.25, 20],
    ]);
  });
});
