// SPDX-License-Identifier: Apache-2.0
/**
 * The contract suites must catch broken components: each test below sabotages one property of a real component
 * (a SOLOv2 head, DiceLoss, a config entry) and checks that the matching check fails with a useful message,
 * while the intact component passes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComponentModule, defineOptions, Registry, type DetDataSample, type InstanceData, type OptionSpecs } from '@solo-ts/core';
import { SOLOV2Head } from '@solo-ts/heads';
import { DiceLoss, lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { setupTestBackend } from '../backend.js';
import { expectNoLeaks } from '../tensors.js';
import { makeSample } from '../samples.js';
import { checkInstances } from './common.js';
import { configChecks } from './config.js';
import { lossChecks } from './loss.js';
import { maskHeadChecks } from './mask-head.js';
import { detectKind, planRegistrySweep } from './registry.js';
import type { ContractCheck, YamlOptions } from './types.js';

const GN = { type: 'GN', num_groups: 4, requires_grad: true };
const HEAD = {
  num_classes: 3,
  in_channels: 8,
  feat_channels: 8,
  stacked_convs: 1,
  num_grids: [6, 5, 4, 3, 2],
  scale_ranges: [
    [1, 256],
    [1, 256],
    [1, 256],
    [1, 256],
    [1, 256],
  ],
  norm_cfg: GN,
  mask_feature_head: { feat_channels: 8, start_level: 0, end_level: 3, out_channels: 8, mask_stride: 4, norm_cfg: GN },
};

/** A parameter no loss uses. */
class UnusedParamHead extends SOLOV2Head {
  static override readonly type = 'test.UnusedParamHead';
  constructor(o: never, ctx: never) {
    super(o, ctx);
    this.registerParameter('orphan', tf.ones([2]));
  }
}

/** A mask loss that is not 0 without ground truth. */
class NonZeroEmptyLossHead extends SOLOV2Head {
  static override readonly type = 'test.NonZeroEmptyLossHead';
  override loss(x: tf.Tensor4D[], samples: DetDataSample[]): Record<string, tf.Scalar> {
    const l = super.loss(x, samples);
    const m = tf.add(l.loss_mask, 0.5) as tf.Scalar;
    l.loss_mask.dispose();
    return { ...l, loss_mask: m };
  }
}

/** forward keeps one intermediate alive. */
class LeakyHead extends SOLOV2Head {
  static override readonly type = 'test.LeakyHead';
  override forward(x: tf.Tensor4D[]) {
    tf.keep(tf.add(x[0], 1));
    return super.forward(x);
  }
}

/** Masks at the padded size instead of the original image size. */
class WrongSizeHead extends SOLOV2Head {
  static override readonly type = 'test.WrongSizeHead';
  override async predict(x: tf.Tensor4D[], samples: DetDataSample[]): Promise<InstanceData[]> {
    const res = await super.predict(x, samples);
    return res.map((r, i) => ({ ...r, masks: { count: r.masks!.count, height: 64, width: 64, data: new Uint8Array(r.masks!.count * 64 * 64) }, imgId: i }));
  }
}

/** Ignores loss_weight (registered as `test.UnweightedDice`). */
class UnweightedDice extends DiceLoss {
  override forward(pred: tf.Tensor, target: tf.Tensor, opts?: Parameters<DiceLoss['forward']>[2]): tf.Tensor {
    return tf.tidy(() => tf.div(super.forward(pred, target, opts), this.lossWeight));
  }
}

/** Takes options without declaring them. */
class Undeclared {
  static readonly type = 'test.Undeclared';
}

/**
 * Declares an option without a doc line and a default of the wrong type, in the hand-written form a third-party
 * plugin may still use (`defineOptions` refuses this declaration when the module loads).
 */
class BadlyDeclared {
  static readonly type = 'test.BadlyDeclared';
  static readonly options: OptionSpecs = { size: { type: 'integer', default: 2.5, doc: '' } };
}

const testComponents = new ComponentModule('test', [
  { scope: 'models', component: SOLOV2Head },
  { scope: 'models', component: UnusedParamHead },
  { scope: 'models', component: NonZeroEmptyLossHead },
  { scope: 'models', component: LeakyHead },
  { scope: 'models', component: WrongSizeHead },
  { scope: 'models', component: UnweightedDice, key: 'test.UnweightedDice' },
  { scope: 'transforms', component: Undeclared },
  { scope: 'transforms', component: BadlyDeclared },
]);
const registry = new Registry().load(lossesComponents, assignersComponents, postprocessComponents, testComponents);

function find(checks: ContractCheck[], part: string): ContractCheck {
  const c = checks.find((x) => x.name.includes(part));
  if (!c) throw new Error(`no check named like ${part}`);
  return c;
}

function heads(type: string): ContractCheck[] {
  return maskHeadChecks({
    build: (over?: YamlOptions) => registry.build('models', { type, ...HEAD, ...over }),
    inChannels: 8,
    numClasses: 3,
    batchSize: 1,
    inputSize: [32, 32],
  });
}

function diceInputs(n: number) {
  return { pred: tf.randomNormal([n, 4, 4], 0, 2, 'float32', 1), target: tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([n, 4, 4], 0, 1, 'float32', 2), 0.5), 'float32')) };
}

beforeAll(() => setupTestBackend('wasm'));

