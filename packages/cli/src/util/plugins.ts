// SPDX-License-Identifier: Apache-2.0
/**
 * Import the plugin packages a config names (`custom_imports.imports`, `plugins`) and load the component
 * modules they export into a registry. Commands call this after loading the config and before building.
 *
 * A plugin package exports one or more `ComponentModule`s (from `@solo-ts/core`) under any export name,
 * e.g. `export const acmeComponents = new ComponentModule('acme-solo', [...])`.
 */
// The one implementation is the engine's (also used by apis and by data-parallel workers); the cli keeps its
// published names for it.
export { componentModulesIn as componentModulesOf, loadConfigPluginsInto as loadConfigPlugins } from '@solo-ts/engine';
