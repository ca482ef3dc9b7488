// SPDX-License-Identifier: Apache-2.0
/**
 * TensorBoard event files written directly (no TensorFlow, no native code).
 *
 * An event file is a TFRecord stream: each record is
 *   uint64 length (LE) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
 * and each record's data is a serialized `tensorflow.Event` protobuf. We encode the three messages we need by
 * hand: Event {double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5}, Summary
 * {repeated Value value = 1}, Value {string tag = 1; float simple_value = 2}. The first event carries
 * file_version "brain.Event:2", as TensorBoard expects. No maintained npm package writes this format without
 * pulling in TensorFlow bindings, so it is written here (about 100 lines).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli). */
export function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC. */
export function maskedCrc32c(buf: Uint8Array): number {
  const c = crc32c(buf);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

class ProtoWriter {
  private readonly parts: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number((x & 0x7fn) | 0x80n));
      x >>= 7n;
    }
    this.parts.push(Number(x));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(...b);
    return this;
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }
  int64(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.parts.push(...b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function encodeScalarEvent(tag: string, value: number, step: number, wallTime: number): Uint8Array {
  const v = new ProtoWriter().string(1, tag).float(2, value).finish();
  const summary = new ProtoWriter().bytes(1, v).finish();
  return new ProtoWriter().double(1, wallTime).int64(2, step).bytes(5, summary).finish();
}

export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).string(3, 'brain.Event:2').finish();
}

export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Appends scalar summaries to `<dir>/events.out.tfevents.<time>.<host>`. */
export class TensorBoardWriter {
  readonly file: string;
  private fd: number;
  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const now = Date.now() / 1000;
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${os.hostname()}.${process.pid}`);
    this.fd = fs.openSync(this.file, 'a');
    try {
      fs.writeSync(this.fd, tfRecord(encodeFileVersionEvent(now)));
    } catch (e) {
      this.close();
      throw e;
    }
  }
  addScalar(tag: string, value: number, step: number): void {
    if (!Number.isFinite(value)) return;
    fs.writeSync(this.fd, tfRecord(encodeScalarEvent(tag, value, step, Date.now() / 1000)));
  }
  addScalars(values: Record<string, number>, step: number, prefix = ''): void {
    for (const [k, v] of Object.entries(values)) this.addScalar(prefix + k, v, step);
  }
  flush(): void {
    fs.fsyncSync(this.fd);
  }
  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Reads scalar events back (used by tests and `solo plot-log` on event files). */
export function readScalarEvents(file: string): Array<{ tag: string; value: number; step: number; wallTime: number }> {
  const buf = fs.readFileSync(file);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Array<{ tag: string; value: number; step: number; wallTime: number }> = [];
  let off = 0;
  while (off + 12 <= buf.length) {
    const len = Number(dv.getBigUint64(off, true));
    if (dv.getUint32(off + 8, true) !== maskedCrc32c(buf.subarray(off, off + 8))) throw new Error(`${file}: bad length CRC at byte ${off}`);
    const data = buf.subarray(off + 12, off + 12 + len);
    if (dv.getUint32(off + 12 + len, true) !== maskedCrc32c(data)) throw new Error(`${file}: bad data CRC at byte ${off}`);
    off += 16 + len;
    const ev = parseEvent(data);
    if (ev) out.push(...ev);
  }
  return out;
}

function readVarint(b: Uint8Array, p: { o: number }): bigint {
  let x = 0n;
  let s = 0n;
  for (;;) {
    const c = b[p.o++];
    x |= BigInt(c & 0x7f) << s;
    if (!(c & 0x80)) return x;
    s += 7n;
  }
}

function fields(b: Uint8Array): Array<{ f: number; w: number; v: bigint | Uint8Array | number }> {
  const out: Array<{ f: number; w: number; v: bigint | Uint8Array | number }> = [];
  const p = { o: 0 };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (p.o < b.length) {
    const key = Number(readVarint(b, p));
    const f = key >> 3;
    const w = key & 7;
    if (w === 0) out.push({ f, w, v: readVarint(b, p) });
    else if (w === 1) {
      out.push({ f, w, v: dv.getFloat64(p.o, true) });
      p.o += 8;
    } else if (w === 5) {
      out.push({ f, w, v: dv.getFloat32(p.o, true) });
      p.o += 4;
    } else if (w === 2) {
      const n = Number(readVarint(b, p));
      out.push({ f, w, v: b.subarray(p.o, p.o + n) });
      p.o += n;
    } else throw new Error(`unsupported wire type ${w}`);
  }
  return out;
}

function parseEvent(data: Uint8Array): Array<{ tag: string; value: number; step: number; wallTime: number }> | null {
  let wallTime = 0;
  let step = 0;
  let summary: Uint8Array | undefined;
  for (const fl of fields(data)) {
    if (fl.f === 1 && fl.w === 1) wallTime = fl.v as number;
    else if (fl.f === 2 && fl.w === 0) step = Number(fl.v as bigint);
    else if (fl.f === 5 && fl.w === 2) summary = fl.v as Uint8Array;
  }
  if (!summary) return null;
  const out: Array<{ tag: string; value: number; step: number; wallTime: number }> = [];
  for (const vf of fields(summary)) {
    if (vf.f !== 1 || vf.w !== 2) continue;
    let tag = '';
    let value = NaN;
    for (const x of fields(vf.v as Uint8Array)) {
      if (x.f === 1 && x.w === 2) tag = new TextDecoder().decode(x.v as Uint8Array);
      else if (x.f === 2 && x.w === 5) value = x.v as number;
      else if (x.f === 8 && x.w === 2) value = tensorScalar(x.v as Uint8Array);
    }
    out.push({ tag, value, step, wallTime });
  }
  return out;
}

/** The first value of a scalar TensorProto (TF2 summaries): float_val, double_val or 4/8-byte tensor_content. */
function tensorScalar(t: Uint8Array): number {
  let dtype = 1;
  let content: Uint8Array | undefined;
  for (const x of fields(t)) {
    if (x.f === 1 && x.w === 0) dtype = Number(x.v as bigint);
    else if (x.f === 4 && x.w === 2) content = x.v as Uint8Array;
    else if (x.f === 5 && x.w === 5) return x.v as number;
    else if (x.f === 5 && x.w === 2) return new DataView((x.v as Uint8Array).buffer, (x.v as Uint8Array).byteOffset).getFloat32(0, true);
    else if (x.f === 6 && x.w === 1) return x.v as number;
    else if (x.f === 6 && x.w === 2) return new DataView((x.v as Uint8Array).buffer, (x.v as Uint8Array).byteOffset).getFloat64(0, true);
  }
  if (content && content.length >= 4) {
    const dv = new DataView(content.buffer, content.byteOffset, content.byteLength);
    return dtype === 2 && content.length >= 8 ? dv.getFloat64(0, true) : dv.getFloat32(0, true);
  }
  return NaN;
}
