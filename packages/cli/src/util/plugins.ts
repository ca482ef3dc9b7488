// SPDX-License-Identifier: Apache-2.0
/**
 * Import the plugin packages a config names (`custom_imports.imports`, `plugins`) and load the component
 * modules they export into a registry. Commands call this after loading the config and before building.
 *
 * A plugin package exports one or more `ComponentModule`s (from `@solo-ts/core`) under any export name,
 * e.g. `export const acmeComponents = new ComponentModule('acme-solo', [...])`.
 */
import type { ComponentModule } from '@solo-ts/core';
import type { Config } from '@solo-ts/config';
import { componentModulesIn, loadConfigPluginsInto } from '@solo-ts/engine';

/**
 * The component modules a plugin module exports (its `default` export included), found by shape (a plugin may
 * bring its own copy of @solo-ts/core, so no `instanceof`): the engine's `componentModulesIn`.
 */
export function componentModulesOf(mod: unknown): ComponentModule[] {
  return componentModulesIn(mod);
}

/**
 * Import every plugin of `cfg` and `registry.load(...)` its component modules, in config order. Returns the
 * plugin names that were loaded. A plugin that exports no component module is a `ConfigError`. The one
 * implementation is the engine's `loadConfigPluginsInto` (also used by data-parallel workers and `apis`).
 */
export async function loadConfigPlugins(
  cfg: Config,
  registry: { load(...modules: ComponentModule[]): unknown },
  options: { onWarning?: (message: string) => void } = {},
): Promise<string[]> {
  return loadConfigPluginsInto(cfg, registry, options);
}
