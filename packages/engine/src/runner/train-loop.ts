// SPDX-License-Identifier: Apache-2.0
/**
 * The epoch-based training loop (mmengine's `EpochBasedTrainLoop.run` / `run_epoch` / `run_iter`): it only steps
 * and calls the hook points; everything else (learning rate, timing, logging, guard, progress bar, validation,
 * checkpoints) is done by hooks. It stops at `max_epochs`, after `maxIters` iterations of this run, after
 * `maxSeconds`, or when a stop was requested (signal or `requestStop`), and records what the summary reports.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainIterOutputs } from './hooks.js';
import type { Runner } from './runner.js';
import type { TrainSummary } from './runner-options.js';
import { NonFiniteLossError } from './train-step.js';

export type StopReason = 'completed' | 'max_iters' | 'max_seconds' | 'signal';

export interface LoopLimits {
  maxIters?: number;
  maxSeconds?: number;
  stopRequested(): boolean;
}

/** The runner's position, advanced by the loop. */
export interface LoopPosition {
  epoch: number;
  iter: number;
  inner: number;
}

export async function runTrainLoop(runner: Runner, pos: LoopPosition, limits: LoopLimits): Promise<Pick<TrainSummary, 'history' | 'lastLosses'>> {
  const ipe = runner.itersPerEpoch;
  const start = performance.now();
  const history: TrainSummary['history'] = [];
  let lastLosses: Record<string, number> = {};
  runner.stoppedBy = 'completed';
  await runner.callHook('beforeTrain');
  while (pos.epoch < runner.maxEpochs && runner.stoppedBy === 'completed') {
    await runner.callHook('beforeTrainEpoch');
    for await (const batch of runner.trainLoader.iterate(pos.epoch, pos.inner)) {
      const batchIdx = pos.inner;
      await runner.callHook('beforeTrainIter', batchIdx, batch);
      let outputs: TrainIterOutputs;
      try {
        outputs = await runner.step(batch, runner.optimizer.lr);
      } catch (e) {
        if (!(e instanceof NonFiniteLossError)) throw e;
        outputs = { losses: {}, lr: runner.optimizer.lr, timings: { preprocess: 0, forwardBackward: 0, optimizer: 0 }, nonFinite: e };
      }
      pos.iter++;
      pos.inner++;
      const numTensors = tf.memory().numTensors;
      await runner.callHook('afterTrainIter', batchIdx, batch, outputs);
      if (outputs.nonFinite) {
        // refused update: a guard hook rolled back (the batch is skipped), else training stops with the error
        if (!outputs.recovered) throw outputs.nonFinite;
        continue;
      }
      lastLosses = outputs.losses;
      history.push({ iter: pos.iter, loss: outputs.losses.loss, numTensors, time: runner.messageHub.get('time') ?? 0 });
      if (limits.stopRequested()) runner.stoppedBy = 'signal';
      else if (pos.iter >= runner.endIter && limits.maxIters !== undefined && pos.iter < runner.maxEpochs * ipe) runner.stoppedBy = 'max_iters';
      else if (limits.maxSeconds !== undefined && (performance.now() - start) / 1000 >= limits.maxSeconds) runner.stoppedBy = 'max_seconds';
      runner.stoppedBy = await runner.agreeStop(runner.stoppedBy);
      if (runner.stoppedBy !== 'completed') break;
      // One turn of the event loop per iteration: when the loader is ahead every await above resolves as a
      // microtask, and signal handlers (SIGINT/SIGTERM), timers and worker messages would never run.
      await yieldToEventLoop();
    }
    if (runner.stoppedBy === 'completed') {
      pos.epoch++;
      pos.inner = 0;
      await runner.callHook('afterTrainEpoch');
    }
  }
  await runner.callHook('afterTrain');
  return { history, lastLosses };
}

/** Resolves after the event loop has gone through its poll phase once (signals, I/O, worker messages). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
