import { describe, expect, it } from 'vitest';
import { ComponentModule, Registry, type BuildContext } from './registry.js';
import type { OptionSpecs } from './options.js';
import { setConfigSource } from './config-source.js';
import { isSoloError, RegistryError } from './errors.js';

class Loss {
  static readonly type = 'DiceLoss';
  static readonly options: OptionSpecs = {
    loss_weight: { type: 'number', default: 1, doc: 'weight' },
    use_sigmoid: { type: 'boolean', default: true, doc: 'sigmoid' },
  };
  constructor(readonly opts: { lossWeight: number; useSigmoid: boolean }) {}
}
class Head {
  static readonly type = 'SOLOV2Head';
  static readonly options: OptionSpecs = {
    num_classes: { type: 'integer', required: true, doc: 'classes' },
    loss_mask: { type: 'config', default: { type: 'DiceLoss' }, doc: 'mask loss' },
    in_channels: { type: 'integer', default: 256, doc: 'input channels' },
  };
  readonly loss: Loss;
  constructor(readonly opts: { numClasses: number; lossMask: unknown; inChannels: number }, ctx: BuildContext) {
    this.loss = ctx.build<Loss>('models', opts.lossMask, 'loss_mask');
  }
}
const mod = new ComponentModule('@test/pkg', [
  { scope: 'models', component: Loss },
  { scope: 'models', component: Head },
]);

describe('Registry', () => {
  it('builds nested components with defaults and camelCase options', () => {
    const r = new Registry().load(mod);
    const h = r.build<Head>('models', { type: 'SOLOV2Head', num_classes: 3, loss_mask: { type: 'DiceLoss', loss_weight: 3 } }, 'model.mask_head');
    expect(h.opts.numClasses).toBe(3);
    expect(h.opts.inChannels).toBe(256);
    expect(h.loss.opts.lossWeight).toBe(3);
    expect(h.loss.opts.useSigmoid).toBe(true);
    expect(r.list('models')).toEqual(['DiceLoss', 'SOLOV2Head']);
  });

  it('extra options are overridden by config values', () => {
    const r = new Registry().load(mod);
    const h = r.build<Head>('models', { type: 'SOLOV2Head', num_classes: 3, in_channels: 64 }, 'm', { inChannels: 32 });
    expect(h.opts.inChannels).toBe(64);
    const h2 = r.build<Head>('models', { type: 'SOLOV2Head', num_classes: 3 }, 'm', { inChannels: 32 });
    expect(h2.opts.inChannels).toBe(32);
  });

  it('unknown type names the scope, closest keys and the config location', () => {
    const r = new Registry().load(mod);
    const cfg = { type: 'SOLOv2Head', num_classes: 3 };
    setConfigSource(cfg, { path: 'model.mask_head', keys: { type: { file: 'configs/x.yaml', line: 7, column: 11 } } });
    let err: unknown;
    try {
      r.build('models', cfg, 'model.mask_head');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegistryError);
    const text = (err as RegistryError).format();
    expect(text).toContain('configs/x.yaml:7:11');
    expect(text).toContain('model.mask_head.type');
    expect(text).toContain('scope "models"');
    expect(text).toContain('SOLOV2Head');
  });

  it('unknown option is an error with a suggestion', () => {
    const r = new Registry().load(mod);
    expect(() => r.build('models', { type: 'SOLOV2Head', num_clases: 3 }, 'model.mask_head')).toThrow(/unknown option `num_clases`[\s\S]*/);
    try {
      r.build('models', { type: 'SOLOV2Head', num_clases: 3 }, 'model.mask_head');
    } catch (e) {
      expect(isSoloError(e)).toBe(true);
      expect((e as RegistryError).hint).toContain('num_classes');
    }
  });

  it('type and required checks', () => {
    const r = new Registry().load(mod);
    expect(() => r.build('models', { type: 'SOLOV2Head', num_classes: 'x' }, 'h')).toThrow(/must be a integer/);
    expect(() => r.build('models', { type: 'SOLOV2Head' }, 'h')).toThrow(/needs option `num_classes`/);
    expect(() => r.build('models', [1, 2], 'h')).toThrow(/must be a map/);
    expect(() => r.build('models', { num_classes: 1 }, 'h')).toThrow(/no `type` key/);
  });

  it('duplicate registration fails unless marked override', () => {
    const r = new Registry().load(mod);
    class Other {
      static readonly type = 'DiceLoss';
      constructor() {}
    }
    expect(() => r.register('models', Other, { package: '@acme/x' })).toThrow(/duplicate registration of "DiceLoss"/);
    r.register('models', Other, { package: '@acme/x', override: true });
    expect(r.get('models', 'DiceLoss')?.package).toBe('@acme/x');
    expect(r.build('models', { type: 'DiceLoss', anything: 1 })).toBeInstanceOf(Other);
  });

  it('namespaced plugin keys and hints', () => {
    const r = new Registry().load(mod);
    expect(() => r.build('models', { type: 'acme.SparseHead' })).toThrow(RegistryError);
    try {
      r.build('models', { type: 'acme.SparseHead' });
    } catch (e) {
      expect((e as RegistryError).hint).toContain('custom_imports');
    }
    class Sparse {
      static readonly type = 'acme.SparseHead';
    }
    r.load(new ComponentModule('acme-solo-plugin', [{ scope: 'models', component: Sparse }]));
    expect(r.build('models', { type: 'acme.SparseHead' })).toBeInstanceOf(Sparse);
  });

  it('loading the same module twice is a no-op; factories work', () => {
    const r = new Registry().load(mod).load(mod);
    r.register('task_utils', { type: 'Mul', create: (o: { k?: number }) => (x: number) => x * (o.k ?? 2) });
    expect(r.build<(x: number) => number>('task_utils', { type: 'Mul', k: 3 })(2)).toBe(6);
  });
});

import { SeededRandom } from './random.js';
describe('SeededRandom', () => {
  it('is deterministic, resumable and uniform enough', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xs);
    const st = a.state();
    const next = a.random();
    const c = new SeededRandom(1);
    c.setState(st);
    expect(c.random()).toBe(next);
    expect(new SeededRandom(43).random()).not.toBe(xs[0]);
    let sum = 0;
    const r = new SeededRandom(7);
    for (let i = 0; i < 10000; i++) sum += r.random();
    expect(Math.abs(sum / 10000 - 0.5)).toBeLessThan(0.02);
    expect([...new SeededRandom(3).permutation(10)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
