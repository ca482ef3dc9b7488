// SPDX-License-Identifier: Apache-2.0
/**
 * Writing configs back out: plain YAML (what every work directory gets), YAML with a `# file:line` comment on
 * each key (`solo print-config`), a provenance table (`solo print-config --sources`) and the list of leaf keys
 * with the place that set each one.
 *
 * The emitter writes block mappings, block lists of mappings, and flow lists (`[1333, 800]`) for lists that
 * hold only scalars or such lists, the way mmdetection's configs read. Its output loads back to the same data.
 */
import { getConfigSource, type SourceLocation } from '@solo-ts/core';
import { stringify } from 'yaml';
import { isMapping } from './merge.js';

/** A leaf of the config (a scalar, an empty container or a list without mappings) and where it was set. */
export interface ProvenanceEntry {
  /** Dotted key path, list items numbered: `train_pipeline.2.scale`. */
  key: string;
  value: unknown;
  /** Where the key was (last) set; `file` is `--cfg-options` for command-line overrides. */
  location?: SourceLocation;
}

/** `file:line` (or just the file, e.g. `--cfg-options`). */
export function shortLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  return loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file;
}

const FLOW_MAX = 100;

function scalarText(v: unknown): string {
  if (typeof v === 'string' && /[\n\r]/.test(v)) return JSON.stringify(v);
  if (v === undefined) return 'null';
  return stringify(v, { lineWidth: 0 }).trimEnd();
}

function isFlowList(v: unknown): v is unknown[] {
  if (!Array.isArray(v)) return false;
  const ok = (x: unknown): boolean =>
    Array.isArray(x) ? x.every(ok) : x === null || (typeof x !== 'object' && typeof x !== 'function');
  return v.every(ok);
}

function flowText(v: unknown[]): string {
  return stringify(v, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trimEnd();
}

function isFlowMap(v: unknown): boolean {
  return isMapping(v) && Object.values(v).every((x) => (isMapping(x) ? false : Array.isArray(x) ? isFlowList(x) : true));
}

/** The one-line form of a value, or undefined if it needs a block. `flowMaps`: small flat mappings too. */
function inlineText(v: unknown, flowMaps = false): string | undefined {
  if (flowMaps && isFlowMap(v) && Object.keys(v as object).length > 0) {
    const t = stringify(v, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trimEnd();
    if (t.length <= FLOW_MAX && !t.includes('\n')) return t;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (isFlowList(v)) {
      const t = flowText(v);
      if (t.length <= FLOW_MAX && !t.includes('\n')) return t;
    }
    return undefined;
  }
  if (isMapping(v)) return Object.keys(v).length === 0 ? '{}' : undefined;
  return scalarText(v);
}

function keyText(k: string): string {
  return scalarText(k);
}

type Line = { text: string; comment?: string };
type CommentFn = (container: object, key: string) => string | undefined;

function emitMap(map: Record<string, unknown>, indent: string, out: Line[], comment?: CommentFn): void {
  for (const [k, v] of Object.entries(map)) {
    const c = comment?.(map, k);
    const inline = inlineText(v, !comment);
    if (inline !== undefined) {
      out.push({ text: `${indent}${keyText(k)}: ${inline}`, comment: c });
    } else {
      out.push({ text: `${indent}${keyText(k)}:`, comment: c });
      emitBlock(v, `${indent}  `, out, comment);
    }
  }
}

function emitList(list: unknown[], indent: string, out: Line[], comment?: CommentFn): void {
  list.forEach((v, i) => {
    const inline = inlineText(v, !comment);
    if (inline !== undefined) {
      out.push({ text: `${indent}- ${inline}`, comment: comment?.(list, String(i)) });
      return;
    }
    const start = out.length;
    emitBlock(v, `${indent}  `, out, comment);
    // put the first line of the item on the dash line: "- type: Resize"
    out[start] = { ...out[start], text: `${indent}- ${out[start].text.slice(indent.length + 2)}` };
  });
}

function emitBlock(v: unknown, indent: string, out: Line[], comment?: CommentFn): void {
  if (Array.isArray(v)) emitList(v, indent, out, comment);
  else if (isMapping(v)) emitMap(v, indent, out, comment);
  else out.push({ text: `${indent}${scalarText(v)}` });
}

function render(lines: Line[]): string {
  const width = Math.min(72, Math.max(0, ...lines.filter((l) => l.comment).map((l) => l.text.length)));
  return (
    lines
      .map((l) => (l.comment ? `${l.text.padEnd(width)}  # ${l.comment}` : l.text))
      .join('\n') + '\n'
  );
}

/** Plain YAML text of config data (no comments). */
export function toYAML(data: Record<string, unknown>): string {
  const lines: Line[] = [];
  emitMap(data, '', lines);
  return lines.length ? render(lines) : '{}\n';
}

/** YAML text with a trailing `# file:line` comment on every key, saying where it was (last) set. */
export function toYAMLWithSources(data: Record<string, unknown>): string {
  const lines: Line[] = [];
  emitMap(data, '', lines, (container, key) => shortLocation(getConfigSource(container)?.keys[key]) || undefined);
  return lines.length ? render(lines) : '{}\n';
}

/** Every leaf key path of the config with its value and the place that set it, in document order. */
export function provenance(data: Record<string, unknown>): ProvenanceEntry[] {
  const out: ProvenanceEntry[] = [];
  const walk = (node: object, prefix: string): void => {
    const src = getConfigSource(node);
    const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [String(i), v]) : Object.entries(node);
    for (const [k, v] of entries) {
      const key = prefix ? `${prefix}.${k}` : k;
      const isLeaf = !(isMapping(v) || Array.isArray(v)) || inlineText(v) !== undefined;
      if (isLeaf) out.push({ key, value: v, location: src?.keys[k] ?? src?.self });
      else walk(v as object, key);
    }
  };
  walk(data, '');
  return out;
}

/** A three-column text table: key path, value, `file:line`. */
export function provenanceTable(data: Record<string, unknown>): string {
  const rows = provenance(data).map((e) => {
    let value = inlineText(e.value) ?? JSON.stringify(e.value);
    if (value.length > 48) value = `${value.slice(0, 45)}...`;
    return [e.key, value, shortLocation(e.location)];
  });
  const header = ['key', 'value', 'set in'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n') + '\n';
}
