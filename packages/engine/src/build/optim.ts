// SPDX-License-Identifier: Apache-2.0
/**
 * The optimizer and the learning-rate schedule of a config: `optim_wrapper` (optimizer, clip_grad,
 * paramwise_cfg), `auto_scale_lr` and `param_scheduler`.
 *
 * auto_scale_lr (mmengine): with `enable: true` the optimizer's lr is multiplied by
 * (total batch size / `base_batch_size`); the total batch is `train_dataloader.batch_size` x the number of
 * data-parallel workers (`--workers`; the caller passes the total), as `runner.scale_lr` computes it.
 */
import { ConfigError, SoloError, type Registry } from '@solo-ts/core';
import type { Config } from '@solo-ts/config';
import { OptimWrapper, paramMultipliers } from '../components/optim-wrapper.js';
import { isOptimizer, type Optimizer, type ParamGroupMult } from '../optim/optimizer.js';
import type { LrScheduler } from '../optim/schedulers.js';
import type { TrainableDetector } from '../runner/types.js';

export interface BuiltOptimizer {
  optimizer: Optimizer;
  clipGrad?: { maxNorm: number; normType: number };
  /** Per-parameter lr / weight decay multipliers (paramwise_cfg). */
  mults: Map<string, ParamGroupMult>;
  /** The lr after auto scaling, and the factor applied. */
  lr: number;
  lrScale: number;
}

export function buildOptimizer(cfg: Config, model: TrainableDetector, o: { registry: Registry; batchSize: number; autoScaleLr?: boolean }): BuiltOptimizer {
  const ow = cfg.get('optim_wrapper');
  if (!ow) throw new ConfigError(`${cfg.filename} has no \`optim_wrapper\` (e.g. {optimizer: {type: SGD, lr: 0.01, momentum: 0.9, weight_decay: 0.0001}})`);
  const owCfg = { type: 'OptimWrapper', ...(ow as object) };
  const wrapper = o.registry.build<OptimWrapper>('optim_wrappers', owCfg, 'optim_wrapper');
  if (!(wrapper instanceof OptimWrapper)) throw new ConfigError('optim_wrapper must be an OptimWrapper');
  const opt = wrapper.optimizer;
  const baseLr = opt.lr;
  if (typeof baseLr !== 'number') throw new ConfigError('optim_wrapper.optimizer.lr must be a number', { location: cfg.sourceOf('optim_wrapper.optimizer') });
  let lrScale = 1;
  const asl = cfg.get<Record<string, unknown>>('auto_scale_lr');
  const enable = o.autoScaleLr ?? (asl?.enable === true);
  if (enable) {
    const base = asl?.base_batch_size;
    if (typeof base !== 'number' || !(base > 0)) throw new ConfigError('auto_scale_lr.base_batch_size must be a positive number', { location: cfg.sourceOf('auto_scale_lr') });
    lrScale = o.batchSize / base;
  }
  const lr = baseLr * lrScale;
  const optimizer = o.registry.build<unknown>('optimizers', { ...opt, lr }, 'optim_wrapper.optimizer');
  if (!isOptimizer(optimizer)) throw new SoloError(`optim_wrapper.optimizer.type ${String(opt.type)} is not an optimizer the runner can use (SGD, Adam, AdamW)`, { code: 'CONFIG' });
  const names = model.trainableParameters().map(([n]) => n);
  return { optimizer, clipGrad: wrapper.clipGrad, mults: paramMultipliers(model, names, wrapper.paramwise), lr, lrScale };
}

/** `param_scheduler` (a map or a list; absent = constant lr). */
export function buildSchedulers(cfg: Config, registry: Registry): LrScheduler[] {
  const ps = cfg.get<unknown>('param_scheduler');
  if (ps === undefined || ps === null) return [];
  const list = Array.isArray(ps) ? ps : [ps];
  return list.map((s, i) => {
    const sched = registry.build<LrScheduler>('schedulers', s, Array.isArray(ps) ? `param_scheduler.${i}` : 'param_scheduler');
    if (typeof (sched as LrScheduler).factor !== 'function') throw new ConfigError(`param_scheduler.${i} is not a learning-rate scheduler`);
    return sched;
  });
}
