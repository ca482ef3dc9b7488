// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, getConfigSource, locationOf } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { configFromYAML, loadConfig } from './config.js';
import { shippedConfigsDir } from './resolve.js';
import { fx, thrown } from './__fixtures__/test-helpers.js';

describe('loadConfig: inheritance', () => {
  it('merges a two-level chain: bases in order, maps deep-merge, lists replace', () => {
    const cfg = loadConfig(fx('chain', 'child.yaml'));
    // from base_model, overridden in mid (depth) and child (num_grids, score_thr)
    expect(cfg.get('model.type')).toBe('SOLO');
    expect(cfg.get('model.backbone.depth')).toBe(101);
    expect(cfg.get('model.backbone.out_indices')).toEqual([0, 1, 2, 3]);
    expect(cfg.get('model.backbone.norm_cfg')).toEqual({ type: 'BN', requires_grad: true });
    expect(cfg.get('model.mask_head.num_grids')).toEqual([20, 10]);
    expect(cfg.get('model.mask_head.num_classes')).toBe(80);
    expect(cfg.get('model.test_cfg')).toEqual({ score_thr: 0.3, mask_thr: 0.5 });
    // from base_schedule, lr overridden in mid, other optimizer keys kept
    expect(cfg.get('optim_wrapper')).toEqual({
      type: 'OptimWrapper',
      optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0001 },
    });
    // a list is replaced whole, not merged item by item
    expect(cfg.get('param_scheduler')).toEqual([{ type: 'MultiStepLR', milestones: [27, 33] }]);
    expect(cfg.get('train_cfg.max_epochs')).toBe(12);
    expect('_base_' in cfg.data).toBe(false);
    expect(cfg.files.map((f) => path.basename(f))).toEqual(['base_model.yaml', 'base_schedule.yaml', 'mid.yaml', 'child.yaml']);
    expect(cfg.filename).toBe(fx('chain', 'child.yaml'));
  });

  it('accepts _base_ as a block list', () => {
    const cfg = loadConfig(fx('chain', 'multi_root.yaml'));
    expect(cfg.get('model.backbone.depth')).toBe(50);
    expect(cfg.get('optim_wrapper.optimizer.lr')).toBe(0.02);
    expect(cfg.get('work_dir')).toBe('./work_dirs/x');
  });

  it('_delete_: true replaces the base block; _delete_: false merges; the flag never survives', () => {
    const cfg = loadConfig(fx('chain', 'delete.yaml'));
    expect(cfg.get('model.backbone')).toEqual({ type: 'ResNet', depth: 18 });
    expect(cfg.get('model.mask_head.loss_mask')).toEqual({ type: 'DiceLoss', use_sigmoid: true, loss_weight: 1.0 });
    expect(JSON.stringify(cfg.data)).not.toContain('_delete_');
  });

  it('a different `type` replaces the block; the same `type` merges', () => {
    const cfg = loadConfig(fx('chain', 'type_change.yaml'));
    expect(cfg.get('model.backbone')).toEqual({ type: 'ResNeXt', depth: 101, groups: 64 });
    expect(cfg.get('model.mask_head.num_grids')).toEqual([40, 36, 24, 16, 12]);
    expect(cfg.get('model.mask_head.num_classes')).toBe(4);
  });

  it('YAML anchors, aliases and merge keys reuse values inside one file, as independent copies', () => {
    const cfg = loadConfig(fx('chain', 'anchors.yaml'));
    expect(cfg.get('train_pipeline.0.scale')).toEqual([1333, 800]);
    expect(cfg.get('test_pipeline.0.scale')).toEqual([1333, 800]);
    expect(cfg.get('train_pipeline.0.scale')).not.toBe(cfg.get('test_pipeline.0.scale'));
    expect(cfg.get('model.neck.norm_cfg')).toEqual({ type: 'GN', num_groups: 32, requires_grad: true });
    // merge key: own `type` wins over the merged one
    expect(cfg.get('model.mask_head')).toEqual({ type: 'SOLOHead', num_groups: 32, requires_grad: true });
    expect(cfg.get('_scale')).toEqual([1333, 800]);
  });

  it('loads the shipped base configs through @solo-ts/configs::', () => {
    const dir = shippedConfigsDir();
    expect(dir).toBe(path.resolve(fx('..', '..', '..', '..', 'configs')));
    const cfg = loadConfig(fx('shipped', 'uses_shipped.yaml'));
    expect(cfg.get('train_dataloader.dataset.type')).toBe('CocoDataset');
    expect(cfg.get('train_dataloader.dataset.pipeline.2')).toEqual({ type: 'Resize', scale: [1333, 800], keep_ratio: true });
    expect(cfg.get('test_dataloader')).toEqual(cfg.get('val_dataloader'));
    expect(cfg.get('val_evaluator.metric')).toBe('segm');
    expect(cfg.get('val_evaluator.ann_file')).toBe('data/coco/annotations/instances_val2017.json');
    expect(cfg.get('optim_wrapper.optimizer')).toEqual({ type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0001 });
    expect(cfg.get('param_scheduler.1.milestones')).toEqual([8, 11]);
    expect(cfg.get('default_hooks.checkpoint')).toEqual({ type: 'CheckpointHook', interval: 1 });
    expect(cfg.get('load_from')).toBeNull();
    expect(cfg.get('resume')).toBe(false);
    expect(cfg.sourceOf('train_cfg.max_epochs')?.file).toMatch(/configs\/_base_\/schedules\/schedule_1x\.yaml$/);
  });

  it('loads a base from another npm package with <package>::path', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'solo-cfg-'));
    try {
      const pkg = path.join(root, 'node_modules', '@acme', 'zoo');
      mkdirSync(path.join(pkg, 'configs'), { recursive: true });
      writeFileSync(path.join(pkg, 'package.json'), '{"name": "@acme/zoo", "version": "1.0.0"}');
      writeFileSync(path.join(pkg, 'configs', 'base.yaml'), 'model: {type: SOLO, backbone: {depth: 50}}\n');
      const child = path.join(root, 'proj', 'child.yaml');
      mkdirSync(path.dirname(child));
      writeFileSync(child, "_base_: '@acme/zoo::configs/base.yaml'\nmodel: {backbone: {depth: 18}}\n");
      const cfg = loadConfig(child);
      expect(cfg.get('model')).toEqual({ type: 'SOLO', backbone: { depth: 18 } });
      expect(cfg.sourceOf('model.type')?.file).toBe(path.join(pkg, 'configs', 'base.yaml'));
      const err = thrown(() => {
        writeFileSync(child, "_base_: '@acme/nothere::configs/base.yaml'\n");
        loadConfig(child);
      });
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.format()).toContain('`@acme/nothere` is not installed');
      expect(err.location?.line).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('loadConfig: sources', () => {
  it('records file, line and column of every key on every mapping, with dotted paths', () => {
    const cfg = loadConfig(fx('chain', 'child.yaml'));
    const model = cfg.get<object>('model')!;
    expect(getConfigSource(cfg.data)?.path).toBeUndefined();
    expect(getConfigSource(model)?.path).toBe('model');
    // set in mid.yaml line 6 (`depth: 101`), column 5
    const depth = locationOf(cfg.get('model.backbone'), 'depth');
    expect(depth?.file).toMatch(/__fixtures__\/chain\/mid\.yaml$/);
    expect(depth).toMatchObject({ line: 6, column: 5, key: 'model.backbone.depth' });
    // untouched key keeps the base file's location
    expect(locationOf(cfg.get('model.backbone'), 'out_indices')).toMatchObject({ line: 7 });
    expect(cfg.sourceOf('model.backbone.out_indices')?.file).toMatch(/base_model\.yaml$/);
    // flow mapping inside a list (param_scheduler.0) gets its own path and key columns
    const sched = cfg.get('param_scheduler.0');
    expect(getConfigSource(sched)?.path).toBe('param_scheduler.0');
    expect(locationOf(sched, 'milestones')).toMatchObject({ line: 8, column: 25, key: 'param_scheduler.0.milestones' });
    expect(locationOf(cfg.get('model.test_cfg'), 'score_thr')?.line).toBe(6);
    expect(locationOf(cfg.get('model.test_cfg'), 'mask_thr')?.line).toBe(16);
  });

  it('provenance() lists each leaf with the file:line that set it', () => {
    const cfg = loadConfig(fx('chain', 'child.yaml'));
    const p = new Map(cfg.provenance().map((e) => [e.key, e]));
    expect(p.get('model.backbone.depth')?.value).toBe(101);
    expect(p.get('model.backbone.depth')?.location).toMatchObject({ line: 6 });
    expect(p.get('model.backbone.depth')?.location?.file).toMatch(/mid\.yaml$/);
    expect(p.get('model.mask_head.num_grids')?.value).toEqual([20, 10]);
    expect(p.get('model.mask_head.num_grids')?.location?.file).toMatch(/child\.yaml$/);
    expect(p.get('model.mask_head.loss_mask.loss_weight')?.location?.file).toMatch(/base_model\.yaml$/);
    expect(p.get('optim_wrapper.optimizer.momentum')?.location).toMatchObject({ line: 4 });
    expect(p.has('model.backbone')).toBe(false);
    expect(p.get('param_scheduler.0.milestones')?.value).toEqual([27, 33]);
  });
});

