// SPDX-License-Identifier: Apache-2.0
/**
 * `createDefaultRegistry(extraModules)`: a Registry with every solo-ts package's components (backbones, necks,
 * heads, losses, assigners, post-processing, datasets and transforms, detectors, the COCO metric) plus the
 * engine's own (SGD, schedulers, hooks, loops, visualizers), then `extraModules` (plugins).
 *
 * Each package exports its `ComponentModule`; the modules are found by shape on the package namespaces, so a
 * package that adds one is picked up without touching this file.
 *
 * `defaultRegistryFactory` hands the same function to the training engine (`buildRunnerFromConfig`), whose
 * data-parallel worker threads import it from this package by name.
 */
import * as assigners from '@solo-ts/assigners';
import * as backbones from '@solo-ts/backbones';
import * as datasets from '@solo-ts/datasets';
import * as detectors from '@solo-ts/detectors';
import * as evaluation from '@solo-ts/evaluation';
import * as heads from '@solo-ts/heads';
import * as losses from '@solo-ts/losses';
import * as necks from '@solo-ts/necks';
import * as postprocess from '@solo-ts/postprocess';
import { ComponentModule, Registry } from '@solo-ts/core';
import { componentModulesIn, engineComponents, type RegistryFactory } from '@solo-ts/engine';

/** `CocoMetric` under scope `metrics`, for as long as @solo-ts/evaluation exports no module of its own. */
const metricsFallback = new ComponentModule('@solo-ts/evaluation', [{ scope: 'metrics', component: evaluation.CocoMetric }]);

/** The component modules of the solo-ts packages, in dependency order. */
export function defaultComponentModules(): ComponentModule[] {
  return [backbones, necks, losses, assigners, postprocess, heads, detectors, datasets, evaluation].flatMap((ns) => componentModulesIn(ns));
}

/** A registry with every solo-ts component and the engine's, then `extraModules` (plugins, tests). */
export function createDefaultRegistry(extraModules: readonly ComponentModule[] = []): Registry {
  const registry = new Registry();
  registry.load(...defaultComponentModules(), engineComponents);
  if (!registry.has('metrics', 'CocoMetric')) registry.load(metricsFallback);
  registry.load(...extraModules);
  return registry;
}

/** `createDefaultRegistry` for the training engine: its data-parallel workers import it from @solo-ts/apis. */
export const defaultRegistryFactory: RegistryFactory = { module: '@solo-ts/apis', exportName: 'createDefaultRegistry', create: createDefaultRegistry };
