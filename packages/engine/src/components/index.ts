// SPDX-License-Identifier: Apache-2.0
/**
 * The engine's component module: optimizer, optim wrapper, parameter schedulers, hooks, loops, visualizers
 * (`engineComponents`), so that mmdetection configs validate key by key through the registry.
 */
import { ComponentModule, type ComponentRegistration } from '@solo-ts/core';
import { SGD } from '../optim/sgd.js';
import { Adam, AdamW } from '../optim/adam.js';
import { ConstantLR, CosineAnnealingLR, LinearLR, MultiStepLR, StepLR } from '../optim/schedulers.js';
import { HOOK_COMPONENTS } from './hooks/index.js';
import { EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop } from './loops.js';
import { OptimWrapper } from './optim-wrapper.js';
import { DetLocalVisualizer, LocalVisBackend, LogProcessor, TensorboardVisBackend } from './visualizers.js';

export const ENGINE_PACKAGE = '@solo-ts/engine';

const registrations: ComponentRegistration[] = [
  { scope: 'optimizers', component: SGD },
  { scope: 'optimizers', component: Adam },
  { scope: 'optimizers', component: AdamW },
  { scope: 'optim_wrappers', component: OptimWrapper },
  ...[LinearLR, MultiStepLR, StepLR, ConstantLR, CosineAnnealingLR].map((c) => ({ scope: 'schedulers' as const, component: c })),
  ...HOOK_COMPONENTS.map((c) => ({ scope: 'hooks' as const, component: c })),
  ...[EpochBasedTrainLoop, IterBasedTrainLoop, ValLoop, TestLoop].map((c) => ({ scope: 'loops' as const, component: c })),
  ...[DetLocalVisualizer, LocalVisBackend, TensorboardVisBackend, LogProcessor].map((c) => ({ scope: 'visualizers' as const, component: c })),
];

/** Optimizer, schedulers, hooks, loops, visualizers (load into a Registry). */
export const engineComponents = new ComponentModule(ENGINE_PACKAGE, registrations);

export {
  CheckInvalidLossHook, CheckpointHook, DEFAULT_HOOK_TYPES, DetVisualizationHook, DistSamplerSeedHook, HOOK_COMPONENTS, IterTimerHook,
  LoggerHook, NanGuardHook, ParamSchedulerHook, ProgressBarHook, RuntimeInfoHook, ValidationHook,
  type CheckpointHookOptions, type LoggerHookOptions, type NanAction, type ValidationSchedule,
} from './hooks/index.js';
export { EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop, type TrainLoopSettings } from './loops.js';
export { OptimWrapper, paramMultipliers, type ParamwiseCfg } from './optim-wrapper.js';
export { DetLocalVisualizer, LocalVisBackend, LogProcessor, TensorboardVisBackend, type LogProcessorOptions } from './visualizers.js';
