// SPDX-License-Identifier: Apache-2.0
/**
 * Parse one YAML config file into plain data that remembers where every key was written.
 *
 * Every mapping (and every list) of the result carries `ConfigNodeSource` information from `@solo-ts/core`:
 * the location of the mapping itself and of each of its keys (file, 1-based line and column). Aliases
 * (`*name`) are expanded into independent copies whose keys point at the anchored text; YAML merge keys
 * (`<<: *name` or `<<: [*a, *b]`) copy the keys of the referenced mappings unless the mapping sets them itself.
 */
import { ConfigError, setConfigSource, type SourceLocation } from '@solo-ts/core';
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';

/** A parsed file: its data and the location of each top-level key (for `_base_` errors). */
export interface ParsedYaml {
  data: Record<string, unknown>;
  /** Locations of the items of `_base_` (one per entry, in order), if the file has `_base_`. */
  baseLocations: SourceLocation[];
}

type AnyNode = YamlNode | null | undefined;

interface Ctx {
  doc: Document;
  lc: LineCounter;
  file: string;
  /** Guards against alias loops (`&a [*a]`). */
  depth: number;
}

function loc(ctx: Ctx, node: AnyNode): SourceLocation {
  const offset = node?.range?.[0];
  if (offset === undefined) return { file: ctx.file };
  const p = ctx.lc.linePos(offset);
  return { file: ctx.file, line: p.line, column: p.col };
}

/** The text before yaml's " at line L, column C:" suffix (we add the location ourselves). */
function shortMessage(message: string): string {
  const i = message.search(/ at line \d+, column \d+/);
  return (i >= 0 ? message.slice(0, i) : message.split('\n')[0]).trim();
}

function keyString(ctx: Ctx, key: unknown): string {
  if (isScalar(key)) {
    const v = key.value;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  throw new ConfigError('mapping keys must be plain scalars (strings or numbers)', {
    location: loc(ctx, key as YamlNode),
  });
}

function convert(ctx: Ctx, node: AnyNode): unknown {
  if (node === null || node === undefined) return null;
  if (ctx.depth > 200) {
    throw new ConfigError('YAML aliases nest too deeply (a recursive anchor?)', { location: loc(ctx, node) });
  }
  if (isAlias(node)) {
    const target = node.resolve(ctx.doc);
    if (!target) {
      throw new ConfigError(`unknown YAML alias \`*${node.source}\``, { location: loc(ctx, node) });
    }
    ctx.depth++;
    try {
      return convert(ctx, target as YamlNode);
    } finally {
      ctx.depth--;
    }
  }
  if (isScalar(node)) {
    const v = node.value;
    if (v === undefined) return null;
    if (typeof v === 'bigint') return Number(v);
    return v;
  }
  if (isSeq(node)) {
    const out: unknown[] = [];
    const keys: Record<string, SourceLocation> = {};
    node.items.forEach((item, i) => {
      out.push(convert(ctx, item as AnyNode));
      keys[String(i)] = loc(ctx, item as AnyNode);
    });
    setConfigSource(out, { self: loc(ctx, node), keys });
    return out;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const keys: Record<string, SourceLocation> = {};
    const merges: AnyNode[] = [];
    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.value === '<<' && (isAlias(pair.value) || isSeq(pair.value))) {
        merges.push(pair.value as AnyNode);
        continue;
      }
      const k = keyString(ctx, pair.key);
      out[k] = convert(ctx, pair.value as AnyNode);
      keys[k] = loc(ctx, pair.key as AnyNode);
    }
    for (const m of merges) mergeKeys(ctx, m, out, keys);
    setConfigSource(out, { self: loc(ctx, node), keys });
    return out;
  }
  throw new ConfigError('unsupported YAML node', { location: loc(ctx, node) });
}

/** YAML merge keys: keys the mapping does not set itself come from the referenced mappings, first one wins. */
function mergeKeys(ctx: Ctx, m: AnyNode, out: Record<string, unknown>, keys: Record<string, SourceLocation>): void {
  const sources = isSeq(m) ? (m.items as AnyNode[]) : [m];
  for (const s of sources) {
    const value = convert(ctx, s);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError('a YAML merge key `<<` must refer to a mapping (or a list of mappings)', {
        location: loc(ctx, s),
      });
    }
    const target = isAlias(s) ? (s.resolve(ctx.doc) as AnyNode) : s;
    const srcLoc = loc(ctx, target);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k in out) continue;
      out[k] = v;
      keys[k] = srcLoc;
    }
  }
}

/**
 * Parse YAML text. `file` is the name used in locations. Syntax errors become a `ConfigError` at the
 * parser's line and column; the top level must be a mapping (an empty file is an empty config).
 */
export function parseYamlConfig(text: string, file: string): ParsedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const p = e.linePos?.[0];
    throw new ConfigError(`invalid YAML: ${shortMessage(e.message)}`, {
      location: { file, line: p?.line, column: p?.col },
    });
  }
  const ctx: Ctx = { doc, lc, file, depth: 0 };
  const root = doc.contents as AnyNode;
  if (root === null || root === undefined || (isScalar(root) && (root.value === null || root.value === undefined))) {
    const empty: Record<string, unknown> = {};
    setConfigSource(empty, { self: { file, line: 1, column: 1 }, keys: {} });
    return { data: empty, baseLocations: [] };
  }
  if (!isMap(root) && !isAlias(root)) {
    throw new ConfigError('a config file must be a YAML mapping (`key: value` lines) at the top level', {
      location: loc(ctx, root),
    });
  }
  const data = convert(ctx, root) as Record<string, unknown>;
  const baseLocations: SourceLocation[] = [];
  if (isMap(root)) {
    const basePair = root.items.find((p) => isScalar(p.key) && p.key.value === '_base_');
    if (basePair) {
      const v = basePair.value as AnyNode;
      if (isSeq(v)) for (const item of v.items) baseLocations.push(loc(ctx, item as AnyNode));
      else baseLocations.push(loc(ctx, v ?? (basePair.key as AnyNode)));
    }
  }
  return { data, baseLocations };
}
