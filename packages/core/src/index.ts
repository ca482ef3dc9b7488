// SPDX-License-Identifier: Apache-2.0
// The public API of @solo-ts/core, by name.
export {
  SoloError,
  ConfigError,
  RegistryError,
  CheckpointError,
  ShapeError,
  DatasetError,
  isSoloError,
  closestNames,
  formatLocation,
  type SoloErrorCode,
  type SoloErrorOptions,
  type SourceLocation,
} from './errors.js';
export { setConfigSource, getConfigSource, locationOf, copyConfigSource, cloneConfig, type ConfigNodeSource } from './config-source.js';
export {
  defineOptions,
  typed,
  resolveOptions,
  snakeToCamel,
  isOptionName,
  checkValue,
  declarationProblems,
  isDeclaredOptions,
  type OptionType,
  type OptionSpec,
  type OptionSpecs,
  type ItemSpec,
  type ComponentConfig,
  type DeclaredOption,
  type DeclaredOptions,
  type ResolvedOptions,
  type OptionsInput,
  type SpecValue,
  type CamelCase,
  type OptionProblem,
} from './options.js';
export {
  SCOPES,
  Registry,
  ComponentModule,
  component,
  type Scope,
  type BuildContext,
  type ComponentClass,
  type ComponentFactory,
  type Component,
  type ComponentRegistration,
  type RegistryEntry,
} from './registry.js';
export {
  Module,
  Parameter,
  toTorchLayout,
  fromTorchLayout,
  formatLoadProblems,
  type TorchLayout,
  type TensorRecord,
  type LoadReport,
  type LoadOptions,
} from './module.js';
export { emptyMasks, emptyInstances, padBitmapMasks, maskAt, numInstances, type ArrayTensor, type BitmapMasks, type InstanceData, type DetMeta, type DetDataSample, type FeatureSpec } from './structures.js';
export type {
  Backbone,
  Neck,
  Loss,
  LossCallOptions,
  MaskHead,
  MaskHeadRawOutputs,
  Metric,
  Transform,
  RandomSource,
  GridAssignInput,
  GridAssigner,
  GridLevelTargets,
  SoloTestCfg,
  MaskCandidates,
  MaskPostProcessor,
} from './contracts.js';
export { SeededRandom } from './random.js';
export { Progress, createProgress, formatDuration, type ProgressOptions } from './progress.js';
