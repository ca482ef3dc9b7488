// SPDX-License-Identifier: Apache-2.0
/**
 * vitest wrappers: each contract becomes a `describe` block with one `it` per check. Every check also asserts
 * that it leaves no tensor behind (building, exercising and disposing the component included).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import type { Registry, Scope } from '@solo-ts/core';
import { setupTestBackend, type TestBackendName } from '../backend.js';
import { ContractViolation } from '../tensors.js';
import { backboneChecks, neckChecks, type BackboneContractOptions, type NeckContractOptions } from './backbone-neck.js';
import { configChecks, type ConfigContractOptions } from './config.js';
import { detectorChecks, type DetectorContractOptions } from './detector.js';
import { lossChecks, type LossContractOptions } from './loss.js';
import { maskHeadChecks, type MaskHeadContractOptions } from './mask-head.js';
import { planRegistrySweep, type RegistrySweepOptions } from './registry.js';
import type { ContractCheck } from './types.js';

/** Options every `describe*Contract` takes. */
export interface DescribeOptions {
  /** tfjs backend of the block (default `cpu`, the reference; `wasm` is faster for convolutions). */
  backend?: TestBackendName;
  /** Timeout of each check in ms (default vitest's). */
  timeout?: number;
}

/** Run one check and verify the tensor count is unchanged afterwards. */
export async function runCheck(c: ContractCheck): Promise<void> {
  const before = tf.memory().numTensors;
  await c.run();
  const after = tf.memory().numTensors;
  if (after !== before) throw new ContractViolation(`${c.name}: ${after - before} tensors left alive (building, using and disposing the component must leave none)`);
}

function declare(checks: ContractCheck[], o: DescribeOptions): void {
  beforeAll(() => setupTestBackend(o.backend ?? 'cpu'));
  for (const c of checks) it(c.name, () => runCheck(c), o.timeout);
}

export function describeMaskHeadContract(name: string, options: MaskHeadContractOptions & DescribeOptions): void {
  describe(`${name} (mask head contract)`, () => declare(maskHeadChecks(options), options));
}

export function describeLossContract(name: string, options: LossContractOptions & DescribeOptions): void {
  describe(`${name} (loss contract)`, () => declare(lossChecks(options), options));
}

export function describeBackboneContract(name: string, options: BackboneContractOptions & DescribeOptions): void {
  describe(`${name} (backbone contract)`, () => declare(backboneChecks(options), options));
}

export function describeNeckContract(name: string, options: NeckContractOptions & DescribeOptions): void {
  describe(`${name} (neck contract)`, () => declare(neckChecks(options), options));
}

export function describeDetectorContract(name: string, options: DetectorContractOptions & DescribeOptions): void {
  describe(`${name} (detector contract)`, () => declare(detectorChecks(options), options));
}

/** Option declarations, building from an example config and unknown-key errors of one registered component. */
export function describeComponentConfigRoundTrip(registry: Registry, scope: Scope, key: string, options: Omit<ConfigContractOptions, 'registry' | 'scope' | 'key'> & DescribeOptions = {}): void {
  describe(`${scope}:${key} (config contract)`, () => declare(configChecks({ ...options, registry, scope, key }), options));
}

/**
 * The registry sweep as vitest blocks: one `describe` per registered component (`scope:key [kind]`). Async:
 * it selects the backend and builds each model once to detect its kind, so call it with top-level `await`:
 *
 * ```ts
 * const registry = createDefaultRegistry([acmeComponents]);
 * await describeRegistryContracts(registry, { filter: (e) => e.package === 'acme-solo' });
 * ```
 */
export async function describeRegistryContracts(registry: Registry, options: RegistrySweepOptions & DescribeOptions = {}): Promise<void> {
  await setupTestBackend(options.backend ?? 'cpu');
  const items = planRegistrySweep(registry, options);
  if (items.length === 0) {
    describe('registry contracts', () => it('finds components to test', () => {
      throw new ContractViolation('the registry sweep selected no component (check `scopes` / `filter`)');
    }));
    return;
  }
  for (const item of items) {
    describe(`${item.entry.scope}:${item.entry.key} [${item.kind}] (${item.entry.package})`, () => declare(item.checks, options));
  }
}
