// SPDX-License-Identifier: Apache-2.0
/**
 * A small read-only ZIP reader for PyTorch checkpoints (pure TypeScript, works on a `Uint8Array`).
 *
 * Reads the end-of-central-directory record (ZIP64 too), the central directory, and each entry through its local
 * header (PyTorch pads local headers with an extra field so that data is 64-byte aligned). STORED entries (what
 * `torch.save` writes) are returned as views; DEFLATE entries need an `inflateRaw` function (Node's
 * `zlib.inflateRawSync`, passed by the file loaders). CRC-32 of each entry is verified when read.
 */
import { CheckpointError } from '@solo-ts/core';
import { plainBytes } from './tensor.js';

/** Decompresses raw DEFLATE data (e.g. `zlib.inflateRawSync` in Node). */
export type InflateRaw = (data: Uint8Array, expectedSize: number) => Uint8Array;

export interface ZipEntry {
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipReaderOptions {
  /** Name of the source for messages (file path). */
  name?: string;
  /** Needed only for DEFLATE entries. */
  inflateRaw?: InflateRaw;
  /** Verify the CRC-32 of every entry read (default true). */
  verifyCrc?: boolean;
  /** CRC-32 implementation (default: pure TS; Node passes `zlib.crc32` where available). */
  crc32?: (data: Uint8Array) => number;
}

let crcTables: Uint32Array[] | undefined;

/** CRC-32 (IEEE 802.3, as in ZIP and PNG), slicing-by-8. */
export function crc32(data: Uint8Array): number {
  if (!crcTables) {
    const t0 = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t0[n] = c >>> 0;
    }
    crcTables = [t0];
    for (let k = 1; k < 8; k++) {
      const prev = crcTables[k - 1];
      const t = new Uint32Array(256);
      for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
      crcTables.push(t);
    }
  }
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables;
  let c = 0xffffffff;
  let i = 0;
  const n8 = data.length - (data.length % 8);
  for (; i < n8; i += 8) {
    const a = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^ t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;
  private readonly label: string;

  private readonly bytes: Uint8Array;

  constructor(
    bytes: Uint8Array,
    private readonly options: ZipReaderOptions = {},
  ) {
    this.bytes = plainBytes(bytes);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.label = options.name ?? 'zip archive';
    this.readCentralDirectory();
  }

  private fail(what: string): never {
    throw new CheckpointError(`${this.label}: ${what}`);
  }

  private u16(o: number): number {
    return this.view.getUint16(o, true);
  }
  private u32(o: number): number {
    return this.view.getUint32(o, true);
  }
  private u64(o: number): number {
    const v = this.view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('ZIP64 field too large');
    return Number(v);
  }

  private readCentralDirectory(): void {
    const n = this.bytes.length;
    let eocd = -1;
    for (let i = n - 22; i >= Math.max(0, n - 22 - 65535); i--) {
      if (this.u32(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail('not a complete zip archive (no end-of-central-directory record: the file is truncated or corrupted)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== 0x07064b50) this.fail('ZIP64 end-of-central-directory locator missing');
      const z64 = this.u64(loc + 8);
      if (z64 + 56 > n || this.u32(z64) !== 0x06064b50) this.fail('ZIP64 end-of-central-directory record missing');
      count = this.u64(z64 + 32);
      cdSize = this.u64(z64 + 40);
      cdOffset = this.u64(z64 + 48);
    }
    if (cdOffset + cdSize > n) this.fail('central directory lies outside the file (truncated?)');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > n || this.u32(p) !== 0x02014b50) this.fail(`bad central directory entry ${i}`);
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      const name = new TextDecoder().decode(this.bytes.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information: present values replace the 0xFFFFFFFF placeholders, in this order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) {
            size = this.u64(q);
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(q);
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = this.u64(q);
        }
        e += 4 + len;
      }
      if (flags & 1) this.fail(`entry ${name} is encrypted`);
      this.entries.set(name, { name, method, crc32: crc, compressedSize, size, localHeaderOffset });
      p = eEnd + commentLen;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The uncompressed bytes of an entry (a view into the archive for STORED entries). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) this.fail(`missing entry ${name}`);
    const o = e.localHeaderOffset;
    if (o + 30 > this.bytes.length || this.u32(o) !== 0x04034b50) this.fail(`bad local header of entry ${name}`);
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    const end = start + e.compressedSize;
    if (end > this.bytes.length) this.fail(`entry ${name} extends past the end of the file (truncated)`);
    const raw = this.bytes.subarray(start, end);
    let data: Uint8Array;
    if (e.method === 0) {
      data = raw;
    } else if (e.method === 8) {
      if (!this.options.inflateRaw) {
        this.fail(`entry ${name} is DEFLATE-compressed; pass an inflateRaw function (Node: zlib.inflateRawSync) to read it`);
      }
      try {
        data = plainBytes(this.options.inflateRaw(raw, e.size));
      } catch (err) {
        this.fail(`entry ${name}: cannot inflate (${(err as Error).message})`);
      }
    } else {
      this.fail(`entry ${name} uses unsupported compression method ${e.method}`);
    }
    if (data.length !== e.size) this.fail(`entry ${name} has ${data.length} bytes, the directory says ${e.size}`);
    if ((this.options.verifyCrc ?? true) && (this.options.crc32 ?? crc32)(data) !== e.crc32) {
      this.fail(`entry ${name} is corrupted (CRC-32 mismatch)`);
    }
    return data;
  }
}
