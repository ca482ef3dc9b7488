// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/testing: test backends and contract test suites for solo-ts components (used by the project and by
 * plugin authors with vitest). See docs/plugins.md.
 *
 * - `describeMaskHeadContract`, `describeLossContract`, `describeBackboneContract`, `describeNeckContract`,
 *   `describeDetectorContract`, `describeComponentConfigRoundTrip`: one component, one `describe` block.
 * - `describeRegistryContracts(registry, {specs, filter})`: every registered component, by kind.
 * - The same checks as plain functions (`maskHeadChecks(...)` -> `[{name, run}]`) for other runners.
 * - Helpers: `setupTestBackend`, `expectNoLeaks`, `checkGradients`, `gradientReport`, `makeSample`, `featurePyramid`.
 */
export const PACKAGE_NAME = '@solo-ts/testing';
export { setupTestBackend, webgpuTestSkipReason, type TestBackendName } from './backend.js';
export { countDeviceReads } from './device-reads.js';
export { ContractViolation, expectNoLeaks } from './tensors.js';
export {
  emptySample,
  featurePyramid,
  makeSample,
  manyInstancesSample,
  oneInstanceSample,
  type MakeSampleOptions,
  type SampleInstance,
} from './samples.js';
export { checkGradients, gradientReport, type GradientCheckOptions, type GradientReport } from './gradients.js';
export type { ContractCheck, ContractKind, ContractSpec, Factory, YamlOptions } from './contracts/types.js';
export { maskHeadChecks, type MaskHeadContractOptions } from './contracts/mask-head.js';
export { lossChecks, type LossContractOptions } from './contracts/loss.js';
export { backboneChecks, neckChecks, type BackboneContractOptions, type NeckContractOptions } from './contracts/backbone-neck.js';
export { detectorChecks, type DetectorContractOptions, type DetectorLike } from './contracts/detector.js';
export { configChecks, type ConfigContractOptions } from './contracts/config.js';
export type { RegistrySweepOptions } from './contracts/registry.js';
export {
  describeBackboneContract,
  describeComponentConfigRoundTrip,
  describeDetectorContract,
  describeLossContract,
  describeMaskHeadContract,
  describeNeckContract,
  describeRegistryContracts,
  type DescribeOptions,
} from './contracts/describe.js';