describe('mask-head contract', () => {
  it('passes for SOLOV2Head', async () => {
    for (const c of heads('SOLOV2Head')) await c.run();
  });

  it('names a parameter that receives no gradient', async () => {
    await expect(find(heads('test.UnusedParamHead'), 'gradients reach').run()).rejects.toThrow(/no gradient reaches 1 of \d+ trainable parameters: orphan/);
  });

  it('rejects a non-zero mask loss without ground truth', async () => {
    await expect(find(heads('test.NonZeroEmptyLossHead'), 'empty ground truth: finite terms').run()).rejects.toThrow(/loss_mask must be 0 with empty ground truth, got 0\.5/);
  });

  it('detects a leaked tensor in forward', async () => {
    await expect(find(heads('test.LeakyHead'), 'forward (training').run()).rejects.toThrow(/leaks tensors: .*\(\+1\)/);
  });

  it('rejects masks that are not at the original image size', async () => {
    await expect(find(heads('test.WrongSizeHead'), 'predict with candidates').run()).rejects.toThrow(/masks are 64x64, the original image is 12x16/);
  });
});

describe('loss contract', () => {
  const checks = (type: string) => lossChecks({ build: (over) => registry.build('models', { type, ...over }), inputs: diceInputs, n: 4 });
  it('passes for DiceLoss', async () => {
    for (const c of checks('DiceLoss')) await c.run();
  });
  it('rejects a loss that ignores loss_weight', async () => {
    await expect(find(checks('test.UnweightedDice'), 'scales the loss').run()).rejects.toThrow(/with loss_weight 2\.5 the loss is/);
  });
});

describe('config contract', () => {
  it('passes for DiceLoss and names the unknown key', async () => {
    for (const c of configChecks({ registry, scope: 'models', key: 'DiceLoss' })) await c.run();
  });
  it('rejects a component without declared options', async () => {
    const c = find(configChecks({ registry, scope: 'transforms', key: 'test.Undeclared' }), 'unknown option');
    await expect(Promise.resolve().then(() => c.run())).rejects.toThrow(/declares no static `options`/);
  });
  it('rejects an undocumented option and a default of the wrong type', async () => {
    const c = find(configChecks({ registry, scope: 'transforms', key: 'test.BadlyDeclared' }), 'doc line');
    await expect(Promise.resolve().then(() => c.run())).rejects.toThrow(/`size` has no doc line/);
    expect(() => defineOptions(BadlyDeclared.options)).toThrow(/option `size` has no doc line/);
  });
  it('asks for an example config when required options are missing', async () => {
    const c = find(configChecks({ registry, scope: 'models', key: 'SOLOV2Head' }), 'builds from');
    await expect(Promise.resolve().then(() => c.run())).rejects.toThrow(/required options \(num_classes, in_channels, mask_feature_head\) that no example config provides/);
  });
});

describe('registry sweep', () => {
  it('requires a contract spec for every model and detects kinds', () => {
    const items = planRegistrySweep(registry, { scopes: ['models'], specs: { 'models:SOLOV2Head': { config: HEAD } } });
    const v2 = items.find((i) => i.entry.key === 'SOLOV2Head')!;
    expect(v2.kind).toBe('mask_head');
    const dice = items.find((i) => i.entry.key === 'DiceLoss')!;
    expect(dice.checks.some((c) => c.name === 'has a contract spec')).toBe(true);
  });
  it('detectKind', () => {
    expect(detectKind({ forward() {}, lossWeight: 1 })).toBe('loss');
    expect(detectKind({ forward() {}, loss() {}, predict() {} })).toBe('mask_head');
    expect(detectKind({ forward() {}, loss() {}, predict() {}, extractFeat() {} })).toBe('detector');
    expect(detectKind({ forward() {}, outFeatures: [], inChannels: [8] })).toBe('neck');
    expect(detectKind({ forward() {}, outFeatures: [] })).toBe('backbone');
    expect(detectKind({ transform() {} })).toBe('config');
  });
});

describe('helpers', () => {
  it('expectNoLeaks reports the difference', async () => {
    await expect(expectNoLeaks('f', () => void tf.keep(tf.ones([1])))).rejects.toThrow(/f leaks tensors: \d+ alive before, \d+ after .*\(\+1\)/);
  });
  it('checkInstances rejects inconsistent results', () => {
    const ok = { labels: new Int32Array([1]), scores: new Float32Array([0.5]), bboxes: new Float32Array([1, 1, 3, 3]), masks: { count: 1, height: 4, width: 4, data: new Uint8Array(16) } };
    expect(checkInstances('r', ok, [4, 4], 3)).toBe(1);
    expect(() => checkInstances('r', { ...ok, labels: new Int32Array([3]) }, [4, 4], 3)).toThrow(/label 3 out of \[0, 3\)/);
    expect(() => checkInstances('r', { ...ok, scores: new Float32Array([1.5]) }, [4, 4], 3)).toThrow(/score 1\.5 is not in \[0, 1\]/);
    expect(() => checkInstances('r', { ...ok, bboxes: new Float32Array([3, 1, 1, 3]) }, [4, 4], 3)).toThrow(/box 0/);
  });
  it('makeSample sets the meta information', () => {
    const s = makeSample({ inputSize: [32, 32], imgShape: [24, 32], oriShape: [12, 16], instances: [{ box: [4, 4, 12, 12], label: 1, shape: 'rect' }] });
    expect(s.metainfo.scaleFactor).toEqual([2, 2]);
    expect(s.gtInstances!.masks!.data.reduce((a, b) => a + b, 0)).toBe(64);
  });
});
