// SPDX-License-Identifier: Apache-2.0
/**
 * Plugin packages named by a config.
 *
 * ```yaml
 * custom_imports: {imports: [acme-solo-heads, ./local_plugin.js], allow_failed_imports: false}
 * plugins: [acme-solo-losses]
 * ```
 *
 * The CLI imports each module before building anything and hands the module to a callback (the registry loads
 * the container module the package exports). Bare names are npm packages, resolved from solo-ts and then from
 * the current directory; `./` and `../` paths are relative to the config file that lists them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, getConfigSource, isSoloError, type SourceLocation } from '@solo-ts/core';
import type { Config } from './config.js';
import { isMapping, type ConfigMap } from './merge.js';
import { findPackageDir } from './resolve.js';

/** One module to import, with the config key that listed it. */
export interface PluginImport {
  /** What to import: a package name, or an absolute file path for `./` entries. */
  module: string;
  /** The module as written in the config. */
  spec: string;
  /** The config key that lists it, e.g. `custom_imports.imports.0`. */
  key: string;
  location?: SourceLocation;
  /** `custom_imports.allow_failed_imports`: a failed import is a warning, not an error. */
  allowFailed: boolean;
}

function dataOf(cfg: Config | ConfigMap): ConfigMap {
  return isMapping((cfg as Config).data) ? (cfg as Config).data : (cfg as ConfigMap);
}

function toImport(spec: unknown, key: string, container: object, index: string, allowFailed: boolean): PluginImport {
  const at = getConfigSource(container)?.keys[index] ?? getConfigSource(container)?.self;
  const location = at ? { ...at, key } : undefined;
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ConfigError(`\`${key}\` must be a module name (an npm package or a ./relative path)`, { location });
  }
  let module = spec.trim();
  if (module.startsWith('./') || module.startsWith('../')) {
    const base = location && location.file !== '--cfg-options' ? path.dirname(path.resolve(location.file)) : process.cwd();
    module = path.resolve(base, module);
  }
  return { module, spec, key, location, allowFailed };
}

function asList(v: unknown): { list: unknown[]; container: object | undefined; single: boolean } {
  if (Array.isArray(v)) return { list: v, container: v, single: false };
  if (v === undefined || v === null) return { list: [], container: undefined, single: false };
  return { list: [v], container: undefined, single: true };
}

/** The modules a config asks to import (`custom_imports.imports`, then `plugins`), with where each was listed. */
export function pluginImports(cfg: Config | ConfigMap): PluginImport[] {
  const data = dataOf(cfg);
  const out: PluginImport[] = [];
  const ci = data.custom_imports;
  if (ci !== undefined && ci !== null) {
    if (!isMapping(ci)) {
      throw new ConfigError('`custom_imports` must be a mapping: {imports: [...], allow_failed_imports: false}', {
        location: getConfigSource(data)?.keys.custom_imports,
      });
    }
    const allow = ci.allow_failed_imports ?? false;
    if (typeof allow !== 'boolean') {
      throw new ConfigError('`custom_imports.allow_failed_imports` must be true or false', {
        location: getConfigSource(ci)?.keys.allow_failed_imports,
      });
    }
    const { list, container, single } = asList(ci.imports);
    list.forEach((spec, i) => {
      const key = single ? 'custom_imports.imports' : `custom_imports.imports.${i}`;
      out.push(toImport(spec, key, container ?? ci, container ? String(i) : 'imports', allow));
    });
  }
  const { list, container, single } = asList(data.plugins);
  list.forEach((spec, i) => {
    const key = single ? 'plugins' : `plugins.${i}`;
    out.push(toImport(spec, key, container ?? data, container ? String(i) : 'plugins', false));
  });
  return out;
}

/** The module names a config asks to import, in order (package names, or absolute paths for `./` entries). */
export function resolvePluginImports(cfg: Config | ConfigMap): string[] {
  return pluginImports(cfg).map((p) => p.module);
}

/** The ESM entry file of an installed package (for packages not reachable from solo-ts's own location). */
function packageEntry(name: string, from: string[]): string | undefined {
  const slash = name.startsWith('@') ? name.indexOf('/', name.indexOf('/') + 1) : name.indexOf('/');
  const pkgName = slash > 0 ? name.slice(0, slash) : name;
  const sub = slash > 0 ? `.${name.slice(slash)}` : '.';
  const dir = findPackageDir(pkgName, from);
  if (!dir) return undefined;
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    exports?: unknown;
    module?: string;
    main?: string;
  };
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (Array.isArray(e)) return e.map(pick).find((x) => x !== undefined);
    if (isMapping(e)) {
      for (const c of ['import', 'node', 'default']) if (c in e) return pick(e[c]);
    }
    return undefined;
  };
  let target: string | undefined;
  if (pkg.exports !== undefined) {
    const ex = pkg.exports;
    const mapped = isMapping(ex) && Object.keys(ex).some((k) => k.startsWith('.')) ? ex[sub] : sub === '.' ? ex : undefined;
    target = pick(mapped);
  } else {
    target = sub === '.' ? (pkg.module ?? pkg.main ?? 'index.js') : sub;
  }
  if (!target) return undefined;
  const file = path.resolve(dir, target);
  return existsSync(file) ? file : undefined;
}

async function importModule(p: PluginImport): Promise<unknown> {
  if (path.isAbsolute(p.module)) return import(pathToFileURL(p.module).href);
  try {
    return await import(p.module);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes(`'${p.module}'`)) throw e;
    // Not reachable from solo-ts's own location: try the user's project (current directory).
    const local = path.join(process.cwd(), '__solo_ts_plugin_resolution__.js');
    let file: string | undefined;
    try {
      file = createRequire(local).resolve(p.module);
    } catch {
      file = packageEntry(p.module, [process.cwd()]);
    }
    if (!file) throw e;
    return import(pathToFileURL(file).href);
  }
}

export interface LoadPluginsOptions {
  /** Called instead of throwing when an `allow_failed_imports` module fails to import. Default: console.warn. */
  onWarning?: (message: string) => void;
}

/**
 * Import each plugin module and pass it to `load` (e.g. the registry's container-module loader), in order.
 * An import that fails throws a `ConfigError` naming the config key and the module (or only warns when the
 * config sets `allow_failed_imports: true`). Errors thrown by `load` itself are passed through.
 */
export async function loadPlugins(
  names: ReadonlyArray<string | PluginImport>,
  load: (mod: unknown, name: string) => void | Promise<void>,
  options: LoadPluginsOptions = {},
): Promise<void> {
  const warn = options.onWarning ?? ((m: string) => console.warn(`warning: ${m}`));
  for (const n of names) {
    const p: PluginImport = typeof n === 'string' ? { module: n, spec: n, key: 'plugins', allowFailed: false } : n;
    let mod: unknown;
    try {
      mod = await importModule(p);
    } catch (e) {
      if (isSoloError(e)) throw e;
      const code = (e as { code?: string }).code;
      const notFound = code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(p.module);
      const reason = notFound ? 'module not found' : `${(e as Error).message ?? String(e)}`.split('\n')[0];
      const message = `cannot import plugin \`${p.spec}\` (listed in \`${p.key}\`): ${reason}`;
      if (p.allowFailed) {
        warn(message);
        continue;
      }
      throw new ConfigError(message, {
        location: p.location,
        cause: e,
        hint: notFound
          ? p.module === p.spec
            ? `install it (npm install ${p.spec}) or fix the name`
            : `no file ${p.module}`
          : undefined,
      });
    }
    await load(mod, p.spec);
  }
}
