// SPDX-License-Identifier: Apache-2.0
/**
 * Merge rules of configs (mmengine's, plus one solo-ts rule):
 *
 * - mappings deep-merge, the child's keys win;
 * - lists and scalars replace whole;
 * - a child mapping with `_delete_: true` replaces the base block instead of merging into it;
 * - a child mapping whose `type` differs from the base block's `type` replaces the block (mmengine would merge
 *   the old type's options into the new type, which is almost never what the author meant).
 *
 * Every mapping of the result keeps (and updates) the per-key source locations of `@solo-ts/core`.
 */
import { ConfigError, getConfigSource, setConfigSource, type SourceLocation } from '@solo-ts/core';

export const DELETE_KEY = '_delete_';

export type ConfigMap = Record<string, unknown>;

/** A plain mapping (not a list, not null). */
export function isMapping(v: unknown): v is ConfigMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function keysOf(node: object): Record<string, SourceLocation> {
  return getConfigSource(node)?.keys ?? {};
}

/** Whether the child block asks to replace the base block (`_delete_: true`). Validates the flag. */
function wantsDelete(child: ConfigMap): boolean {
  if (!(DELETE_KEY in child)) return false;
  const v = child[DELETE_KEY];
  if (typeof v !== 'boolean') {
    const src = getConfigSource(child);
    throw new ConfigError(`\`${DELETE_KEY}\` must be true or false, got ${JSON.stringify(v)}`, {
      location: src?.keys[DELETE_KEY] ?? src?.self,
    });
  }
  return v;
}

/** Whether `child` replaces `base` because it names a different component `type`. */
export function typeChanged(base: ConfigMap, child: ConfigMap): boolean {
  return 'type' in child && 'type' in base && child.type !== base.type;
}

/**
 * Merge `child` on top of `base` and return the result. Neither input is modified; subtrees that are taken
 * over unchanged are shared with the inputs.
 */
export function mergeConfig(base: unknown, child: unknown): unknown {
  if (!isMapping(child)) return child;
  if (!isMapping(base) || wantsDelete(child) || typeChanged(base, child)) return child;
  const out: ConfigMap = {};
  const keys: Record<string, SourceLocation> = {};
  const baseKeys = keysOf(base);
  const childKeys = keysOf(child);
  for (const [k, v] of Object.entries(base)) {
    out[k] = v;
    if (baseKeys[k]) keys[k] = baseKeys[k];
  }
  for (const [k, v] of Object.entries(child)) {
    if (k === DELETE_KEY) continue;
    out[k] = k in base ? mergeConfig(base[k], v) : v;
    if (childKeys[k]) keys[k] = childKeys[k];
  }
  const src = getConfigSource(child) ?? getConfigSource(base);
  setConfigSource(out, { self: src?.self, keys });
  return out;
}

/**
 * Remove every `_delete_` key (after a file has been merged onto its bases the flags have done their work).
 * Validates them on the way. Modifies the tree in place.
 */
export function stripDeleteKeys(node: unknown): void {
  if (Array.isArray(node)) {
    for (const v of node) stripDeleteKeys(v);
    return;
  }
  if (!isMapping(node)) return;
  if (DELETE_KEY in node) {
    wantsDelete(node);
    delete node[DELETE_KEY];
    const src = getConfigSource(node);
    if (src) delete src.keys[DELETE_KEY];
  }
  for (const v of Object.values(node)) stripDeleteKeys(v);
}

/**
 * Give every mapping and list of the tree its dotted `path` (list items are numbered: `train_pipeline.2`)
 * and make sure each one has source information, so `locationOf` works anywhere in the merged config.
 */
export function assignPaths(node: unknown, path: string | undefined, fallback: SourceLocation): void {
  if (!Array.isArray(node) && !isMapping(node)) return;
  const src = getConfigSource(node);
  const self = src?.self ?? fallback;
  const keys = { ...(src?.keys ?? {}) };
  setConfigSource(node, { path, self, keys });
  const entries: [string, unknown][] = Array.isArray(node)
    ? node.map((v, i) => [String(i), v])
    : Object.entries(node);
  for (const [k, v] of entries) {
    assignPaths(v, path ? `${path}.${k}` : k, keys[k] ?? self);
  }
}
