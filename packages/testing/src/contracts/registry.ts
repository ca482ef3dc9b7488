// SPDX-License-Identifier: Apache-2.0
/**
 * The registry sweep: every component registered in a `Registry` gets the option checks, and every model the
 * behaviour suite of its kind, so a newly registered component is under test without anyone writing a test.
 *
 * Per component the sweep needs a `ContractSpec` (a small buildable config, and the kind when detection is not
 * enough): from the `specs` map (`'models:SOLOV2Head' -> spec`), else the component's static `contract`. In scope
 * `models` a component without a spec fails with a message saying what to declare. The kind, when the spec
 * gives none, is detected from the built instance (`detectKind`).
 */
import type { Component, Registry, RegistryEntry, Scope } from '@solo-ts/core';
import { SCOPES } from '@solo-ts/core';
import type * as tf from '@tensorflow/tfjs-core';
import { backboneChecks, neckChecks } from './backbone-neck.js';
import { disposeComponent, mergeOptions } from './common.js';
import { configChecks } from './config.js';
import { detectorChecks, type DetectorLike } from './detector.js';
import { lossChecks } from './loss.js';
import { maskHeadChecks } from './mask-head.js';
import type { ContractCheck, ContractKind, ContractSpec, YamlOptions } from './types.js';
import { ContractViolation, seededNormal, seededUniform } from '../tensors.js';

/** Detect a component's kind from what a built instance implements. */
export function detectKind(instance: unknown): ContractKind {
  const o = instance as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') return 'config';
  const fn = (k: string) => typeof o[k] === 'function';
  if (fn('extractFeat') && fn('loss') && fn('predict')) return 'detector';
  if (fn('forward') && fn('loss') && fn('predict')) return 'mask_head';
  if (fn('forward') && typeof o.lossWeight === 'number') return 'loss';
  if (fn('forward') && Array.isArray(o.outFeatures)) return Array.isArray(o.inChannels) ? 'neck' : 'backbone';
  return 'config';
}

/** The static `contract` of a component, if it declares one. */
export function staticContract(component: Component): ContractSpec | undefined {
  const c = (component as { contract?: unknown }).contract;
  return c && typeof c === 'object' ? (c as ContractSpec) : undefined;
}

export interface RegistrySweepOptions {
  /** Scopes to sweep (default: all). */
  scopes?: readonly Scope[];
  /** Specs by `scope:key`; they win over static `contract` fields. */
  specs?: Record<string, ContractSpec>;
  /** Restrict the sweep (e.g. to one plugin's package: `(e) => e.package === 'acme-solo'`). */
  filter?: (entry: RegistryEntry) => boolean;
}

/** One component's planned suite. */
export interface SweepItem {
  entry: RegistryEntry;
  spec: ContractSpec | undefined;
  kind: ContractKind;
  checks: ContractCheck[];
}

/** Checks of a kind, built from the spec and the (already built) instance. */
export function behaviourChecks(registry: Registry, entry: RegistryEntry, spec: ContractSpec, kind: ContractKind, instance: unknown): ContractCheck[] {
  const base: YamlOptions = { type: entry.key, ...spec.config };
  const path = `contract.${entry.key}`;
  const build = <T>(overrides?: YamlOptions): T => registry.build<T>(entry.scope, mergeOptions(base, overrides), path, spec.extra);
  const inst = instance as Record<string, unknown>;
  switch (kind) {
    case 'mask_head': {
      const inChannels = spec.maskHead?.inChannels ?? (inst.inChannels as number);
      const numClasses = spec.maskHead?.numClasses ?? (inst.numClasses as number);
      if (typeof inChannels !== 'number' || typeof numClasses !== 'number') {
        return [fail('mask head suite', `${entry.key}: set contract.maskHead.inChannels and numClasses (the instance exposes no numeric inChannels / numClasses)`)];
      }
      return maskHeadChecks({ ...spec.maskHead, inChannels, numClasses, build });
    }
    case 'loss': {
      const inputs =
        spec.loss?.inputs ??
        ((n: number) => ({ pred: seededNormal([n, 16], 21), target: seededUniform([n, 16], 22) as tf.Tensor }));
      return lossChecks({ ...spec.loss, inputs, build });
    }
    case 'backbone':
      return backboneChecks({ ...spec.backbone, build });
    case 'neck': {
      const inChannels = inst.inChannels as number[];
      const inputs = spec.neck?.inputs ?? inChannels.map((channels, i) => ({ channels, stride: 4 * 2 ** i }));
      return neckChecks({ ...spec.neck, inputs, build });
    }
    case 'detector': {
      const numClasses = spec.detector?.numClasses ?? ((inst.maskHead as { numClasses?: number } | undefined)?.numClasses as number);
      if (typeof numClasses !== 'number') return [fail('detector suite', `${entry.key}: set contract.detector.numClasses`)];
      return detectorChecks({ ...spec.detector, numClasses, build: build as (o?: YamlOptions) => DetectorLike });
    }
    case 'config':
      return [];
  }
}

function fail(name: string, message: string): ContractCheck {
  return {
    name,
    run: () => {
      throw new ContractViolation(message);
    },
  };
}

/**
 * Plan the sweep: for every entry, its spec, kind and checks. Builds each model once to detect its kind (so a
 * backend must be ready: call `setupTestBackend` first) and disposes it.
 */
export function planRegistrySweep(registry: Registry, options: RegistrySweepOptions = {}): SweepItem[] {
  const scopes = options.scopes ?? SCOPES;
  const items: SweepItem[] = [];
  for (const entry of registry.list()) {
    if (!scopes.includes(entry.scope)) continue;
    if (options.filter && !options.filter(entry)) continue;
    const spec = options.specs?.[`${entry.scope}:${entry.key}`] ?? staticContract(entry.component);
    const checks = configChecks({ registry, scope: entry.scope, key: entry.key, config: spec?.config, extra: spec?.extra, skipBuild: spec?.skipBuild });
    let kind: ContractKind = spec?.kind ?? 'config';
    if (entry.scope === 'models') {
      if (!spec) {
        checks.push(
          fail(
            'has a contract spec',
            `models:${entry.key} (from ${entry.package}) has no contract spec: declare \`static readonly contract: ContractSpec = {kind, config: {...small buildable options}}\` on the class (see @solo-ts/testing), or add it to the spec map of the registry sweep`,
          ),
        );
      } else if (!spec.skipBuild && !spec.skipBehaviour && spec.kind !== 'config') {
        let instance: unknown;
        try {
          instance = registry.build('models', { type: entry.key, ...spec.config }, `contract.${entry.key}`, spec.extra);
          kind = spec.kind ?? detectKind(instance);
          checks.push(...behaviourChecks(registry, entry, spec, kind, instance));
        } catch (e) {
          const msg = String((e as Error)?.message ?? e);
          checks.push(fail('builds its contract config', `models:${entry.key}: building {type: ${entry.key}, ...contract.config} failed: ${msg}`));
        } finally {
          disposeComponent(instance);
        }
      }
    }
    items.push({ entry, spec, kind, checks });
  }
  return items;
}
