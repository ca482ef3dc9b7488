// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/config: YAML configs with mmdetection semantics (`_base_` inheritance, `--cfg-options`, key
 * provenance), see docs/configs.md.
 */
export const PACKAGE_NAME = '@solo-ts/config';

export { Config, loadConfig, configFromYAML, formatConfigWithSources, type LoadConfigOptions } from './config.js';
export {
  parseCfgOptions,
  parseCfgValue,
  applyCfgOptions,
  CFG_OPTIONS_SOURCE,
  type CfgOption,
} from './cfg-options.js';
export { mergeConfig, stripDeleteKeys, assignPaths, isMapping, typeChanged, DELETE_KEY, type ConfigMap } from './merge.js';
export { KNOWN_TOP_LEVEL_KEYS, LEGACY_KEYS, validateTopLevelKeys } from './keys.js';
export { toYAML, toYAMLWithSources, provenance, provenanceTable, shortLocation, type ProvenanceEntry } from './format.js';
export {
  resolveBaseRef,
  shippedConfigsDir,
  findPackageDir,
  displayPath,
  SHIPPED_CONFIGS_PACKAGE,
  type BaseRef,
} from './resolve.js';
export { parseYamlConfig, type ParsedYaml } from './yaml-source.js';
export {
  pluginImports,
  resolvePluginImports,
  loadPlugins,
  type PluginImport,
  type LoadPluginsOptions,
} from './plugins.js';
