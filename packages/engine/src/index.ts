// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/engine: the training engine (mmengine's runner side). Optimizers (SGD, Adam, AdamW) and parameter
 * schedulers, the optim wrapper, the runner with its hooks and loops, logs (JSONL + TensorBoard + PNG plots),
 * building a run from a config (`buildRunnerFromConfig`, the registry handed in by the caller), evaluation during
 * training, and data-parallel training. See docs/training.md.
 *
 * Knows no component package: the registry (or a factory of it, e.g. `defaultRegistryFactory` of @solo-ts/apis)
 * comes from the caller. Backends come from @solo-ts/backends.
 */
export const PACKAGE_NAME = '@solo-ts/engine';

// optimizers and parameter schedulers
export { isOptimizer, type Optimizer, type OptimizerStateRecord, type ParamGroupMult } from './optim/optimizer.js';
export { SGD, clipGradNorm, type SGDOptions } from './optim/sgd.js';
export { Adam, AdamW, type AdamOptions } from './optim/adam.js';
export {
  ConstantLR, CosineAnnealingLR, LinearLR, MultiStepLR, StepLR, lrAt, type LrScheduler, type SchedulerPosition,
} from './optim/schedulers.js';

// logs
export { TensorBoardWriter, readScalarEvents } from './logging/tensorboard.js';
export { ScalarLog, readScalarLog } from './logging/scalar-log.js';
export { readLogSeries, resolveLogFile, type SeriesMap } from './logging/log-series.js';
export { lineChartSvg, smooth, writeLineChartPng, type Series } from './logging/plot.js';

// the runner
export type { DataBatch, EpochLoader, LogRecord, ParallelStepper, RunnerState, TrainableDetector } from './runner/types.js';
export {
  NonFiniteLossError, applyGradients, computeGradients, trainStep, type GradientResult, type StepOptions, type StepResult,
} from './runner/train-step.js';
export { loadRunCheckpoint, saveRunCheckpoint, type LoadedRun, type RunMeta } from './runner/checkpointing.js';
export {
  HOOK_POINTS, PRIORITY, isHook, priorityOf, sortHooks,
  type CheckpointInfo, type Hook, type HookPoint, type HookPriority, type PriorityName, type TrainIterOutputs,
} from './runner/hooks.js';
export { DEFAULT_NUM_DIGITS } from './runner/format.js';
export { evaluateModel, type EvaluateOptions, type EvaluateResult } from './runner/evaluate.js';
export { Runner } from './runner/runner.js';
export type { RunnerOptions, RunnerSettings, SaveOptions, TrainSummary } from './runner/runner-options.js';
export type { StopReason } from './runner/train-loop.js';

// the engine's components (registry scopes optimizers, optim_wrappers, schedulers, hooks, loops, visualizers)
export {
  CheckInvalidLossHook, CheckpointHook, DEFAULT_HOOK_TYPES, DetVisualizationHook, DistSamplerSeedHook, ENGINE_PACKAGE,
  EpochBasedTrainLoop, HOOK_COMPONENTS, IterBasedTrainLoop, IterTimerHook, LoggerHook, LogProcessor, LocalVisBackend,
  NanGuardHook, OptimWrapper, ParamSchedulerHook, ProgressBarHook, RuntimeInfoHook, TensorboardVisBackend, TestLoop,
  ValLoop, ValidationHook, DetLocalVisualizer, engineComponents, paramMultipliers,
  type CheckpointHookOptions, type LogProcessorOptions, type LoggerHookOptions, type NanAction, type ParamwiseCfg,
  type TrainLoopSettings, type ValidationSchedule,
} from './components/index.js';

// building a run from a config
export {
  componentModulesIn, isRegistryFactory, type RegistryFactory, type RegistryFactoryRef,
} from './build/registry-factory.js';
export {
  buildRunnerFromConfig, loadConfigPluginsInto, loadPluginImportsInto, resolveWorkDir, validateTrainingConfig,
  type BuildRunnerOptions, type BuiltRun, type PluginTarget,
} from './build/build-runner.js';
export { withSeededRandom } from './build/seed.js';
export { LoaderAdapter } from './build/loader.js';
export { CocoEvaluator, buildEvaluator, type BuildEvaluatorOptions, type Evaluator } from './build/evaluator.js';
export {
  buildModel, checkClasses, configSeed, isTrainableDetector, loadWeights, modelNumClasses,
  type BuildModelOptions, type LoadWeightsResult,
} from './build/model.js';
export { buildOptimizer, buildSchedulers, type BuiltOptimizer } from './build/optim.js';
export { loadPretrainedWeights, resolvePretrained } from './build/pretrained.js';

// data-parallel training
export {
  DATA_PARALLEL_BACKENDS, DataParallelTrainer, autoWorkers, parseWorkers, threadsPerWorker, type DataParallelOptions,
} from './parallel/data-parallel.js';
export { orderedSum, type BroadcastBuffer, type Collective, type ReduceBuffer, type ReduceOp, type ReduceOptions } from './parallel/collective.js';
export { SharedMemoryCollective, makeSharedMemoryGroup, type SharedMemoryGroup } from './parallel/shared-memory.js';
export { MpiCollective, localRankFromEnv } from './parallel/mpi.js';
export { syncGradients, type GradSyncOptions, type GradSyncResult } from './parallel/grad-sync.js';
export {
  DistributedDataParallel, LAUNCHERS, initDistributed, launchedByMpi, parseLauncher, type DistributedOptions, type Launcher,
} from './parallel/distributed.js';
