// SPDX-License-Identifier: Apache-2.0
/**
 * The registry sweep over every solo-ts component: option checks for every scope, and the behaviour suite of
 * each model's kind (backbone, neck, mask head, loss, detector). A newly registered model without a contract
 * spec fails here with a message saying what to add (see ./specs.ts and docs/plugins.md).
 */
import { createDefaultRegistry } from '@solo-ts/apis';
import { describeRegistryContracts } from '@solo-ts/testing';
import { PROJECT_SPECS } from './specs.js';

await describeRegistryContracts(createDefaultRegistry(), { specs: PROJECT_SPECS, backend: (process.env.SOLO_CONTRACT_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
