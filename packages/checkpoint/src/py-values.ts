// SPDX-License-Identifier: Apache-2.0
/**
 * The JavaScript values the pickle reader produces for Python objects it does not map to plain values:
 * `PickleGlobal` (a referenced global), `PickleObject` (an instance of an uninterpreted class), and the helpers for
 * Python dicts (plain objects keyed by Python's `str()` of the key).
 */

/** A reference to a Python global (`module.name`), not called. */
export class PickleGlobal {
  readonly __global__: string;
  constructor(
    readonly module: string,
    readonly name: string,
  ) {
    this.__global__ = `${module}.${name}`;
  }
}

/** An instance of a class the reader does not interpret. */
export class PickleObject {
  /** Items stored by `SETITEM(S)` (dict subclasses), keyed like dicts. */
  items?: Record<string, unknown>;
  /** Items stored by `APPEND(S)` (list subclasses). */
  listItems?: unknown[];
  /** Keyword arguments of `NEWOBJ_EX`. */
  kwargs?: Record<string, unknown>;
  /** The state passed to `BUILD` (`__setstate__` / `__dict__`). */
  state?: unknown;
  /** A decoded value for classes we understand partly (numpy scalars and arrays). */
  value?: unknown;
  constructor(
    /** `module.Name` of the class (or callable). */
    public __class__: string,
    /** Constructor / reduce arguments. */
    public args: unknown[],
  ) {}
}

/** Called for `REDUCE` / `NEWOBJ` of a known global; returns the constructed value. */
export type GlobalHandler = (args: unknown[]) => unknown;
/** Called for `BUILD` on a `PickleObject` of a known class, after `state` is stored on it. */
export type BuildHandler = (obj: PickleObject, state: unknown) => void;


/** Python's `str()` of a dict key. */
export function pyKey(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null || k === undefined) return 'None';
  if (Array.isArray(k)) return k.length === 1 ? `(${pyKey(k[0])},)` : `(${k.map(pyKey).join(', ')})`;
  if (k instanceof PickleObject) return `<${k.__class__}>`;
  if (k instanceof PickleGlobal) return k.__global__;
  return String(k);
}

export function setDictItem(d: Record<string, unknown>, k: unknown, v: unknown): void {
  const key = pyKey(k);
  if (key === '__proto__') Object.defineProperty(d, key, { value: v, enumerable: true, writable: true, configurable: true });
  else d[key] = v;
}

/** True for the plain objects that represent Python dicts. */
export function isPyDict(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

