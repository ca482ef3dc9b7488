// SPDX-License-Identifier: Apache-2.0
/**
 * Source locations of config values.
 *
 * The YAML loader (`@solo-ts/config`) attaches, to every mapping it produces, where each of its keys was set
 * (file, line, column, dotted path). The registry and the components read it back to report errors such as
 * "configs/x.yaml:12 (key `model.mask_head.num_grid`): unknown option". The information is kept in a
 * non-enumerable symbol property, so it never shows up in JSON, YAML dumps or `Object.keys`, and it survives
 * only as long as the object itself: code that copies config maps must copy it too (`copyConfigSource`).
 */
import type { SourceLocation } from './errors.js';

const SOURCE = Symbol.for('solo-ts.configSource');

export interface ConfigNodeSource {
  /** Dotted path of this mapping inside the merged config, e.g. `model.backbone`. */
  path?: string;
  /** Location of the mapping itself. */
  self?: SourceLocation;
  /** Location where each key of the mapping was (last) set. */
  keys: Record<string, SourceLocation>;
}

type WithSource = { [SOURCE]?: ConfigNodeSource };

/** Attach (replace) the source information of a config mapping. */
export function setConfigSource(node: object, source: ConfigNodeSource): void {
  Object.defineProperty(node, SOURCE, { value: source, enumerable: false, configurable: true, writable: true });
}

/** The source information of a config mapping, if the loader recorded one. */
export function getConfigSource(node: unknown): ConfigNodeSource | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  return (node as WithSource)[SOURCE];
}

/** Where `key` of `node` was set (falls back to the node's own location). */
export function locationOf(node: unknown, key?: string): SourceLocation | undefined {
  const src = getConfigSource(node);
  if (!src) return undefined;
  const path = src.path ? (key !== undefined ? `${src.path}.${key}` : src.path) : key;
  const loc = (key !== undefined ? src.keys[key] : undefined) ?? src.self;
  if (!loc) return path ? { file: '<config>', key: path } : undefined;
  return { ...loc, key: path ?? loc.key };
}

/** Copy the source information of `from` onto `to` (used when cloning config maps). */
export function copyConfigSource(from: object, to: object): void {
  const src = getConfigSource(from);
  if (src) setConfigSource(to, { path: src.path, self: src.self, keys: { ...src.keys } });
}

/** Deep clone of plain config data (objects, arrays, primitives) that keeps source information. */
export function cloneConfig<T>(value: T): T {
  if (Array.isArray(value)) {
    const out = value.map((v) => cloneConfig(v));
    copyConfigSource(value, out);
    return out as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = cloneConfig(v);
    copyConfigSource(value as object, out);
    return out as T;
  }
  return value;
}
