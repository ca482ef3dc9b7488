// SPDX-License-Identifier: Apache-2.0
/**
 * The runner's hooks on a one-parameter model (fast, cpu): the order of the hook points and of priorities, the
 * non-finite guard (stop, rollback, no guard), CheckpointHook.out_dir, LogProcessor.num_digits, options that are
 * refused, and no leaked tensors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Module, Registry, isSoloError, type DetDataSample } from '@solo-ts/core';
import { readLastCheckpoint } from '@solo-ts/checkpoint';
import { setupTestBackend } from '@solo-ts/testing';
import { DetLocalVisualizer, engineComponents } from '../components/index.js';
import { CheckpointHook, IterTimerHook, LoggerHook, NanGuardHook, ParamSchedulerHook, ValidationHook } from '../components/hooks/index.js';
import { SGD } from '../optim/sgd.js';
import { PRIORITY, sortHooks, type Hook, type HookPoint } from './hooks.js';
import { Runner } from './runner.js';
import type { RunnerOptions } from './runner-options.js';
import { NonFiniteLossError } from './train-step.js';
import type { DataBatch, EpochLoader, TrainableDetector } from './types.js';

let scratch: string;
beforeAll(async () => {
  await setupTestBackend('cpu');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-hooks-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** loss = (w - x)^2 for the batch value x (NaN batches give a NaN loss). */
class Scalar extends Module implements TrainableDetector {
  readonly w = this.registerParameter('w', tf.scalar(0).reshape([1]));
  preprocess(batch: DataBatch): { inputs: tf.Tensor4D; dataSamples: DetDataSample[] } {
    return { inputs: tf.tensor4d(batch.inputs as number[], [1, 1, 1, batch.inputs.length]), dataSamples: batch.dataSamples };
  }
  loss(inputs: tf.Tensor4D): Record<string, tf.Scalar> {
    return { loss_x: tf.tidy(() => tf.mean(tf.square(tf.sub(this.w.variable, inputs.reshape([-1])))) as tf.Scalar) };
  }
  async predict(): Promise<never[]> {
    return [];
  }
}

/** `batches` per epoch; batch i of epoch e has value values(e, i). */
function loader(batches: number, values = (_e: number, i: number) => i + 1): EpochLoader {
  return {
    length: batches,
    numSamples: batches,
    async *iterate(epoch: number, start = 0) {
      for (let i = start; i < batches; i++) yield { inputs: [values(epoch, i)], dataSamples: [] };
    },
    async close() {},
  };
}

const evaluator = { reset() {}, process() {}, compute: () => ({ 'x/score': 1 }) };

function makeRunner(name: string, o: Partial<RunnerOptions> & { hooks: Hook[] }, maxEpochs = 2): { runner: Runner; log: string[] } {
  const log: string[] = [];
  const runner = new Runner({
    model: new Scalar(),
    optimizer: new SGD({ lr: 0.1, momentum: 0.9 }),
    schedulers: [],
    trainLoader: loader(3),
    settings: { maxEpochs },
    workDir: path.join(scratch, name),
    configText: `name: ${name}\n`,
    seed: 0,
    backendName: 'cpu',
    print: (l) => log.push(l),
    progress: false,
    ...o,
  });
  return { runner, log };
}

/** Records every point it sees as `name:point`. */
class Recorder implements Hook {
  constructor(
    readonly name: string,
    readonly trace: string[],
    readonly priority?: Hook['priority'],
  ) {}
}
const POINTS: HookPoint[] = ['beforeRun', 'afterLoadCheckpoint', 'beforeTrain', 'beforeTrainEpoch', 'beforeTrainIter', 'afterTrainIter', 'afterTrainEpoch', 'beforeVal', 'beforeValEpoch', 'afterValEpoch', 'afterVal', 'beforeSaveCheckpoint', 'afterTrain', 'afterRun'];
for (const p of POINTS) {
  (Recorder.prototype as unknown as Record<string, unknown>)[p] = function (this: Recorder) {
    this.trace.push(`${this.name}:${p}`);
  };
}

