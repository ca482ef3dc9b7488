// SPDX-License-Identifier: Apache-2.0
/**
 * Where the training engine gets its registry from. The engine knows no component package (mmengine's Runner builds
 * from the registries of its default scope; here the caller hands them in, e.g. `defaultRegistryFactory` of
 * @solo-ts/apis):
 *
 * - a `Registry` (single-thread runs), or
 * - a `RegistryFactory`: a function that makes the registry, plus where a data-parallel worker thread imports the
 *   same function from (a module specifier and an export name: a function cannot be sent to a worker thread).
 *
 * Either way the config's plugins (`custom_imports`, `plugins`) are loaded on top (`loadConfigPluginsInto`).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SoloError, type ComponentModule, type Registry } from '@solo-ts/core';

/** A registry factory as a worker thread can receive it: `import(module)[exportName](): Registry`. */
export interface RegistryFactoryRef {
  /** A package name, a `file:` URL or an absolute path, importable from this package. */
  module: string;
  /** The name under which the module exports the factory function. */
  exportName: string;
}

/** A function that makes a registry with every component, and where worker threads import it from. */
export interface RegistryFactory extends RegistryFactoryRef {
  create(extraModules?: readonly ComponentModule[]): Registry;
}

export function isRegistryFactory(v: unknown): v is RegistryFactory {
  return typeof v === 'object' && v !== null && typeof (v as RegistryFactory).create === 'function' && typeof (v as RegistryFactory).module === 'string' && typeof (v as RegistryFactory).exportName === 'string';
}

/** The ComponentModules a module namespace exports (by shape: a plugin may bring its own @solo-ts/core copy). */
export function componentModulesIn(ns: unknown): ComponentModule[] {
  if (typeof ns !== 'object' || ns === null) return [];
  const found = new Set<ComponentModule>();
  for (const v of Object.values(ns as Record<string, unknown>)) {
    if (typeof v === 'object' && v !== null && typeof (v as ComponentModule).packageName === 'string' && Array.isArray((v as ComponentModule).registrations)) found.add(v as ComponentModule);
  }
  return [...found];
}

/** Import the factory function a `RegistryFactoryRef` names (what data-parallel worker threads do). */
export async function importRegistryFactory(ref: RegistryFactoryRef): Promise<() => Registry> {
  const spec = path.isAbsolute(ref.module) ? pathToFileURL(ref.module).href : ref.module;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    throw new SoloError(`cannot import the registry factory module ${ref.module}: ${(e as Error).message}`, { code: 'CONFIG', cause: e });
  }
  const f = mod[ref.exportName];
  if (typeof f !== 'function') throw new SoloError(`${ref.module} exports no function \`${ref.exportName}\` (the registry factory)`, { code: 'CONFIG' });
  return f as () => Registry;
}
