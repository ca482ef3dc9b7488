// SPDX-License-Identifier: Apache-2.0
/**
 * Where the engine's registry comes from: a registry factory is imported by module + export name (what a
 * data-parallel worker does), component modules are found by shape, and `buildRunnerFromConfig` refuses what cannot
 * reach its worker threads before building anything.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComponentModule, Registry, isSoloError } from '@solo-ts/core';
import { Config } from '@solo-ts/config';
import { setupTestBackend } from '@solo-ts/testing';
import { engineComponents } from '../components/index.js';
import { buildRunnerFromConfig } from './build-runner.js';
import { componentModulesIn, importRegistryFactory, isRegistryFactory, type RegistryFactory } from './registry-factory.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'engine-registry.ts');

beforeAll(async () => {
  await setupTestBackend('cpu');
});

describe('registry factories', () => {
  it('imports the factory a module exports, by absolute path or file URL', async () => {
    for (const module of [fixture, pathToFileURL(fixture).href]) {
      const create = await importRegistryFactory({ module, exportName: 'createEngineRegistry' });
      const r = create();
      expect(r.has('optimizers', 'SGD')).toBe(true);
      expect(r.has('models', 'SOLOv2')).toBe(false);
    }
  });

  it('names the module and the export when either is wrong', async () => {
    const err1 = await importRegistryFactory({ module: fixture, exportName: 'notAFunction' }).catch((e: unknown) => e);
    expect(isSoloError(err1)).toBe(true);
    expect((err1 as Error).message).toMatch(/engine-registry\.ts exports no function `notAFunction`/);
    const err2 = await importRegistryFactory({ module: '@solo-ts/no-such-package', exportName: 'f' }).catch((e: unknown) => e);
    expect(isSoloError(err2)).toBe(true);
    expect((err2 as Error).message).toMatch(/cannot import the registry factory module @solo-ts\/no-such-package/);
  });

  it('finds component modules by shape and tells factories from registries', () => {
    const other = new ComponentModule('x', []);
    expect(componentModulesIn({ engineComponents, other, again: other, n: 1, s: 'x' })).toEqual([engineComponents, other]);
    expect(componentModulesIn(null)).toEqual([]);
    const factory: RegistryFactory = { module: fixture, exportName: 'createEngineRegistry', create: () => new Registry() };
    expect(isRegistryFactory(factory)).toBe(true);
    expect(isRegistryFactory(new Registry())).toBe(false);
  });

  it('buildRunnerFromConfig needs a registry, and a factory for data-parallel workers', async () => {
    const config = new Config({}, 'empty.yaml');
    const none = await buildRunnerFromConfig(config, { backend: null } as never).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/needs a registry/);
    const instance = await buildRunnerFromConfig(config, { backend: null, registry: new Registry(), workers: 2 }).catch((e: unknown) => e);
    expect(isSoloError(instance)).toBe(true);
    expect((instance as Error).message).toMatch(/data-parallel workers build their model from a registry factory/);
  });
});