describe('runner hooks', () => {
  it('sorts hooks by priority (names and numbers), registration order among equals', () => {
    const t: string[] = [];
    const hooks = [new Recorder('a', t), new Recorder('low', t, 'VERY_LOW'), new Recorder('b', t, 50), new Recorder('first', t, 'HIGHEST'), new Recorder('c', t, PRIORITY.NORMAL)];
    expect(sortHooks(hooks).map((h) => h.name)).toEqual(['first', 'a', 'b', 'c', 'low']);
  });

  it('calls the hook points in mmengine order; validation and checkpoints at the epochs asked for', async () => {
    const trace: string[] = [];
    const { runner } = makeRunner('order', {
      hooks: [new Recorder('custom', trace), new ValidationHook({ valBegin: 2, valInterval: 1 }), new CheckpointHook({ interval: 2 })],
      valLoader: loader(1),
      evaluator,
    });
    const s = await runner.train();
    const iter = ['custom:beforeTrainIter', 'custom:afterTrainIter'];
    expect(trace).toEqual([
      'custom:beforeRun',
      'custom:beforeTrain',
      'custom:beforeTrainEpoch', ...iter, ...iter, ...iter, 'custom:afterTrainEpoch',
      'custom:beforeTrainEpoch', ...iter, ...iter, ...iter, 'custom:afterTrainEpoch',
      // epoch 2: validation (val_begin 2), then the interval checkpoint
      'custom:beforeVal', 'custom:beforeValEpoch', 'custom:afterValEpoch', 'custom:afterVal',
      'custom:beforeSaveCheckpoint',
      'custom:afterTrain',
      'custom:afterRun',
    ]);
    expect(s.iters).toBe(6);
    expect(s.metrics).toEqual({ 'x/score': 1 });
    expect(fs.readdirSync(runner.workDir).filter((f) => f.endsWith('.safetensors'))).toEqual(['epoch_2.safetensors']);
  });

  it('afterRun runs (and files are closed) when training fails', async () => {
    const trace: string[] = [];
    class Failing implements Hook {
      afterTrainIter(): void {
        throw new Error('boom');
      }
    }
    const logger = new LoggerHook({ interval: 1 });
    const { runner } = makeRunner('fail', { hooks: [new Recorder('r', trace), logger, new Failing()] });
    await expect(runner.train()).rejects.toThrow('boom');
    expect(trace.at(-1)).toBe('r:afterRun');
    const files = logger as unknown as { scalars: unknown; tb: unknown };
    expect([files.scalars, files.tb]).toEqual([null, null]);
  });

  it('a signal stops after the iteration (checkpoint saved); a second one re-raises the signal, no process.exit', async () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const signaller: Hook = {
        afterTrainIter(r) {
          if (r.iter !== 2) return;
          process.emit('SIGINT', 'SIGINT');
          process.emit('SIGINT', 'SIGINT');
        },
      };
      const { runner, log } = makeRunner('signal', { hooks: [signaller, new CheckpointHook({ interval: -1 })] });
      const listeners = process.listenerCount('SIGINT');
      const s = await runner.train();
      expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
      expect(exit).not.toHaveBeenCalled();
      expect(log).toContain('SIGINT again: exiting without saving');
      expect([s.stoppedBy, s.signal, s.iters]).toEqual(['signal', 'SIGINT', 2]);
      expect(path.basename(s.lastCheckpoint!)).toBe('iter_2.safetensors');
      expect(process.listenerCount('SIGINT')).toBe(listeners);
    } finally {
      kill.mockRestore();
      exit.mockRestore();
    }
  });

  it('LogProcessor.num_digits sets the digits of the log line; the lr follows the ParamSchedulerHook', async () => {
    const { runner, log } = makeRunner('digits', { hooks: [new IterTimerHook(), new ParamSchedulerHook(), new LoggerHook({ interval: 1 })], logProcessor: { numDigits: 2 } }, 1);
    await runner.train();
    const line = log.find((l) => l.startsWith('Epoch(train) [1/1][1/3]'))!;
    expect(line).toMatch(/lr: 1\.00e-1 {2}eta: \S+ {2}time: \d+\.\d{2} {2}data_time: \d+\.\d{2} {2}memory: \d+ {2}loss_x: 1\.00 {2}loss: 1\.00$/);
    const { runner: r4, log: log4 } = makeRunner('digits4', { hooks: [new IterTimerHook(), new LoggerHook({ interval: 1 })] }, 1);
    await r4.train();
    expect(log4.find((l) => l.startsWith('Epoch(train) [1/1][1/3]'))).toMatch(/lr: 1\.0000e-1 .* loss_x: 1\.0000 {2}loss: 1\.0000$/);
    const scalars = fs.readFileSync(path.join(r4.logDir, 'vis_data', 'scalars.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(scalars.map((r) => r.iter)).toEqual([1, 2, 3]);
    expect(Object.keys(scalars[0])).toEqual(['lr', 'loss_x', 'loss', 'time', 'data_time', 'epoch', 'iter', 'step']);
  });

  it('LoggerHook.ignore_last skips the short last window of an epoch; log_metric_by_epoch records validation by epoch', async () => {
    const lines = async (name: string, logger: LoggerHook) => {
      const { runner, log } = makeRunner(name, { hooks: [new IterTimerHook(), logger, new ValidationHook({ valBegin: 1, valInterval: 1 })], valLoader: loader(1), evaluator });
      await runner.train();
      const scalars = fs.readFileSync(path.join(runner.logDir, 'vis_data', 'scalars.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
      return { pos: log.filter((l) => l.startsWith('Epoch(train)')).map((l) => l.slice(13, 23)), val: scalars.filter((r) => 'x/score' in r).map((r) => r.step) };
    };
    const all = await lines('last', new LoggerHook({ interval: 2 }));
    expect(all.pos).toEqual(['[1/2][2/3]', '[1/2][3/3]', '[2/2][1/3]', '[2/2][3/3]']);
    expect(all.val).toEqual([3, 6]);
    const skip = await lines('ignore-last', new LoggerHook({ interval: 2, ignoreLast: true, logMetricByEpoch: true }));
    expect(skip.pos).toEqual(['[1/2][2/3]', '[2/2][1/3]', '[2/2][3/3]']);
    expect(skip.val).toEqual([1, 2]);
  });

  it('CheckpointHook.out_dir: checkpoints in <out_dir>/<work_dir name>, last_checkpoint in the work dir points there', async () => {
    const out = path.join(scratch, 'ckpt-out');
    const { runner } = makeRunner('outdir', { hooks: [new CheckpointHook({ interval: 1, outDir: out })] });
    const s = await runner.train();
    const dir = path.join(out, 'outdir');
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch_1.safetensors', 'epoch_2.safetensors']);
    expect(fs.readdirSync(runner.workDir).filter((f) => f.endsWith('.safetensors'))).toEqual([]);
    expect(s.lastCheckpoint).toBe(path.join(dir, 'epoch_2.safetensors'));
    expect(await readLastCheckpoint(runner.workDir)).toBe(path.join(dir, 'epoch_2.safetensors'));
    // a resume from the work dir finds it and continues at epoch 3
    const { runner: again } = makeRunner('outdir', { hooks: [new CheckpointHook({ interval: 1, outDir: out })], resume: true }, 3);
    const s2 = await again.train();
    expect(s2.history.map((h) => h.iter)).toEqual([7, 8, 9]);
    expect(fs.existsSync(path.join(dir, 'epoch_3.safetensors'))).toBe(true);
  });

  it('LoggerHook.out_dir: the logs are copied to <out_dir>/<work_dir name>/<timestamp>; keep_local: false removes them', async () => {
    const out = path.join(scratch, 'log-out');
    const { runner } = makeRunner('logout', { hooks: [new IterTimerHook(), new LoggerHook({ interval: 1, outDir: out, keepLocal: false })] }, 1);
    await runner.train();
    const target = path.join(out, 'logout', runner.timestamp);
    expect(fs.readFileSync(path.join(target, `${runner.timestamp}.log`), 'utf8')).toMatch(/Training finished \(completed\): 3 iterations[\s\S]*Copying the logs of this run to/);
    expect(fs.readFileSync(path.join(target, 'vis_data', 'scalars.json'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(fs.existsSync(path.join(target, 'config.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(runner.logDir, 'vis_data', 'scalars.json'))).toBe(false);
  });

  it('non-finite loss, no guard and NanGuardHook stop: the error names the iteration, the weights are not updated, no tensor leaks', async () => {
    const nanAt = (_e: number, i: number) => (i === 1 ? NaN : 1);
    for (const hooks of [[], [new NanGuardHook({ action: 'stop' })]]) {
      const { runner } = makeRunner(`nan-stop-${hooks.length}`, { hooks, trainLoader: loader(3, nanAt) });
      let before = 0;
      let w: number[] = [];
      const spy: Hook = {
        priority: 'HIGHEST',
        afterTrainIter(r, _i, _b, out) {
          if (!out.nonFinite) {
            w = Array.from((r.model as Scalar).w.variable.dataSync());
            before = tf.memory().numTensors;
          }
        },
      };
      (runner.hooks as Hook[]).unshift(spy);
      const err = await runner.train().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      expect(isSoloError(err)).toBe(true);
      expect((err as Error).message).toMatch(/non-finite loss at iteration 2: loss_x=NaN/);
      expect(Array.from((runner.model as Scalar).w.variable.dataSync())).toEqual(w);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('NanGuardHook rollback: reloads the last checkpoint, skips the batch, gives up after max_rollbacks in a row', async () => {
    // epoch 1 clean (checkpoint epoch_1), then one NaN batch in epoch 2
    const once = (e: number, i: number) => (e === 1 && i === 1 ? NaN : 1);
    const { runner, log } = makeRunner('rollback', { hooks: [new NanGuardHook({ action: 'rollback', maxRollbacks: 1 }), new CheckpointHook({ interval: 1 })], trainLoader: loader(3, once) });
    const s = await runner.train();
    expect(log.some((l) => /non-finite loss at iteration 5: loss_x=NaN.*; rolling back to .*epoch_1\.safetensors and skipping this batch/.test(l))).toBe(true);
    expect(s.history.map((h) => h.iter)).toEqual([1, 2, 3, 4, 6]);
    expect(new Set(s.history.slice(1).map((h) => h.numTensors)).size).toBe(1);
    // two NaN batches in a row with max_rollbacks 1: gives up
    const twice = (e: number, i: number) => (e === 1 && i >= 1 ? NaN : 1);
    const { runner: r2, log: log2 } = makeRunner('rollback2', { hooks: [new NanGuardHook({ action: 'rollback', maxRollbacks: 1 }), new CheckpointHook({ interval: 1 })], trainLoader: loader(3, twice) });
    await expect(r2.train()).rejects.toThrow(/non-finite loss at iteration 6/);
    expect(log2).toContain('giving up after 1 rollbacks in a row');
  });
});

describe('hook and visualizer options through the registry', () => {
  const r = new Registry().load(engineComponents);
  const build = (scope: 'hooks' | 'visualizers', cfg: Record<string, unknown>) => () => r.build(scope, cfg, 'x');

  it('defaults are the declared ones (mmengine): LoggerHook interval 10, CheckpointHook interval -1, LogProcessor num_digits 4', () => {
    expect(r.build<LoggerHook>('hooks', { type: 'LoggerHook' }).interval).toBe(10);
    expect(r.build<CheckpointHook>('hooks', { type: 'CheckpointHook' }).o.interval).toBe(-1);
    expect(r.build<{ numDigits: number }>('visualizers', { type: 'LogProcessor' }).numDigits).toBe(4);
    expect(r.build<LoggerHook>('hooks', { type: 'LoggerHook', priority: 'LOW' }).priority).toBe('LOW');
  });

  it('the visualizer keeps the picture style it is given (alpha, line_width) and leaves the rest to the drawing', () => {
    const v = r.build<DetLocalVisualizer>('visualizers', { type: 'DetLocalVisualizer', alpha: 0.8, line_width: 3 });
    expect([v.alpha, v.lineWidth]).toEqual([0.8, 3]);
    const d = r.build<DetLocalVisualizer>('visualizers', { type: 'DetLocalVisualizer' });
    expect([d.alpha, d.lineWidth]).toEqual([undefined, undefined]);
  });

  it('options solo-ts does not implement are ConfigErrors, not silently ignored', () => {
    for (const [scope, cfg, re] of [
      ['hooks', { type: 'LoggerHook', interval_exp_name: 1000 }, /LoggerHook\.interval_exp_name: 1000 is not supported/],
      ['hooks', { type: 'LoggerHook', backend_args: {} }, /LoggerHook\.backend_args/],
      ['hooks', { type: 'CheckpointHook', filename_tmpl: 'e_{}.pth' }, /CheckpointHook\.filename_tmpl/],
      ['hooks', { type: 'CheckpointHook', save_best: ['a', 'b'] }, /list of one name/],
      ['hooks', { type: 'DetVisualizationHook', draw: true }, /DetVisualizationHook\.draw: true is not supported/],
      ['hooks', { type: 'IterTimerHook', priority: 'SOMETIMES' }, /priority must be/],
      ['visualizers', { type: 'DetLocalVisualizer', alpha: 1.5 }, /DetLocalVisualizer\.alpha must be a number from 0 to 1, got 1\.5/],
      ['visualizers', { type: 'DetLocalVisualizer', line_width: 0 }, /DetLocalVisualizer\.line_width must be a positive number of pixels, got 0/],
      ['visualizers', { type: 'DetLocalVisualizer', bbox_color: 'red' }, /DetLocalVisualizer\.bbox_color/],
      ['visualizers', { type: 'LogProcessor', by_epoch: false }, /LogProcessor\.by_epoch/],
      ['visualizers', { type: 'LocalVisBackend', save_dir: 'x' }, /LocalVisBackend\.save_dir/],
    ] as const) {
      let err: unknown;
      try {
        build(scope, cfg)();
      } catch (e) {
        err = e;
      }
      expect(isSoloError(err), JSON.stringify(cfg)).toBe(true);
      expect((err as { code: string }).code).toBe('CONFIG');
      expect((err as Error).message).toMatch(re);
    }
  });
});
