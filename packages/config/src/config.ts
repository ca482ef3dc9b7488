// SPDX-License-Identifier: Apache-2.0
/**
 * `loadConfig(file, { cfgOptions })`: read a YAML config with mmdetection/mmengine semantics.
 *
 * `_base_` (a path or a list of paths) names the configs this one builds on. They are loaded recursively, merged
 * in order (later bases on top of earlier ones), and the file's own keys are merged on top (see `merge.ts` for
 * the rules). Then `--cfg-options` overrides are applied, the top-level keys are checked, and every mapping and
 * list of the result gets its dotted path and the location of each key (see `@solo-ts/core`'s config sources).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, SoloError, closestNames, getConfigSource, type SourceLocation } from '@solo-ts/core';
import { applyCfgOptions, parseCfgOptions } from './cfg-options.js';
import { provenance, provenanceTable, toYAML, toYAMLWithSources, type ProvenanceEntry } from './format.js';
import { KNOWN_TOP_LEVEL_KEYS, validateTopLevelKeys } from './keys.js';
import { assignPaths, isMapping, mergeConfig, stripDeleteKeys, type ConfigMap } from './merge.js';
import { displayPath, resolveBaseRef } from './resolve.js';
import { parseYamlConfig } from './yaml-source.js';

export interface LoadConfigOptions {
  /** `key.path=value` strings (values parsed as YAML) or a `{ 'key.path': value }` record (values as given). */
  cfgOptions?: string[] | Record<string, unknown>;
  /** Top-level keys to accept besides the mmdetection ones (e.g. a plugin's). */
  extraTopLevelKeys?: Iterable<string>;
}

const BASE_KEY = '_base_';
const CONFIG_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** A loaded, merged config. */
export class Config {
  constructor(
    /** The merged config: plain objects, lists and scalars, with source locations attached to every mapping. */
    readonly data: ConfigMap,
    /** Absolute path of the config file that was loaded. */
    readonly filename: string,
    /** Absolute paths of every file that went into it (bases first, depth first, then the file itself). */
    readonly files: readonly string[] = [filename],
  ) {}

  /** The value at a dotted path (`model.backbone.depth`, `train_pipeline.2.scale`), or undefined. */
  get<T = unknown>(keyPath: string): T | undefined {
    let cur: unknown = this.data;
    for (const seg of keyPath.split('.')) {
      if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
      else if (isMapping(cur) && Object.prototype.hasOwnProperty.call(cur, seg)) cur = cur[seg];
      else return undefined;
    }
    return cur as T;
  }

  /** Where the value at a dotted path was (last) set. */
  sourceOf(keyPath: string): SourceLocation | undefined {
    const i = keyPath.lastIndexOf('.');
    const parent = i < 0 ? this.data : this.get(keyPath.slice(0, i));
    const src = getConfigSource(parent);
    return src?.keys[keyPath.slice(i + 1)];
  }

  /** The merged config as YAML (loads back to the same data). */
  toYAML(): string {
    return toYAML(this.data);
  }

  /** Write the merged config (with a header naming its source) to `file`, creating directories. */
  dump(file: string): void {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const header = `# Merged config written by solo-ts from ${displayPath(this.filename)}\n`;
    writeFileSync(file, header + this.toYAML());
  }

  /** Every leaf key path with its value and the file:line (or `--cfg-options`) that set it. */
  provenance(): ProvenanceEntry[] {
    return provenance(this.data);
  }
}

/** Text for `solo print-config`: YAML with a `# file:line` comment per key, or (`table`) a key/value/source table. */
export function formatConfigWithSources(cfg: Config, options: { table?: boolean } = {}): string {
  return options.table ? provenanceTable(cfg.data) : toYAMLWithSources(cfg.data);
}

interface Frame {
  file: string;
  /** Where the including file named this one. */
  from?: SourceLocation;
}

