// SPDX-License-Identifier: Apache-2.0
/**
 * A Python pickle reader (protocols 0-4, and 5 without out-of-band buffers) that never executes anything.
 *
 * Python values map to JavaScript as follows: `None` -> `null`, `bool` -> boolean, `int` -> number (or `bigint`
 * beyond 2^53), `float` -> number, `str` -> string, `bytes`/`bytearray` -> `Uint8Array`, `list`/`tuple` -> array,
 * `dict` (and `collections.OrderedDict`) -> plain object whose keys are Python's `str()` of the key. Attributes
 * set on a dict by `BUILD` (e.g. the `_metadata` of a PyTorch state dict) become non-enumerable properties.
 * Globals are resolved through `handlers` (keyed `module.name`); any other call (`REDUCE`, `NEWOBJ`) yields an
 * opaque `PickleObject` `{__class__, args, state}`, so unknown classes (mmengine's, numpy's, `builtins.set`)
 * load without crashing.
 */
import { CheckpointError } from '@solo-ts/core';
import { plainBytes } from './tensor.js';
import { PickleGlobal, PickleObject, isPyDict, setDictItem, type BuildHandler, type GlobalHandler } from './py-values.js';

export * from './py-values.js';

export interface UnpicklerOptions {
  /** Source name for messages. */
  name?: string;
  /** Handlers of globals, keyed `module.name` (after Python 2 -> 3 module renaming). */
  handlers?: Record<string, GlobalHandler>;
  /** BUILD handlers, keyed by `PickleObject.__class__`. */
  builders?: Record<string, BuildHandler>;
  /** Resolves persistent ids (`PERSID` / `BINPERSID`). */
  persistentLoad?: (pid: unknown) => unknown;
}

// Python 2 module names (protocol < 3 pickles written by Python 3 use them, see Lib/_compat_pickle.py).
const MODULE_RENAMES: Record<string, string> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  repr: 'reprlib',
  _abcoll: 'collections.abc',
  UserDict: 'collections',
  UserList: 'collections',
};

