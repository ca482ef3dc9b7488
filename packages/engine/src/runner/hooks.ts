// SPDX-License-Identifier: Apache-2.0
/**
 * The hook interface of the runner: mmengine's `Hook` points in camelCase. Everything around the training step
 * (timing, logging, learning rate, non-finite guard, progress bar, validation, checkpoints) is a hook; the
 * default ones are built from `default_hooks` (components of scope `hooks`), custom ones from `custom_hooks`, and
 * both use this interface. Hooks run in ascending `priority` (mmengine's `Priority`: 0 = HIGHEST, 50 = NORMAL,
 * 100 = LOWEST), hooks of equal priority in the order they were registered. Every method may be async.
 *
 * Points, in the order of a run (see docs/training.md, "Hooks"):
 *
 * - `afterLoadCheckpoint(runner, checkpoint)`: after a resume restored weights, optimizer and position
 * - `beforeRun`, `beforeTrain`
 * - per epoch: `beforeTrainEpoch`, then per batch `beforeTrainIter(runner, batchIdx, dataBatch)` and
 *   `afterTrainIter(runner, batchIdx, dataBatch, outputs)`, then `afterTrainEpoch` (only for a completed epoch)
 * - validation (run by the validation hook): `beforeVal`, `beforeValEpoch`, `afterValEpoch(runner, metrics)`, `afterVal`
 * - `beforeSaveCheckpoint(runner, checkpoint)`: before any checkpoint is written; may add metadata
 * - `afterTrain`, then `afterRun`, which also runs when training fails (the place to close files)
 */
import type { DataBatch } from './types.js';
import type { RunMeta } from './checkpointing.js';
import type { NonFiniteLossError } from './train-step.js';
import type { Runner } from './runner.js';

/** mmengine's `Priority` names and values. */
export const PRIORITY = {
  HIGHEST: 0,
  VERY_HIGH: 10,
  HIGH: 30,
  ABOVE_NORMAL: 40,
  NORMAL: 50,
  BELOW_NORMAL: 60,
  LOW: 70,
  VERY_LOW: 90,
  LOWEST: 100,
} as const;

export type PriorityName = keyof typeof PRIORITY;
export type HookPriority = number | PriorityName;

/** What `afterTrainIter` receives about the step that just ran. */
export interface TrainIterOutputs {
  /** loss terms and `loss`, read back from the device (empty when the step was refused) */
  losses: Record<string, number>;
  /** the learning rate of this step */
  lr: number;
  /** the total gradient norm when `clip_grad` is on */
  gradNorm?: number;
  /** milliseconds of the step's parts (`sync`: data-parallel parameter broadcast + gradient averaging) */
  timings: { preprocess: number; forwardBackward: number; optimizer: number; sync?: number };
  /**
   * Set when the loss was not finite: the update was refused. A guard hook (NanGuardHook) either throws or
   * recovers (rolls back) and sets `recovered`; if no hook recovers, the loop throws the error after the hooks.
   * Hooks that record the iteration skip it.
   */
  nonFinite?: NonFiniteLossError;
  recovered?: boolean;
}

/** A checkpoint as hooks see it: `meta` is what will be (or was) stored with the weights. */
export interface CheckpointInfo {
  file: string;
  meta: RunMeta;
}

type Awaitable = void | Promise<void>;

/** A runner hook (mmengine's `Hook`): implement any subset of the points. */
export interface Hook {
  /** default NORMAL */
  readonly priority?: HookPriority;
  beforeRun?(runner: Runner): Awaitable;
  afterLoadCheckpoint?(runner: Runner, checkpoint: CheckpointInfo): Awaitable;
  beforeTrain?(runner: Runner): Awaitable;
  beforeTrainEpoch?(runner: Runner): Awaitable;
  beforeTrainIter?(runner: Runner, batchIdx: number, dataBatch: DataBatch): Awaitable;
  afterTrainIter?(runner: Runner, batchIdx: number, dataBatch: DataBatch, outputs: TrainIterOutputs): Awaitable;
  afterTrainEpoch?(runner: Runner): Awaitable;
  beforeVal?(runner: Runner): Awaitable;
  beforeValEpoch?(runner: Runner): Awaitable;
  afterValEpoch?(runner: Runner, metrics: Record<string, number>): Awaitable;
  afterVal?(runner: Runner): Awaitable;
  beforeSaveCheckpoint?(runner: Runner, checkpoint: CheckpointInfo): Awaitable;
  afterTrain?(runner: Runner): Awaitable;
  afterRun?(runner: Runner): Awaitable;
}

/** The hook points, in the order of a run. */
export const HOOK_POINTS = [
  'beforeRun',
  'afterLoadCheckpoint',
  'beforeTrain',
  'beforeTrainEpoch',
  'beforeTrainIter',
  'afterTrainIter',
  'afterTrainEpoch',
  'beforeVal',
  'beforeValEpoch',
  'afterValEpoch',
  'afterVal',
  'beforeSaveCheckpoint',
  'afterTrain',
  'afterRun',
] as const satisfies ReadonlyArray<keyof Hook>;

export type HookPoint = (typeof HOOK_POINTS)[number];

/** The numeric priority of a hook (names as mmengine's `Priority`; default NORMAL). */
export function priorityOf(hook: Hook): number {
  const p = hook.priority ?? 'NORMAL';
  return typeof p === 'number' ? p : PRIORITY[p];
}

/** Hooks in calling order: ascending priority, registration order among equals (mmengine's `register_hook`). */
export function sortHooks<H extends Hook>(hooks: readonly H[]): H[] {
  return hooks.map((h, i) => ({ h, i, p: priorityOf(h) })).sort((a, b) => a.p - b.p || a.i - b.i).map((x) => x.h);
}

/** Whether `h` implements at least one hook point. */
export function isHook(h: unknown): h is Hook {
  if (typeof h !== 'object' || h === null) return false;
  return HOOK_POINTS.some((k) => typeof (h as Record<string, unknown>)[k] === 'function');
}