function readConfigFile(file: string, from: SourceLocation | undefined, ref: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.py') {
    throw new ConfigError(`\`${ref}\` is a Python config; solo-ts reads YAML configs`, {
      location: from,
      hint: 'translate it to YAML with the same keys (see docs/configs.md), or use the shipped configs/ YAML',
    });
  }
  if (!existsSync(file)) {
    let hint: string | undefined;
    const dir = path.dirname(file);
    if (existsSync(dir)) {
      const near = closestNames(path.basename(file), readdirSync(dir).filter((n) => CONFIG_EXTENSIONS.has(path.extname(n))));
      if (near.length) hint = `did you mean ${near.map((n) => `\`${n}\``).join(' or ')} (in ${displayPath(dir)})?`;
    }
    throw new ConfigError(from ? `base config \`${ref}\` not found: ${displayPath(file)}` : `config file not found: ${ref}`, {
      location: from,
      hint,
    });
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new SoloError(`cannot read config ${displayPath(file)}: ${(e as Error).message}`, {
      code: 'FILE',
      location: from,
      cause: e,
    });
  }
}

function loadTree(frame: Frame, stack: Frame[], files: string[], ref: string): ConfigMap {
  const cycleAt = stack.findIndex((f) => f.file === frame.file);
  if (cycleAt >= 0) {
    const chain = [...stack.slice(cycleAt), frame].map((f) => displayPath(f.file)).join(' -> ');
    throw new ConfigError(`circular _base_ inheritance: ${chain}`, { location: frame.from });
  }
  const text = readConfigFile(frame.file, frame.from, ref);
  const display = displayPath(frame.file);
  const { data, baseLocations } = parseYamlConfig(text, display);
  const baseLocation = getConfigSource(data)?.keys[BASE_KEY];
  const refs = data[BASE_KEY];
  delete data[BASE_KEY];
  const src = getConfigSource(data);
  if (src) delete src.keys[BASE_KEY];

  let list: string[] = [];
  if (refs !== undefined && refs !== null) {
    const arr = Array.isArray(refs) ? refs : [refs];
    if (!arr.every((r): r is string => typeof r === 'string' && r.trim() !== '')) {
      throw new ConfigError('`_base_` must be a path or a list of paths', { location: baseLocation });
    }
    list = arr;
  }
  let merged: unknown = undefined;
  const inner = [...stack, frame];
  list.forEach((r, i) => {
    const resolved = resolveBaseRef(r, frame.file);
    const from = baseLocations[i] ?? baseLocation;
    if (!resolved.file) {
      throw new ConfigError(`cannot resolve base config \`${r}\`: ${resolved.kind === 'package' ? resolved.reason : ''}`, {
        location: from,
      });
    }
    const tree = loadTree({ file: resolved.file, from }, inner, files, r);
    merged = merged === undefined ? tree : mergeConfig(merged, tree);
  });
  files.push(frame.file);
  const result = (merged === undefined ? data : mergeConfig(merged, data)) as ConfigMap;
  stripDeleteKeys(result);
  return result;
}

/**
 * Load a YAML config file, resolve its `_base_` chain, apply `cfgOptions`, and check the top-level keys.
 * Every problem is a `ConfigError` (or a `SoloError` for bad overrides) that names the file and line.
 */
export function loadConfig(file: string, options: LoadConfigOptions = {}): Config {
  const abs = path.resolve(file);
  const files: string[] = [];
  const data = loadTree({ file: abs }, [], files, file);
  validateTopLevelKeys(data, options.extraTopLevelKeys);
  const known = new Set([...KNOWN_TOP_LEVEL_KEYS, ...(options.extraTopLevelKeys ?? [])]);
  applyCfgOptions(data, parseCfgOptions(options.cfgOptions), known);
  assignPaths(data, undefined, { file: displayPath(abs), line: 1, column: 1 });
  return new Config(data, abs, files);
}

/** Load config data that is already in memory (tests, configs built in code). `name` is used in locations. */
export function configFromYAML(text: string, name = '<inline>', options: LoadConfigOptions = {}): Config {
  const { data } = parseYamlConfig(text, name);
  if (BASE_KEY in data) {
    throw new ConfigError('`_base_` needs a config file (bases are resolved relative to it); use loadConfig', {
      location: getConfigSource(data)?.keys[BASE_KEY],
    });
  }
  stripDeleteKeys(data);
  validateTopLevelKeys(data, options.extraTopLevelKeys);
  const known = new Set([...KNOWN_TOP_LEVEL_KEYS, ...(options.extraTopLevelKeys ?? [])]);
  applyCfgOptions(data, parseCfgOptions(options.cfgOptions), known);
  assignPaths(data, undefined, { file: name, line: 1, column: 1 });
  return new Config(data, name, [name]);
}
