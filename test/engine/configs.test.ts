// SPDX-License-Identifier: Apache-2.0
/**
 * Every shipped config validates key by key through the default registry (train loop, hooks, optim wrapper,
 * optimizer, schedulers, visualizer, loops), the registry holds every package's components, and the light R18
 * zoo model builds. Misspelt keys are errors naming the file and line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupTestBackend } from '@solo-ts/testing';
import type { SoloError } from '@solo-ts/core';
import { loadConfig } from '@solo-ts/config';
import { createDefaultRegistry } from '@solo-ts/apis';
import { CheckpointHook, LoggerHook, NanGuardHook, buildModel, validateTrainingConfig } from '@solo-ts/engine';
import { REPO_ROOT } from './helpers.js';

const configs = ['solo', 'solov2', 'demo'].flatMap((d) => fs.readdirSync(path.join(REPO_ROOT, 'configs', d)).filter((f) => f.endsWith('.yaml')).map((f) => path.join('configs', d, f)));

beforeAll(async () => {
  await setupTestBackend('wasm');
});

describe('shipped configs against the default registry', () => {
  it.each(configs)('%s validates', (file) => {
    const s = validateTrainingConfig(loadConfig(path.join(REPO_ROOT, file)), createDefaultRegistry());
    expect(s.loop.maxEpochs).toBeGreaterThan(0);
    expect(s.hooks.find((h) => h instanceof LoggerHook)?.interval).toBeGreaterThan(0);
  });

  it('the zoo schedule settings map to the runner (schedule_1x, default_runtime)', () => {
    const s = validateTrainingConfig(loadConfig(path.join(REPO_ROOT, 'configs/solov2/solov2_r50_fpn_1x_coco.yaml')), createDefaultRegistry());
    expect(s.loop).toMatchObject({ maxEpochs: 12, valInterval: 1, valBegin: 1 });
    expect(s.hooks.find((h) => h instanceof LoggerHook)?.interval).toBe(50);
    expect((s.hooks.find((h) => h instanceof CheckpointHook) as CheckpointHook).o).toMatchObject({ interval: 1, byEpoch: true, maxKeepCkpts: -1, saveLast: true });
    expect((s.hooks.find((h) => h instanceof NanGuardHook) as NanGuardHook).action).toBe('stop');
    expect(s.logProcessor.numDigits).toBe(4);
  });

  it('a misspelt hook option is an error with the file and line', () => {
    const cfg = loadConfig(path.join(REPO_ROOT, 'configs/demo/solov2-light_r18_shapes.yaml'), { cfgOptions: ['default_hooks.checkpoint.max_keep_ckpt=2'] });
    const err = (() => {
      try {
        validateTrainingConfig(cfg, createDefaultRegistry());
      } catch (e) {
        return e as SoloError;
      }
      return undefined;
    })();
    expect(err?.format()).toMatch(/--cfg-options.*unknown option `max_keep_ckpt` for CheckpointHook[\s\S]*did you mean `max_keep_ckpts`/);
  });

  it('the registry has every package and the light R18 zoo model builds', () => {
    const r = createDefaultRegistry();
    const packages = new Set(r.list().map((e) => e.package));
    for (const p of ['@solo-ts/backbones', '@solo-ts/necks', '@solo-ts/heads', '@solo-ts/losses', '@solo-ts/assigners', '@solo-ts/postprocess', '@solo-ts/datasets', '@solo-ts/detectors', '@solo-ts/evaluation', '@solo-ts/engine']) expect(packages, p).toContain(p);
    const model = buildModel(loadConfig(path.join(REPO_ROOT, 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml')), { registry: r });
    expect([...model.stateDict().keys()]).toEqual(expect.arrayContaining(['backbone.conv1.weight', 'neck.lateral_convs.0.conv.weight', 'mask_head.conv_cls.weight', 'mask_head.mask_feature_head.conv_pred.conv.weight', 'mask_head.kernel_convs.0.conv.weight']));
    model.dispose();
  });
});
