// SPDX-License-Identifier: Apache-2.0
import { getConfigSource, locationOf } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { parseCfgOptions, parseCfgValue } from './cfg-options.js';
import { loadConfig } from './config.js';
import { fx, thrown } from './__fixtures__/test-helpers.js';

const shipped = fx('shipped', 'uses_shipped.yaml');

describe('parseCfgValue', () => {
  it('parses YAML scalars, flow lists and maps', () => {
    expect(parseCfgValue('0.01')).toBe(0.01);
    expect(parseCfgValue('1e-4')).toBe(0.0001);
    expect(parseCfgValue('12')).toBe(12);
    expect(parseCfgValue('true')).toBe(true);
    expect(parseCfgValue('false')).toBe(false);
    expect(parseCfgValue('null')).toBeNull();
    expect(parseCfgValue('None')).toBeNull();
    expect(parseCfgValue("'str'")).toBe('str');
    expect(parseCfgValue("'12'")).toBe('12');
    expect(parseCfgValue('plain')).toBe('plain');
    expect(parseCfgValue('[208,124]')).toEqual([208, 124]);
    expect(parseCfgValue('[[1, 96], [48, 192]]')).toEqual([[1, 96], [48, 192]]);
    expect(parseCfgValue('{type: SGD, lr: 0.02}')).toEqual({ type: 'SGD', lr: 0.02 });
    expect(parseCfgValue('')).toBe('');
  });

  it('rejects invalid YAML, naming the option', () => {
    const err = thrown(() => parseCfgOptions(['a.b=[1, 2']));
    expect(err.message).toContain('--cfg-options `a.b=[1, 2`');
    expect(err.message).toContain('not valid YAML');
  });

  it('rejects options without = or with empty segments', () => {
    expect(() => parseCfgOptions(['model.depth'])).toThrow(/expected key=value/);
    expect(() => parseCfgOptions(['model..depth=1'])).toThrow(/empty key segment/);
    expect(() => parseCfgOptions(['=1'])).toThrow(/expected key=value/);
  });
});

