// SPDX-License-Identifier: Apache-2.0
/**
 * Contract test suites for solo-ts components, for the project and for plugin authors (vitest).
 *
 * - `describeMaskHeadContract`, `describeLossContract`, `describeBackboneContract`, `describeNeckContract`,
 *   `describeDetectorContract`, `describeComponentConfigRoundTrip`: one component, one `describe` block.
 * - `describeRegistryContracts(registry, {specs, filter})`: every registered component, by kind.
 * - The same checks as plain functions (`maskHeadChecks(...)` -> `[{name, run}]`) for other runners.
 * - Helpers: `setupTestBackend`, `expectNoLeaks`, `checkGradients`, `makeSample`, `featurePyramid`, ...
 */
export type { ContractCheck, ContractKind, ContractSpec, Factory, YamlOptions } from './types.js';
export { SOLO_TEST_CFG, maskHeadChecks, type MaskHeadContractOptions } from './mask-head.js';
export { lossChecks, type LossContractOptions } from './loss.js';
export { backboneChecks, neckChecks, type BackboneContractOptions, type NeckContractOptions } from './backbone-neck.js';
export { detectorChecks, type DetectorContractOptions, type DetectorLike } from './detector.js';
export { configChecks, UNKNOWN_OPTION_PROBE, type ConfigContractOptions } from './config.js';
export { checkInstances, checkNhwcOutputs, checkStateDictRoundTrip, mergeOptions, expectThrows } from './common.js';
export { behaviourChecks, detectKind, planRegistrySweep, staticContract, type RegistrySweepOptions, type SweepItem } from './registry.js';
export {
  describeBackboneContract,
  describeComponentConfigRoundTrip,
  describeDetectorContract,
  describeLossContract,
  describeMaskHeadContract,
  describeNeckContract,
  describeRegistryContracts,
  runCheck,
  type DescribeOptions,
} from './describe.js';