function toNumberIfSafe(v: bigint): number | bigint {
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

/** Reads one pickle starting at `offset`; returns the value and the offset just past its STOP. */
export function unpickle(bytes: Uint8Array, offset = 0, options: UnpicklerOptions = {}): { value: unknown; end: number } {
  const label = options.name ?? 'pickle';
  bytes = plainBytes(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const handlers = options.handlers ?? {};
  const builders = options.builders ?? {};
  const memo = new Map<number, unknown>();
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  let p = offset;
  const n = bytes.length;

  const fail = (what: string): never => {
    throw new CheckpointError(`${label}: ${what} (pickle byte ${p})`);
  };
  const need = (k: number) => {
    if (p + k > n) fail('unexpected end of data: the file is truncated or corrupted');
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const b = bytes.subarray(p, p + k);
    p += k;
    return b;
  };
  const readLine = (): string => {
    const start = p;
    while (p < n && bytes[p] !== 0x0a) p++;
    if (p >= n) fail('unterminated text line');
    const s = latin1(bytes.subarray(start, p));
    p++;
    return s;
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), view.getInt32(p - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(n)) fail('length field larger than the data');
    return Number(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail('MARK missing');
    stack = prev!;
    return items;
  };
  const makeGlobal = (module: string, name: string) => new PickleGlobal(MODULE_RENAMES[module] ?? module, name);
  const call = (fn: unknown, args: unknown, kwargs?: unknown): unknown => {
    const argv = Array.isArray(args) ? args : [args];
    if (fn instanceof PickleGlobal) {
      const h = handlers[fn.__global__];
      if (h) return h(argv);
      const o = new PickleObject(fn.__global__, argv);
      if (kwargs !== undefined && isPyDict(kwargs) && Object.keys(kwargs).length) o.kwargs = kwargs;
      return o;
    }
    const o = new PickleObject(fn instanceof PickleObject ? fn.__class__ : '<callable>', argv);
    return o;
  };
  const setItems = (target: unknown, kv: unknown[]) => {
    if (isPyDict(target)) {
      for (let i = 0; i + 1 < kv.length; i += 2) setDictItem(target, kv[i], kv[i + 1]);
    } else if (target instanceof PickleObject) {
      target.items ??= {};
      for (let i = 0; i + 1 < kv.length; i += 2) setDictItem(target.items, kv[i], kv[i + 1]);
    } else fail('SETITEM on a value that is not a dict');
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target)) for (const x of items) target.push(x);
    else if (target instanceof PickleObject) (target.listItems ??= []).push(...items);
    else fail('APPEND on a value that is not a list');
  };
  const build = (obj: unknown, state: unknown) => {
    if (obj instanceof PickleObject) {
      obj.state = state;
      builders[obj.__class__]?.(obj, state);
      return;
    }
    if (isPyDict(obj)) {
      // Attributes of a dict subclass instance (OrderedDict._metadata): keep them out of the items.
      const parts = Array.isArray(state) && state.length === 2 ? state : [state];
      for (const part of parts) {
        if (!isPyDict(part)) continue;
        for (const [k, v] of Object.entries(part)) Object.defineProperty(obj, k, { value: v, enumerable: false, writable: true, configurable: true });
      }
    }
    // Anything else (tensors rebuilt by handlers, lists): state is ignored, as it carries nothing we use.
  };
  const persistent = (pid: unknown): unknown => {
    if (!options.persistentLoad) fail('persistent id found but no persistent loader given');
    return options.persistentLoad!(pid);
  };

  for (;;) {
    need(1);
    const op = bytes[p++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: p };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(take(u32())));
        break;
      case 0x49: {
        // INT (text); '00' / '01' are False / True in protocol 0
        const s = readLine();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else stack.push(toNumberIfSafe(BigInt(s)));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(toNumberIfSafe(BigInt(readLine().replace(/L$/, ''))));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x46: // FLOAT (text)
        stack.push(parseFloat(readLine()));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(readLine().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a, b) => String.fromCodePoint(parseInt(a ?? b, 16))));
        break;
      case 0x54: // BINSTRING
        stack.push(decodePy2String(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(decodePy2String(take(u8())));
        break;
      case 0x53: {
        // STRING (quoted text)
        const s = readLine().trim();
        const body = s.slice(1, -1).replace(/\\x([0-9a-fA-F]{2})|\\(.)/g, (_m, hex, c) =>
          hex ? String.fromCharCode(parseInt(hex, 16)) : ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[c] ?? c,
        );
        stack.push(body);
        break;
      }
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: {
        // LIST (note: popMark replaces `stack`, so never write `stack.push(popMark())`)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push({});
        break;
      case 0x64: {
        // DICT
        const kv = popMark();
        const d: Record<string, unknown> = {};
        setItems(d, kv);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new PickleObject('builtins.set', [[]]));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PickleObject) || !Array.isArray(s.args[0])) fail('ADDITEMS on a value that is not a set');
        (s as PickleObject & { args: unknown[][] }).args[0].push(...items);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(new PickleObject('builtins.frozenset', [items]));
        break;
      }
      case 0x70: // PUT
        memo.set(parseInt(readLine(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const idx = op === 0x67 ? parseInt(readLine(), 10) : op === 0x68 ? u8() : u32();
        if (!memo.has(idx)) fail(`memo key ${idx} missing`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = readLine();
        stack.push(makeGlobal(module, readLine()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(makeGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args, kwargs));
        break;
      }
      case 0x69: {
        // INST
        const module = readLine();
        const name = readLine();
        const args = popMark();
        stack.push(call(makeGlobal(module, name), args));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark();
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x50: // PERSID
        stack.push(persistent(readLine()));
        break;
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('extension-registry opcodes (EXT1/2/4) are not supported');
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail('out-of-band buffers (pickle protocol 5) are not supported');
        break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16)}`);
    }
  }
}