describe('loadConfig with cfgOptions', () => {
  it('overrides nested keys with YAML values and records --cfg-options as their source', () => {
    const cfg = loadConfig(shipped, {
      cfgOptions: [
        'optim_wrapper.optimizer.lr=0.02',
        'train_cfg.max_epochs=1',
        'load_from=checkpoints/x.pth',
        "log_level='DEBUG'",
        'resume=true',
        'default_hooks.checkpoint.interval=null',
      ],
    });
    expect(cfg.get('optim_wrapper.optimizer.lr')).toBe(0.02);
    expect(cfg.get('optim_wrapper.optimizer.momentum')).toBe(0.9);
    expect(cfg.get('train_cfg.max_epochs')).toBe(1);
    expect(cfg.get('load_from')).toBe('checkpoints/x.pth');
    expect(cfg.get('log_level')).toBe('DEBUG');
    expect(cfg.get('resume')).toBe(true);
    expect(cfg.get('default_hooks.checkpoint.interval')).toBeNull();
    expect(cfg.sourceOf('optim_wrapper.optimizer.lr')).toEqual({ file: '--cfg-options' });
    expect(cfg.sourceOf('optim_wrapper.optimizer.momentum')?.file).toMatch(/schedule_1x\.yaml$/);
    expect(locationOf(cfg.get('train_cfg'), 'max_epochs')).toEqual({ file: '--cfg-options', key: 'train_cfg.max_epochs' });
    const p = new Map(cfg.provenance().map((e) => [e.key, e.location?.file]));
    expect(p.get('train_cfg.max_epochs')).toBe('--cfg-options');
  });

  it('indexes into lists: test_dataloader.dataset.pipeline.1.scale=[208,124]', () => {
    const cfg = loadConfig(shipped, { cfgOptions: ['test_dataloader.dataset.pipeline.1.scale=[208,124]'] });
    expect(cfg.get('test_dataloader.dataset.pipeline.1')).toEqual({ type: 'Resize', scale: [208, 124], keep_ratio: true });
    // val_dataloader was an alias of the same text but is an independent copy
    expect(cfg.get('val_dataloader.dataset.pipeline.1.scale')).toEqual([1333, 800]);
    expect(cfg.sourceOf('test_dataloader.dataset.pipeline.1.scale')?.file).toBe('--cfg-options');
    expect(cfg.sourceOf('test_dataloader.dataset.pipeline.1.type')?.file).toMatch(/coco_instance\.yaml$/);
  });

  it('replaces a whole list item, and a list', () => {
    const cfg = loadConfig(shipped, {
      cfgOptions: ['param_scheduler.1={type: MultiStepLR, milestones: [1]}', 'val_evaluator.metric=[bbox, segm]'],
    });
    expect(cfg.get('param_scheduler.1')).toEqual({ type: 'MultiStepLR', begin: 0, end: 12, by_epoch: true, milestones: [1], gamma: 0.1 });
    expect(cfg.get('val_evaluator.metric')).toEqual(['bbox', 'segm']);
  });

  it('a mapping value merges with the same rules (type change replaces, _delete_)', () => {
    const a = loadConfig(shipped, { cfgOptions: ['optim_wrapper.optimizer={type: AdamW, lr: 0.0001}'] });
    expect(a.get('optim_wrapper.optimizer')).toEqual({ type: 'AdamW', lr: 0.0001 });
    const b = loadConfig(shipped, { cfgOptions: ['optim_wrapper.optimizer={lr: 0.5}'] });
    expect(b.get('optim_wrapper.optimizer')).toEqual({ type: 'SGD', lr: 0.5, momentum: 0.9, weight_decay: 0.0001 });
    const c = loadConfig(shipped, { cfgOptions: ['default_hooks.logger={_delete_: true, type: LoggerHook}'] });
    expect(c.get('default_hooks.logger')).toEqual({ type: 'LoggerHook' });
    const opt = c.get('default_hooks.logger');
    expect(getConfigSource(opt)?.path).toBe('default_hooks.logger');
    expect(locationOf(opt, 'type')?.file).toBe('--cfg-options');
  });

  it('creates missing keys inside mappings and known top-level keys the config lacks', () => {
    const cfg = loadConfig(shipped, { cfgOptions: ['randomness.seed=0', 'work_dir=out', 'model.test_cfg.score_thr=0.3'] });
    expect(cfg.get('randomness')).toEqual({ seed: 0 });
    expect(cfg.get('work_dir')).toBe('out');
    expect(cfg.get('model')).toEqual({ test_cfg: { score_thr: 0.3 } });
    expect(getConfigSource(cfg.get('model.test_cfg'))?.path).toBe('model.test_cfg');
  });

  it('accepts a record of already-typed values', () => {
    const cfg = loadConfig(shipped, { cfgOptions: { 'train_cfg.max_epochs': 2, log_level: 'null' } });
    expect(cfg.get('train_cfg.max_epochs')).toBe(2);
    expect(cfg.get('log_level')).toBe('null');
  });

  it('errors name the option: unknown top-level key, path through a scalar, bad list index', () => {
    const unknown = thrown(() => loadConfig(shipped, { cfgOptions: ['optim_wraper.optimizer.lr=0.1'] }));
    expect(unknown.message).toBe('--cfg-options `optim_wraper.optimizer.lr=0.1`: unknown top-level key `optim_wraper`');
    expect(unknown.hint).toContain('`optim_wrapper`');
    const scalar = thrown(() => loadConfig(shipped, { cfgOptions: ['train_cfg.max_epochs.x=1'] }));
    expect(scalar.message).toContain('`train_cfg.max_epochs` is 12 (a number), not a mapping or list');
    const index = thrown(() => loadConfig(shipped, { cfgOptions: ['param_scheduler.5.end=3'] }));
    expect(index.message).toContain('`param_scheduler` has 2 items; index 5 is out of range');
    const name = thrown(() => loadConfig(shipped, { cfgOptions: ['param_scheduler.last.end=3'] }));
    expect(name.message).toContain('`param_scheduler` is a list; `last` is not an index');
    expect(unknown.code).toBe('ARGUMENT');
  });
});
