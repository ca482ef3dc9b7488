// SPDX-License-Identifier: Apache-2.0
/**
 * The byte level of the pickle reader (`pickle.ts`): a cursor over the pickle bytes with the length-checked
 * reads every opcode argument uses, and the *data* opcodes, those that read one value (None, bools, ints,
 * floats, str, bytes) without touching the stack machine, with Python's decoding rules:
 * `int` -> number (or `bigint` beyond 2^53), Python 2 `str` -> UTF-8 when valid else latin-1 (torch loads with
 * encoding='utf-8'), `bytes`/`bytearray` -> `Uint8Array`.
 */
import { CheckpointError } from '@solo-ts/core';

export function toNumberIfSafe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** Little-endian two's-complement integer (pickle LONG1 / LONG4). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return toNumberIfSafe(v);
}

const utf8 = new TextDecoder('utf-8');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Python 2 `str` payloads: UTF-8 when valid (torch loads with encoding='utf-8'), else latin-1. */
function decodePy2String(b: Uint8Array): string {
  try {
    return utf8Fatal.decode(b);
  } catch {
    return latin1(b);
  }
}

/** `readData`'s answer for an opcode that is not a data opcode. */
export const NOT_DATA: unique symbol = Symbol('not a data opcode');

/** A cursor over pickle bytes; errors are `CheckpointError`s naming the source and the byte offset. */
export class PickleReader {
  /** The offset of the next byte to read. */
  p: number;
  readonly n: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    offset: number,
    private readonly label: string,
  ) {
    this.p = offset;
    this.n = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string): never {
    throw new CheckpointError(`${this.label}: ${what} (pickle byte ${this.p})`);
  }

  need(k: number): void {
    if (this.p + k > this.n) this.fail('unexpected end of data: the file is truncated or corrupted');
  }

  take(k: number): Uint8Array {
    this.need(k);
    const b = this.bytes.subarray(this.p, this.p + k);
    this.p += k;
    return b;
  }

  /** A text argument up to the next newline (protocol 0), as latin-1. */
  readLine(): string {
    const start = this.p;
    while (this.p < this.n && this.bytes[this.p] !== 0x0a) this.p++;
    if (this.p >= this.n) this.fail('unterminated text line');
    const s = latin1(this.bytes.subarray(start, this.p));
    this.p++;
    return s;
  }

  /** Little-endian fixed-size integers. */
  u8(): number {
    this.need(1);
    return this.bytes[this.p++];
  }

  u16(): number {
    return this.view.getUint16(this.advance(2), true);
  }

  u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  i32(): number {
    return this.view.getInt32(this.advance(4), true);
  }

  /** Moves past `k` bytes; returns where they start. */
  private advance(k: number): number {
    this.need(k);
    this.p += k;
    return this.p - k;
  }

  /** An 8-byte length, checked against the data size. */
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.p, true);
    this.p += 8;
    if (v > BigInt(this.n)) this.fail('length field larger than the data');
    return Number(v);
  }

  /** The value of data opcode `op` (its argument read), or `NOT_DATA` for any other opcode. */
  readData(op: number): unknown {
    switch (op) {
      case 0x4e: // NONE
        return null;
      case 0x88: // NEWTRUE
        return true;
      case 0x89: // NEWFALSE
        return false;
      case 0x4a: // BININT
        return this.i32();
      case 0x4b: // BININT1
        return this.u8();
      case 0x4d: // BININT2
        return this.u16();
      case 0x8a: // LONG1
        return decodeLong(this.take(this.u8()));
      case 0x8b: // LONG4
        return decodeLong(this.take(this.u32()));
      case 0x49: {
        // INT (text); '00' / '01' are False / True in protocol 0
        const s = this.readLine();
        if (s === '00') return false;
        if (s === '01') return true;
        return toNumberIfSafe(BigInt(s));
      }
      case 0x4c: // LONG (text)
        return toNumberIfSafe(BigInt(this.readLine().replace(/L$/, '')));
      case 0x47: {
        // BINFLOAT (big-endian double)
        this.need(8);
        const v = this.view.getFloat64(this.p, false);
        this.p += 8;
        return v;
      }
      case 0x46: // FLOAT (text)
        return parseFloat(this.readLine());
      case 0x58: // BINUNICODE
        return utf8.decode(this.take(this.u32()));
      case 0x8c: // SHORT_BINUNICODE
        return utf8.decode(this.take(this.u8()));
      case 0x8d: // BINUNICODE8
        return utf8.decode(this.take(this.u64()));
      case 0x56: // UNICODE (raw-unicode-escape text)
        return this.readLine().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a, b) => String.fromCodePoint(parseInt(a ?? b, 16)));
      case 0x54: // BINSTRING
        return decodePy2String(this.take(this.i32()));
      case 0x55: // SHORT_BINSTRING
        return decodePy2String(this.take(this.u8()));
      case 0x53: {
        // STRING (quoted text)
        const s = this.readLine().trim();
        return s.slice(1, -1).replace(/\\x([0-9a-fA-F]{2})|\\(.)/g, (_m, hex, c) =>
          hex ? String.fromCharCode(parseInt(hex, 16)) : ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[c] ?? c,
        );
      }
      case 0x42: // BINBYTES
        return this.take(this.u32()).slice();
      case 0x43: // SHORT_BINBYTES
        return this.take(this.u8()).slice();
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        return this.take(this.u64()).slice();
      default:
        return NOT_DATA;
    }
  }
}
