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
import { NOT_DATA, PickleReader } from './pickle-data.js';
import { plainBytes } from './tensor.js';
import { PickleGlobal, PickleObject, isPyDict, setDictItem, type BuildHandler, type GlobalHandler } from './py-values.js';


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

/** Reads one pickle starting at `offset`; returns the value and the offset just past its STOP. */
export function unpickle(bytes: Uint8Array, offset = 0, options: UnpicklerOptions = {}): { value: unknown; end: number } {
  const label = options.name ?? 'pickle';
  const r = new PickleReader(plainBytes(bytes), offset, label);
  const fail = (what: string): never => r.fail(what);
  const readLine = (): string => r.readLine();
  const handlers = options.handlers ?? {};
  const builders = options.builders ?? {};
  const memo = new Map<number, unknown>();
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];

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
    r.need(1);
    const op = r.bytes[r.p++];
    const data = r.readData(op);
    if (data !== NOT_DATA) {
      stack.push(data);
      continue;
    }
    switch (op) {
      case 0x80: // PROTO
        if (r.u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME
        r.u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: r.p };
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
        memo.set(r.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(r.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const idx = op === 0x67 ? parseInt(readLine(), 10) : op === 0x68 ? r.u8() : r.u32();
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
