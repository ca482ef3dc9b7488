// SPDX-License-Identifier: Apache-2.0
// A registry factory module for registry-factory.test.ts: a registry with the engine's components only.
import { Registry } from '@solo-ts/core';
import { engineComponents } from '../../components/index.js';

export function createEngineRegistry(): Registry {
  return new Registry().load(engineComponents);
}

export const notAFunction = 1;
