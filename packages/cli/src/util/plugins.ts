// SPDX-License-Identifier: Apache-2.0
/**
 * Import the plugin packages a config names (`custom_imports.imports`, `plugins`) and load the component
 * modules they export into a registry. Commands call this after loading the config and before building.
 *
 * A plugin package exports one or more `ComponentModule`s (from `@solo-ts/core`) under any export name,
 * e.g. `export const acmeComponents = new ComponentModule('acme-solo', [...])`.
 */
import { SoloError, type ComponentModule } from '@solo-ts/core';
import { loadPlugins, pluginImports, type Config } from '@solo-ts/config';
import { componentModulesIn } from '@solo-ts/engine';

/**
 * The component modules a plugin module exports (its `default` export included), found by shape (a plugin may
 * bring its own copy of @solo-ts/core, so no `instanceof`): the engine's `componentModulesIn`.
 */
export function componentModulesOf(mod: unknown): ComponentModule[] {
  return componentModulesIn(mod);
}

/**
 * Import every plugin of `cfg` and `registry.load(...)` its component modules, in config order. Returns the
 * plugin names that were loaded. A plugin that exports no component module is a `SoloError`.
 */
export async function loadConfigPlugins(
  cfg: Config,
  registry: { load(...modules: ComponentModule[]): unknown },
  options: { onWarning?: (message: string) => void } = {},
): Promise<string[]> {
  const imports = pluginImports(cfg);
  const loaded: string[] = [];
  await loadPlugins(
    imports,
    (mod, name) => {
      const modules = componentModulesOf(mod);
      if (modules.length === 0) {
        const p = imports.find((i) => i.spec === name);
        throw new SoloError(`plugin \`${name}\` exports no ComponentModule, so it registers nothing`, {
          code: 'CONFIG',
          location: p?.location,
          hint: "a plugin exports e.g. `export const components = new ComponentModule('my-plugin', [...])` from @solo-ts/core",
        });
      }
      registry.load(...modules);
      loaded.push(name);
    },
    options,
  );
  return loaded;
}
