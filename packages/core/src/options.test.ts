// SPDX-License-Identifier: Apache-2.0
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineOptions,
  isDeclaredOptions,
  isOptionName,
  resolveOptions,
  typed,
  type CamelCase,
  type ComponentConfig,
  type OptionSpecs,
  type OptionsInput,
  type ResolvedOptions,
} from './options.js';
import { component, ComponentModule, Registry, type BuildContext, type ComponentClass } from './registry.js';
import { setConfigSource } from './config-source.js';
import { ConfigError, RegistryError } from './errors.js';

const lossOptions = defineOptions({
  use_sigmoid: { type: 'boolean', default: true, doc: 'sigmoid' },
  reduction: { type: 'string', default: 'mean', enum: ['none', 'mean', 'sum'], doc: 'reduction' },
  loss_weight: { type: 'number', default: 1, doc: 'weight' },
  num_classes: { type: 'integer', required: true, doc: 'classes' },
  stem_channels: { type: 'integer', nullable: true, default: null, doc: 'stem' },
  strides: { type: 'array', items: 'integer', default: [8, 16], doc: 'strides' },
  scale_ranges: { type: 'array', items: { type: 'array', items: 'number' }, default: [[1, 96]], doc: 'ranges' },
  loss_mask: { type: 'config', default: { type: 'DiceLoss' }, doc: 'mask loss' },
  train_cfg: { type: 'object', nullable: true, doc: 'training settings' },
  prob: typed<number | number[]>()({ type: 'any', required: true, doc: 'probability' }),
  extra_2d: { type: 'any', doc: 'anything' },
});

class TypedLoss {
  static readonly type = 'test.TypedLoss';
  static readonly options = lossOptions;
  readonly o: ResolvedOptions<typeof lossOptions>;
  constructor(options: OptionsInput<typeof lossOptions>, _ctx?: BuildContext) {
    this.o = resolveOptions(lossOptions, options, 'test.TypedLoss');
  }
}

describe('defineOptions: types', () => {
  it('derives camelCase keys and value types from the declaration', () => {
    expectTypeOf<CamelCase<'loss_weight'>>().toEqualTypeOf<'lossWeight'>();
    expectTypeOf<CamelCase<'extra_2d'>>().toEqualTypeOf<'extra2d'>();
    expectTypeOf<CamelCase<'a__b'>>().toEqualTypeOf<'a_B'>();
    expectTypeOf<CamelCase<'T_max'>>().toEqualTypeOf<'TMax'>();
    type R = ResolvedOptions<typeof lossOptions>;
    expectTypeOf<R>().toEqualTypeOf<{
      useSigmoid: boolean;
      reduction: 'none' | 'mean' | 'sum';
      lossWeight: number;
      numClasses: number;
      stemChannels: number | null;
      strides: number[];
      scaleRanges: number[][];
      lossMask: ComponentConfig;
      prob: number | number[];
      trainCfg?: Record<string, unknown> | null;
      extra2d?: unknown;
    }>();
    type I = OptionsInput<typeof lossOptions>;
    expectTypeOf<I['numClasses']>().toEqualTypeOf<number>();
    expectTypeOf<I['lossWeight']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<{ numClasses: 3; prob: 0.5 }>().toMatchTypeOf<I>();
    expectTypeOf<{ prob: 0.5 }>().not.toMatchTypeOf<I>();
  });

  it('an old-form OptionSpecs resolves to a string-keyed record', () => {
    expectTypeOf<ResolvedOptions<OptionSpecs>>().toEqualTypeOf<{ [x: string]: unknown }>();
  });

  it('ties a component class to its declaration', () => {
    expectTypeOf(TypedLoss).toMatchTypeOf<ComponentClass<TypedLoss, typeof lossOptions>>();
    class Wrong {
      static readonly type = 'test.Wrong';
      static readonly options = lossOptions;
      constructor(readonly o: { lossWeight: string }) {}
    }
    expectTypeOf(Wrong).not.toMatchTypeOf<ComponentClass<Wrong, typeof lossOptions>>();
    // @ts-expect-error the constructor does not take the declared options
    component('models', Wrong);
    component('models', TypedLoss);
  });
});

describe('defineOptions: declaration checks', () => {
  it('rejects defaults of the wrong kind, required options with defaults, camelCase names and missing docs', () => {
    expect(() => defineOptions({ size: { type: 'integer', default: 2.5, doc: 'size' } })).toThrow(/default of option `size` must be a integer/);
    expect(() => defineOptions({ s: { type: 'string', enum: ['a'], default: 'b', doc: 's' } })).toThrow(/must be one of "a"/);
    expect(() => defineOptions({ xs: { type: 'array', items: 'number', default: [1, 'x'], doc: 'x' } })).toThrow(/element \[1\]/);
    expect(() => defineOptions({ n: { type: 'integer', required: true, default: 1, doc: 'n' } })).toThrow(/required and has a default/);
    expect(() => defineOptions({ numClasses: { type: 'integer', doc: 'n' } })).toThrow(/not snake_case/);
    expect(() => defineOptions({ TMax: { type: 'integer', doc: 'n' } })).toThrow(/not snake_case/);
    expect(() => defineOptions({ n: { type: 'integer', doc: ' ' } })).toThrow(/no doc line/);
    expect(isDeclaredOptions(lossOptions)).toBe(true);
    expect(isDeclaredOptions({ a: { doc: 'a' } })).toBe(false);
    expect(Object.isFrozen(lossOptions)).toBe(true);
  });
});

