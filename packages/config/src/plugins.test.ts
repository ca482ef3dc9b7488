// SPDX-License-Identifier: Apache-2.0
import { ConfigError } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { configFromYAML, loadConfig } from './config.js';
import { loadPlugins, pluginImports, resolvePluginImports } from './plugins.js';
import { fx } from './__fixtures__/test-helpers.js';

describe('plugin imports', () => {
  it('lists custom_imports.imports then plugins; ./ paths resolve against the config file', () => {
    const cfg = loadConfig(fx('plugin', 'with_plugins.yaml'));
    expect(resolvePluginImports(cfg)).toEqual([fx('plugin', 'acme-plugin.js'), 'node:path']);
    const specs = pluginImports(cfg);
    expect(specs[0]).toMatchObject({ spec: './acme-plugin.js', key: 'custom_imports.imports.0', allowFailed: false });
    expect(specs[0].location).toMatchObject({ line: 2 });
    expect(specs[1]).toMatchObject({ key: 'plugins.0' });
    expect(resolvePluginImports(configFromYAML('model: {type: SOLO}\n'))).toEqual([]);
    expect(resolvePluginImports(configFromYAML('custom_imports: {imports: acme}\n'))).toEqual(['acme']);
  });

  it('rejects malformed entries with the key location', () => {
    expect(() => pluginImports(configFromYAML('custom_imports: [a]\n'))).toThrow(/`custom_imports` must be a mapping/);
    expect(() => pluginImports(configFromYAML('plugins: [3]\n'))).toThrow(/`plugins.0` must be a module name/);
    expect(() => pluginImports(configFromYAML('custom_imports: {imports: [a], allow_failed_imports: 1}\n'))).toThrow(
      /allow_failed_imports/,
    );
  });

  it('loadPlugins imports each module and passes it to the callback in order', async () => {
    const seen: [string, unknown][] = [];
    await loadPlugins(pluginImports(loadConfig(fx('plugin', 'with_plugins.yaml'))), (mod, name) => {
      seen.push([name, mod]);
    });
    expect(seen.map((s) => s[0])).toEqual(['./acme-plugin.js', 'node:path']);
    expect((seen[0][1] as { PLUGIN_NAME: string }).PLUGIN_NAME).toBe('acme-plugin');
    expect(typeof (seen[1][1] as { join: unknown }).join).toBe('function');
  });

  it('a missing plugin is a ConfigError naming the key and the package', async () => {
    const specs = pluginImports(loadConfig(fx('plugin', 'missing_plugin.yaml')));
    let loaded = 0;
    const err = await loadPlugins(specs, () => {
      loaded++;
    }).catch((e: unknown) => e);
    expect(loaded).toBe(1);
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toBe(
      'cannot import plugin `acme-solo-not-installed` (listed in `custom_imports.imports.1`): module not found',
    );
    expect(e.location).toMatchObject({ line: 4 });
    expect(e.hint).toContain('npm install acme-solo-not-installed');
  });

  it('allow_failed_imports turns a failure into a warning', async () => {
    const warnings: string[] = [];
    await loadPlugins(pluginImports(loadConfig(fx('plugin', 'allow_failed.yaml'))), () => undefined, {
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([
      'cannot import plugin `acme-solo-not-installed` (listed in `custom_imports.imports.0`): module not found',
    ]);
  });

  it('errors thrown by the load callback pass through', async () => {
    await expect(
      loadPlugins(['node:path'], () => {
        throw new ConfigError('duplicate registry key');
      }),
    ).rejects.toThrow('duplicate registry key');
  });
});
