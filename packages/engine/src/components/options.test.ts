// SPDX-License-Identifier: Apache-2.0
/**
 * The engine components' declared options: the defaults come from the declarations (also when a component is
 * constructed in code), direct construction is checked like a config, and the two guard hooks are one guard.
 */
import { describe, expect, it } from 'vitest';
import { Registry, isSoloError } from '@solo-ts/core';
import { configFromYAML } from '@solo-ts/config';
import { buildHooks } from '../build/build-runner.js';
import { Adam, AdamW } from '../optim/adam.js';
import { ConstantLR, CosineAnnealingLR } from '../optim/schedulers.js';
import { SGD } from '../optim/sgd.js';
import { CheckInvalidLossHook, CheckpointHook, LoggerHook, NanGuardHook, NonFiniteLossGuard, ParamSchedulerHook, RuntimeInfoHook } from './hooks/index.js';
import { engineComponents } from './index.js';
import { EpochBasedTrainLoop, IterBasedTrainLoop } from './loops.js';
import { OptimWrapper } from './optim-wrapper.js';
import { LogProcessor } from './visualizers.js';

const registry = new Registry().load(engineComponents);

function configError(f: () => unknown): Error & { code?: string } {
  try {
    f();
  } catch (e) {
    expect(isSoloError(e)).toBe(true);
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('engine component options', () => {
  it('constructed in code, a component gets the declared defaults (the same as through the registry)', () => {
    expect(new LoggerHook().interval).toBe(registry.build<LoggerHook>('hooks', { type: 'LoggerHook' }).interval);
    expect(new LoggerHook().outSuffix).toEqual(['.json', '.log', '.py', 'yaml']);
    expect(new LoggerHook({ outSuffix: null }).outSuffix).toEqual(['.json', '.log', '.py', 'yaml']);
    expect(new LoggerHook({ outSuffix: '.log' }).outSuffix).toEqual(['.log']);
    expect(new CheckpointHook().o).toMatchObject({ interval: -1, byEpoch: true, saveOptimizer: true, maxKeepCkpts: -1, saveLast: true, saveBegin: 0 });
    expect(new AdamW().opts.weightDecay).toBe(0.01);
    expect(new Adam().opts).toEqual({ lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(new SGD({ lr: 0.1 }).opts).toEqual({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false });
    expect(new LogProcessor().numDigits).toBe(4);
    expect(new EpochBasedTrainLoop({ maxEpochs: 3 })).toMatchObject({ maxEpochs: 3, valBegin: 1, valInterval: 1 });
    // ConstantLR's own default `end` (5): factor for steps 0..3, then 1
    const c = new ConstantLR({ factor: 0.5, byEpoch: false });
    expect([3, 4].map((iter) => c.factor({ epoch: 0, iter, itersPerEpoch: 100 }, 1))).toEqual([0.5, 1]);
    expect(() => new CosineAnnealingLR({ byEpoch: false }).factor({ epoch: 0, iter: 1, itersPerEpoch: 1 }, 1)).toThrow(/T_max or a finite `end`/);
  });

  it('each hook has its declared priority; null means the default; names in any case', () => {
    expect([new RuntimeInfoHook(), new ParamSchedulerHook(), new LoggerHook(), new CheckpointHook(), new NanGuardHook(), new CheckInvalidLossHook()].map((h) => h.priority)).toEqual([
      'VERY_HIGH',
      'LOW',
      'BELOW_NORMAL',
      'VERY_LOW',
      'VERY_HIGH',
      'VERY_HIGH',
    ]);
    expect(registry.build<LoggerHook>('hooks', { type: 'LoggerHook', priority: null }).priority).toBe('BELOW_NORMAL');
    expect(new LoggerHook({ priority: 'low' }).priority).toBe('LOW');
    expect(new LoggerHook({ priority: 55 }).priority).toBe(55);
  });

  it('direct construction is checked like a config (unknown keys, kinds), with ConfigErrors', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new LoggerHook({ intervl: 5 } as never), /unknown option `intervl` for LoggerHook/],
      [() => new SGD({ lr: 0.1, momentum: 'x' } as never), /option `momentum` of SGD must be a number/],
      [() => new Adam({ betas: [0.9, '0.999'] } as never), /option `betas\[1\]` of Adam must be a number/],
      [() => new EpochBasedTrainLoop({} as never), /train_cfg needs option `max_epochs`/],
      [() => new IterBasedTrainLoop({ maxIters: 100 }), /solo train --max-iters 100/],
      [() => new OptimWrapper({ optimizer: { type: 'SGD' }, constructor: 'MyConstructor' }), /optim_wrapper.constructor MyConstructor is not supported/],
      [() => new CheckpointHook({ greaterKeys: [1] }), /greater_keys must be a list of metric names/],
    ];
    for (const [f, re] of cases) {
      const e = configError(f);
      expect(e.code).toBe('CONFIG');
      expect(e.message).toMatch(re);
    }
    expect(new OptimWrapper({ optimizer: { type: 'SGD' } }).clipGrad).toBeUndefined();
  });

  it('CheckInvalidLossHook among custom_hooks replaces the default guard; both are the one guard', () => {
    const cfg = configFromYAML('custom_hooks:\n  - type: CheckInvalidLossHook\n    interval: 10\n');
    const hooks = buildHooks(cfg, registry, { validation: { valBegin: 1, valInterval: 1 }, progress: false });
    const guards = hooks.filter((h) => h instanceof NonFiniteLossGuard);
    expect(guards).toHaveLength(1);
    expect(guards[0]).toBeInstanceOf(CheckInvalidLossHook);
    expect((guards[0] as CheckInvalidLossHook).action).toBe('stop');
    const defaults = buildHooks(configFromYAML('{}'), registry, { validation: { valBegin: 1, valInterval: 1 }, progress: false });
    expect(defaults.filter((h) => h instanceof NonFiniteLossGuard).map((h) => h.constructor)).toEqual([NanGuardHook]);
  });
});
