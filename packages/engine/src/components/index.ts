// SPDX-License-Identifier: Apache-2.0
/**
 * The engine's component module: optimizer, optim wrapper, parameter schedulers, hooks, loops, visualizers
 * (`engineComponents`), so that mmdetection configs validate key by key through the registry.
 */
import { ComponentModule, component } from '@solo-ts/core';
import { SGD } from '../optim/sgd.js';
import { Adam, AdamW } from '../optim/adam.js';
import { ConstantLR, CosineAnnealingLR, LinearLR, MultiStepLR, StepLR } from '../optim/schedulers.js';
import { HOOK_REGISTRATIONS } from './hooks/index.js';
import { EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop } from './loops.js';
import { OptimWrapper } from './optim-wrapper.js';
import { DetLocalVisualizer, LocalVisBackend, LogProcessor, TensorboardVisBackend } from './visualizers.js';

export const ENGINE_PACKAGE = '@solo-ts/engine';

// One `component(scope, C)` per class: each checks at compile time that C's constructor takes the options its
// own declaration resolves to.
const registrations = [
  component('optimizers', SGD),
  component('optimizers', Adam),
  component('optimizers', AdamW),
  component('optim_wrappers', OptimWrapper),
  component('schedulers', LinearLR),
  component('schedulers', MultiStepLR),
  component('schedulers', StepLR),
  component('schedulers', ConstantLR),
  component('schedulers', CosineAnnealingLR),
  ...HOOK_REGISTRATIONS,
  component('loops', EpochBasedTrainLoop),
  component('loops', IterBasedTrainLoop),
  component('loops', ValLoop),
  component('loops', TestLoop),
  component('visualizers', DetLocalVisualizer),
  component('visualizers', LocalVisBackend),
  component('visualizers', TensorboardVisBackend),
  component('visualizers', LogProcessor),
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
