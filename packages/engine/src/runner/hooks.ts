// SPDX-License-Identifier: Apache-2.0
/**
 * Custom runner hooks (`custom_hooks` in a config, components of scope `hooks` that implement these methods).
 * The default hooks (timer, logger, scheduler, checkpoint, non-finite guard) are built into the runner; a custom
 * hook observes the run at these points. Methods may be async; they run in list order.
 */
import type { TrainableDetector } from './types.js';

/** What a hook sees of the runner. */
export interface RunnerInfo {
  readonly epoch: number;
  /** completed iterations */
  readonly iter: number;
  /** batch index inside the current epoch */
  readonly innerIter: number;
  readonly workDir: string;
  readonly model: TrainableDetector;
  log(line: string): void;
}

export interface RunnerHook {
  beforeTrain?(runner: RunnerInfo): void | Promise<void>;
  afterTrainIter?(runner: RunnerInfo, outputs: { losses: Record<string, number>; lr: number }): void | Promise<void>;
  afterTrainEpoch?(runner: RunnerInfo): void | Promise<void>;
  afterValEpoch?(runner: RunnerInfo, metrics: Record<string, number>): void | Promise<void>;
  afterTrain?(runner: RunnerInfo): void | Promise<void>;
}

export function isRunnerHook(h: unknown): h is RunnerHook {
  if (typeof h !== 'object' || h === null) return false;
  return ['beforeTrain', 'afterTrainIter', 'afterTrainEpoch', 'afterValEpoch', 'afterTrain'].some((k) => typeof (h as Record<string, unknown>)[k] === 'function');
}
