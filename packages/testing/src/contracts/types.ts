// SPDX-License-Identifier: Apache-2.0
/**
 * Contract specs: how the registry sweep (`describeRegistryContracts`) builds and exercises a component.
 *
 * A component declares one as a static field, next to `type` and `options`:
 *
 * ```ts
 * export class BoundaryHead extends SOLOV2Head {
 *   static override readonly type = 'acme.BoundaryHead';
 *   static readonly contract: ContractSpec = {
 *     kind: 'mask_head',
 *     config: { num_classes: 3, in_channels: 8, feat_channels: 8, stacked_convs: 1, ... },
 *   };
 * }
 * ```
 *
 * or a project passes a map `scope:key -> spec` to the sweep (solo-ts keeps the specs of its own components in
 * `test/contracts/specs.ts`). A spec found in the map wins over the static field.
 */
import type { BackboneContractOptions, NeckContractOptions } from './backbone-neck.js';
import type { DetectorContractOptions } from './detector.js';
import type { LossContractOptions } from './loss.js';
import type { MaskHeadContractOptions } from './mask-head.js';

/**
 * What a component is, which decides the suite it gets:
 * - `backbone`: `forward(x: [B, H, W, 3]) -> levels`, `outFeatures`;
 * - `neck`: `forward(levels) -> levels`, `outFeatures`;
 * - `mask_head`: `forward(levels)`, `loss(levels, samples)`, `predict(levels, samples)`;
 * - `loss`: `forward(pred, target, {weight, avgFactor, reductionOverride})`, `lossWeight`;
 * - `detector`: `preprocess`, `extractFeat`, `loss`, `predict`;
 * - `config`: only the option checks (task utilities, transforms, hooks, ...).
 */
export type ContractKind = 'backbone' | 'neck' | 'mask_head' | 'loss' | 'detector' | 'config';

/** A component config in the YAML spelling (snake_case), without `type`. */
export type YamlOptions = Record<string, unknown>;

export interface ContractSpec {
  /** The suite to apply; when absent it is detected from the built instance (see `detectKind`). */
  kind?: ContractKind;
  /** Options of a small instance (YAML spelling, without `type`). Required options must be here. */
  config?: YamlOptions;
  /** Options the caller of `build` supplies (camelCase, like the registry's `extra`), e.g. `{inChannels: 8}`. */
  extra?: Record<string, unknown>;
  /** The component cannot be built in a unit test (needs files, a runner, ...): say why; option checks still run. */
  skipBuild?: string;
  /** Why the component is exempt from its kind's behaviour suite (option checks still run). */
  skipBehaviour?: string;
  /** Settings of the kind's suite (everything but `build`). */
  backbone?: Partial<Omit<BackboneContractOptions, 'build'>>;
  neck?: Partial<Omit<NeckContractOptions, 'build'>>;
  maskHead?: Partial<Omit<MaskHeadContractOptions, 'build'>>;
  loss?: Partial<Omit<LossContractOptions, 'build'>>;
  detector?: Partial<Omit<DetectorContractOptions, 'build'>>;
}

/** A named check; the `describe*` helpers turn each into one `it`. */
export interface ContractCheck {
  name: string;
  run: () => void | Promise<void>;
}

/** Builds a fresh instance; `overrides` (YAML spelling) are merged over the base config, a nested map replaces. */
export type Factory<T> = (overrides?: YamlOptions) => T;