describe('option names: snake_case and mmengine capitals', () => {
  it('accepts snake_case and single capital words (T_max), rejects camelCase', () => {
    for (const ok of ['lr', 'loss_weight', 'num_grids', 'out_indices_2', 'T_max', 'T_0', 'T_mult']) expect(isOptionName(ok), ok).toBe(true);
    for (const bad of ['lossWeight', 'TMax', 'T_Max', 'Tmax', '_x', '2d', 'a-b', '']) expect(isOptionName(bad), bad).toBe(false);
  });
  it('maps T_max to TMax for types, checks and defaults', () => {
    const decl = defineOptions({ T_max: { type: 'integer', doc: 'half period' }, eta_min: { type: 'number', default: 0, doc: 'floor' } });
    expectTypeOf<ResolvedOptions<typeof decl>>().toEqualTypeOf<{ TMax?: number; etaMin: number }>();
    expect(isDeclaredOptions(decl)).toBe(true);
    expect(resolveOptions(decl, { TMax: 10 }, 'Sched')).toEqual({ TMax: 10, etaMin: 0 });
    expect(() => resolveOptions(decl, { TMax: 1.5 }, 'Sched')).toThrow(/option `T_max` of Sched must be a integer/);
  });
});

describe('resolveOptions', () => {
  it('fills defaults (fresh copies) and keeps given values', () => {
    const a = new TypedLoss({ numClasses: 3, prob: 0.5, lossWeight: 2 });
    expect(a.o).toEqual({
      useSigmoid: true,
      reduction: 'mean',
      lossWeight: 2,
      numClasses: 3,
      stemChannels: null,
      strides: [8, 16],
      scaleRanges: [[1, 96]],
      lossMask: { type: 'DiceLoss' },
      prob: 0.5,
    });
    const b = new TypedLoss({ numClasses: 3, prob: 0.5, lossWeight: undefined });
    expect(b.o.lossWeight).toBe(1);
    b.o.strides.push(64);
    expect(new TypedLoss({ numClasses: 1, prob: 1 }).o.strides).toEqual([8, 16]);
    // resolving resolved options changes nothing
    expect(resolveOptions(lossOptions, a.o, 'x')).toEqual(a.o);
  });

  it('rejects unknown keys, wrong kinds, enums, array items and missing required options with a ConfigError', () => {
    const bad = (o: object) => () => new TypedLoss(o as OptionsInput<typeof lossOptions>);
    expect(bad({ numClasses: 3, prob: 1, lossWieght: 1 })).toThrow(ConfigError);
    expect(bad({ numClasses: 3, prob: 1, lossWieght: 1 })).toThrow(/unknown option `lossWieght` for test.TypedLoss/);
    expect(bad({ numClasses: 3.5, prob: 1 })).toThrow(/option `num_classes` of test.TypedLoss must be a integer, got number 3.5/);
    expect(bad({ numClasses: 3, prob: 1, reduction: 'avg' })).toThrow(/must be one of "none", "mean", "sum", got "avg"/);
    expect(bad({ numClasses: 3, prob: 1, scaleRanges: [[1, 2], [3, 'x']] })).toThrow(/option `scale_ranges\[1\]\[1\]` of test.TypedLoss must be a number/);
    expect(bad({ numClasses: 3, prob: 1, stemChannels: null, useSigmoid: null })).toThrow(/`use_sigmoid` .* must be a boolean, got null/);
    expect(bad({ prob: 1 })).toThrow(/test.TypedLoss needs option `num_classes` \(classes\)/);
    try {
      bad({ numClasses: 3, prob: 1, lossWieght: 1 })();
    } catch (e) {
      expect((e as ConfigError).code).toBe('CONFIG');
      expect((e as ConfigError).hint).toContain('`loss_weight`');
    }
  });
});

describe('Registry with declared options', () => {
  const registry = () => new Registry().load(new ComponentModule('@test/typed', [component('models', TypedLoss)]));

  it('builds with defaults, YAML keys in snake_case, config maps left raw', () => {
    const l = registry().build<TypedLoss>('models', { type: 'test.TypedLoss', num_classes: 2, prob: [0.1, 0.2], loss_mask: { type: 'X', eps: 1 } });
    expect(l.o.numClasses).toBe(2);
    expect(l.o.prob).toEqual([0.1, 0.2]);
    expect(l.o.lossMask).toEqual({ type: 'X', eps: 1 });
    expect(l.o.reduction).toBe('mean');
  });

  it('reports problems with the config file and line', () => {
    const cfg = { type: 'test.TypedLoss', num_classes: 2, prob: 1, strides: [8, 'x'] };
    setConfigSource(cfg, { path: 'model.loss', keys: { strides: { file: 'configs/x.yaml', line: 9, column: 3 } } });
    let err: unknown;
    try {
      registry().build('models', cfg, 'model.loss');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).format()).toContain('configs/x.yaml:9:3');
    expect((err as RegistryError).message).toBe('option `strides[1]` of test.TypedLoss must be a integer, got string "x"');
    expect(() => registry().build('models', { type: 'test.TypedLoss', num_classes: 2, prob: 1, numClasses: 2 })).toThrow(/unknown option `numClasses`/);
  });

  it('checks declared extra values, passes undeclared ones through; config values win', () => {
    const r = registry();
    expect(() => r.build('models', { type: 'test.TypedLoss', prob: 1 }, 'm', { numClasses: 'x' })).toThrow(/option `num_classes` of test.TypedLoss must be a integer/);
    const l = r.build<TypedLoss>('models', { type: 'test.TypedLoss', prob: 1, num_classes: 4 }, 'm', { numClasses: 3 });
    expect(l.o.numClasses).toBe(4);
    expect(r.build<TypedLoss>('models', { type: 'test.TypedLoss', prob: 1 }, 'm', { numClasses: 3 }).o.numClasses).toBe(3);
  });
});
