// SPDX-License-Identifier: Apache-2.0
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, SoloError } from '@solo-ts/core';
import { loadConfig } from '@solo-ts/config';
import { describe, expect, it } from 'vitest';
import { loadConfigPlugins } from './plugins.js';

const fx = (f: string): string => path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__', f);

describe('loadConfigPlugins', () => {
  it('imports the plugins of a config and loads their component modules into the registry', async () => {
    const registry = new Registry();
    expect(registry.has('models', 'acme.AcmeLoss')).toBe(false);
    const names = await loadConfigPlugins(loadConfig(fx('plugins.yaml')), registry);
    expect(names).toEqual(['./acme-plugin.js']);
    expect(registry.has('models', 'acme.AcmeLoss')).toBe(true);
  });

  it('a module without a ComponentModule is an error at the config line', async () => {
    const err = await loadConfigPlugins(loadConfig(fx('bad-plugin.yaml')), new Registry()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SoloError);
    expect((err as SoloError).message).toContain('plugin `./not-a-plugin.js` exports no ComponentModule');
    expect((err as SoloError).location).toMatchObject({ line: 1, key: 'plugins.0' });
  });
});