describe('loadConfig: errors', () => {
  it('unknown top-level key: file, line and the closest known key', () => {
    const err = thrown(() => loadConfig(fx('errors', 'unknown_key.yaml')));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.location).toMatchObject({ line: 5, column: 1, key: 'optim_wraper' });
    expect(err.location?.file).toMatch(/errors\/unknown_key\.yaml$/);
    expect(err.format()).toMatch(/unknown_key\.yaml:5:1 \(key `optim_wraper`\): unknown top-level key `optim_wraper`/);
    expect(err.hint).toContain('did you mean `optim_wrapper`');
  });

  it('an mmdetection 2.x key points at its 3.x replacement', () => {
    const err = thrown(() => loadConfig(fx('errors', 'legacy_key.yaml')));
    expect(err.location).toMatchObject({ line: 2 });
    expect(err.message).toContain('mmdetection 2.x');
    expect(err.hint).toContain('optim_wrapper.optimizer');
  });

  it('private `_` keys and extra keys are allowed', () => {
    expect(configFromYAML('_anything: 1\nmodel: {type: SOLO}\n').get('_anything')).toBe(1);
    expect(() => configFromYAML('acme_cfg: 1\n')).toThrow(/unknown top-level key `acme_cfg`/);
    expect(configFromYAML('acme_cfg: 1\n', 'x', { extraTopLevelKeys: ['acme_cfg'] }).get('acme_cfg')).toBe(1);
  });

  it('YAML syntax error: file:line:column and the parser message', () => {
    const err = thrown(() => loadConfig(fx('errors', 'syntax.yaml')));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.location?.file).toMatch(/syntax\.yaml$/);
    expect(err.location?.line).toBe(4);
    expect(err.location?.column).toBe(1);
    expect(err.message).toMatch(/^invalid YAML: Flow map in block collection/);
  });

  it('duplicate keys are a syntax error at the second occurrence', () => {
    const err = thrown(() => loadConfig(fx('errors', 'duplicate.yaml')));
    expect(err.location?.line).toBe(3);
    expect(err.message).toContain('unique');
  });

  it('missing base: names the including file and line, suggests the close name', () => {
    const err = thrown(() => loadConfig(fx('errors', 'missing_base.yaml')));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.location?.file).toMatch(/errors\/missing_base\.yaml$/);
    expect(err.location).toMatchObject({ line: 4, column: 5 });
    expect(err.message).toContain('base config `../chain/base_shedule.yaml` not found');
    expect(err.hint).toContain('base_schedule.yaml');
  });

  it('missing top-level file', () => {
    const err = thrown(() => loadConfig(fx('errors', 'nope.yaml')));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('config file not found');
  });

  it('a cycle is reported with the chain', () => {
    const err = thrown(() => loadConfig(fx('errors', 'cycle_a.yaml')));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/circular _base_ inheritance: .*cycle_a\.yaml -> .*cycle_b\.yaml -> .*cycle_a\.yaml/);
    expect(err.location?.file).toMatch(/cycle_b\.yaml$/);
    expect(err.location?.line).toBe(1);
  });

  it('a Python base gets a pointed message', () => {
    const err = thrown(() => loadConfig(fx('errors', 'python_base.yaml')));
    expect(err.message).toContain('Python config');
    expect(err.location?.line).toBe(1);
  });

  it('bad _base_ and _delete_ values', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'solo-cfg-'));
    try {
      writeFileSync(path.join(root, 'a.yaml'), '_base_: 3\n');
      expect(() => loadConfig(path.join(root, 'a.yaml'))).toThrow(/`_base_` must be a path or a list of paths/);
      writeFileSync(path.join(root, 'b.yaml'), 'model:\n  _delete_: yes\n');
      const err = thrown(() => loadConfig(path.join(root, 'b.yaml')));
      expect(err.message).toContain('`_delete_` must be true or false');
      expect(err.location?.line).toBe(2);
      writeFileSync(path.join(root, 'c.yaml'), '- a\n- b\n');
      expect(() => loadConfig(path.join(root, 'c.yaml'))).toThrow(/must be a YAML mapping/);
      writeFileSync(path.join(root, 'd.yaml'), '');
      expect(loadConfig(path.join(root, 'd.yaml')).data).toEqual({});
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
