// SPDX-License-Identifier: Apache-2.0
/**
 * The hook components (registry scope `hooks`): what `default_hooks` and `custom_hooks` of a config build. Each is
 * a real hook object (`Hook`, runner/hooks.ts) whose options are declared once, on the class (defaults included).
 */
import { component, type ComponentRegistration } from '@solo-ts/core';
import { CheckpointHook } from './checkpoint-hook.js';
import { CheckInvalidLossHook, NanGuardHook } from './guard-hooks.js';
import { LoggerHook } from './logger-hook.js';
import { DetVisualizationHook, DistSamplerSeedHook, IterTimerHook, ParamSchedulerHook, RuntimeInfoHook } from './runtime-hooks.js';

export { CheckpointHook, checkpointHookOptions, type CheckpointHookOptions } from './checkpoint-hook.js';
export { CheckInvalidLossHook, checkInvalidLossHookOptions, NanGuardHook, nanGuardHookOptions, NonFiniteLossGuard, type NanAction, type NanGuardHookOptions } from './guard-hooks.js';
export { LoggerHook, loggerHookOptions, type LoggerHookOptions } from './logger-hook.js';
export { ProgressBarHook, ValidationHook, type ValidationSchedule } from './loop-hooks.js';
export { DetVisualizationHook, DistSamplerSeedHook, IterTimerHook, ParamSchedulerHook, RuntimeInfoHook } from './runtime-hooks.js';

/** The registrations of the hook components (each constructor checked against its declaration). */
export const HOOK_REGISTRATIONS: readonly ComponentRegistration[] = [
  component('hooks', IterTimerHook),
  component('hooks', LoggerHook),
  component('hooks', ParamSchedulerHook),
  component('hooks', CheckpointHook),
  component('hooks', DistSamplerSeedHook),
  component('hooks', RuntimeInfoHook),
  component('hooks', DetVisualizationHook),
  component('hooks', NanGuardHook),
  component('hooks', CheckInvalidLossHook),
];

/** Every registered hook component. */
export const HOOK_COMPONENTS = HOOK_REGISTRATIONS.map((r) => r.component);

/**
 * mmengine's default hooks (`Runner.register_default_hooks`), by `default_hooks` key: a key the config leaves out
 * gets the hook with its declared defaults; a key set to null removes that hook. `nan_guard` is solo-ts's.
 */
export const DEFAULT_HOOK_TYPES: Readonly<Record<string, string>> = {
  runtime_info: 'RuntimeInfoHook',
  timer: 'IterTimerHook',
  sampler_seed: 'DistSamplerSeedHook',
  logger: 'LoggerHook',
  param_scheduler: 'ParamSchedulerHook',
  checkpoint: 'CheckpointHook',
  nan_guard: 'NanGuardHook',
};
