// SPDX-License-Identifier: Apache-2.0
/**
 * `--cfg-options key.path=value` overrides, as in mmengine.
 *
 * Values are YAML: `0.01`, `true`, `null`, `'a string'`, `[208, 124]`, `{type: SGD, lr: 0.02}`; `None` is
 * accepted for `null` (mmengine spelling) and `key=` sets an empty string. Key paths may step into lists by
 * index (`test_dataloader.dataset.pipeline.1.scale=[208,124]`). A mapping value is merged into the mapping it
 * replaces with the usual rules (`_delete_`, changed `type`). Every value set here records `--cfg-options`
 * as its source.
 */
import { SoloError, closestNames, getConfigSource, setConfigSource, type SourceLocation } from '@solo-ts/core';
import { parse as parseYaml } from 'yaml';
import { isMapping, mergeConfig, stripDeleteKeys, type ConfigMap } from './merge.js';

/** One parsed override. */
export interface CfgOption {
  /** The dotted key path, e.g. `model.test_cfg.score_thr`. */
  key: string;
  value: unknown;
  /** The option as the user wrote it (for messages). */
  text: string;
}

export const CFG_OPTIONS_SOURCE = '--cfg-options';

function optionError(text: string, message: string, hint?: string): SoloError {
  return new SoloError(`--cfg-options \`${text}\`: ${message}`, { code: 'ARGUMENT', hint });
}

/** Parse the value part of an override as YAML (see the module comment for the extras). */
export function parseCfgValue(raw: string, text = raw): unknown {
  const s = raw.trim();
  if (s === '') return '';
  if (s === 'None') return null;
  try {
    return parseYaml(s, { uniqueKeys: true }) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw optionError(text, `the value is not valid YAML (${msg})`, "quote strings with special characters: key='a: b'");
  }
}

/**
 * Parse `key=value` strings (or a `{ 'a.b': value }` record whose values are used as they are).
 * Throws a `SoloError` naming the option when one has no `=` or an empty key segment.
 */
export function parseCfgOptions(options: string[] | Record<string, unknown> | undefined): CfgOption[] {
  if (!options) return [];
  if (!Array.isArray(options)) {
    return Object.entries(options).map(([key, value]) => {
      checkKey(key, key);
      return { key, value, text: key };
    });
  }
  return options.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw optionError(text, 'expected key=value', 'example: --cfg-options model.test_cfg.score_thr=0.3');
    const key = text.slice(0, eq).trim();
    checkKey(key, text);
    return { key, value: parseCfgValue(text.slice(eq + 1), text), text };
  });
}

function checkKey(key: string, text: string): void {
  if (key.split('.').some((s) => s.trim() === '')) {
    throw optionError(text, `\`${key}\` has an empty key segment`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${JSON.stringify(v)} (a ${typeof v})`;
}

/** Mark a value set on the command line (and everything inside it) as coming from `--cfg-options`. */
function tagSources(value: unknown, where: SourceLocation): void {
  if (Array.isArray(value)) {
    const keys: Record<string, SourceLocation> = {};
    value.forEach((v, i) => {
      keys[String(i)] = where;
      tagSources(v, where);
    });
    if (!getConfigSource(value)) setConfigSource(value, { self: where, keys });
  } else if (isMapping(value)) {
    const keys: Record<string, SourceLocation> = {};
    for (const [k, v] of Object.entries(value)) {
      keys[k] = where;
      tagSources(v, where);
    }
    if (!getConfigSource(value)) setConfigSource(value, { self: where, keys });
  }
}

function setKeySource(container: object, key: string, where: SourceLocation): void {
  const src = getConfigSource(container);
  if (src) src.keys[key] = where;
  else setConfigSource(container, { self: where, keys: { [key]: where } });
}

function listIndex(list: unknown[], seg: string, opt: CfgOption, at: string): number {
  if (!/^\d+$/.test(seg)) {
    throw optionError(opt.text, `\`${at}\` is a list; \`${seg}\` is not an index (0..${list.length - 1})`);
  }
  const i = Number(seg);
  if (i >= list.length) {
    throw optionError(opt.text, `\`${at}\` has ${list.length} items; index ${i} is out of range`);
  }
  return i;
}

/**
 * Apply overrides to a merged config in place. `knownTopLevel` are the top-level keys an override may add
 * when the config does not have them yet (e.g. `work_dir`, `randomness`).
 */
export function applyCfgOptions(root: ConfigMap, options: CfgOption[], knownTopLevel: ReadonlySet<string>): void {
  for (const opt of options) {
    const where: SourceLocation = { file: CFG_OPTIONS_SOURCE };
    const segs = opt.key.split('.').map((s) => s.trim());
    const top = segs[0];
    if (!(top in root) && !knownTopLevel.has(top)) {
      const near = closestNames(top, new Set([...Object.keys(root), ...knownTopLevel]));
      throw optionError(
        opt.text,
        `unknown top-level key \`${top}\``,
        near.length ? `did you mean ${near.map((n) => `\`${n}\``).join(' or ')}?` : undefined,
      );
    }
    let cur: ConfigMap | unknown[] = root;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      const at = segs.slice(0, i).join('.');
      const last = i === segs.length - 1;
      if (Array.isArray(cur)) {
        const idx = listIndex(cur, seg, opt, at);
        if (last) {
          tagSources(opt.value, where);
          cur[idx] = isMapping(cur[idx]) ? merged(cur[idx], opt.value) : opt.value;
          setKeySource(cur, String(idx), where);
        } else {
          const next: unknown = cur[idx];
          if (!Array.isArray(next) && !isMapping(next)) {
            throw optionError(opt.text, `\`${segs.slice(0, i + 1).join('.')}\` is ${describe(next)}, not a mapping or list`);
          }
          cur = next;
        }
        continue;
      }
      if (last) {
        tagSources(opt.value, where);
        cur[seg] = seg in cur && isMapping(cur[seg]) ? merged(cur[seg], opt.value) : opt.value;
        setKeySource(cur, seg, where);
        break;
      }
      let next: unknown = cur[seg];
      if (next === undefined || next === null) {
        next = {};
        setConfigSource(next as object, { self: where, keys: {} });
        cur[seg] = next;
        setKeySource(cur, seg, where);
      } else if (!Array.isArray(next) && !isMapping(next)) {
        throw optionError(opt.text, `\`${segs.slice(0, i + 1).join('.')}\` is ${describe(next)}, not a mapping or list`);
      }
      cur = next as ConfigMap | unknown[];
    }
  }
}

function merged(base: unknown, value: unknown): unknown {
  const out = mergeConfig(base, value);
  stripDeleteKeys(out);
  return out;
}

