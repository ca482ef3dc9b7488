// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/config: YAML configs with mmdetection semantics (`_base_` inheritance, `--cfg-options`, key
 * provenance), see docs/configs.md. The public API, by name.
 */
export const PACKAGE_NAME = '@solo-ts/config';

export { Config, loadConfig, configFromYAML, formatConfigWithSources, type LoadConfigOptions } from './config.js';
export { parseCfgOptions, type CfgOption } from './cfg-options.js';
export { mergeConfig, DELETE_KEY, type ConfigMap } from './merge.js';
export { toYAML, type ProvenanceEntry } from './format.js';
export { pluginImports, loadPlugins, type PluginImport, type LoadPluginsOptions } from './plugins.js';
