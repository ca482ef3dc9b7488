// SPDX-License-Identifier: Apache-2.0
/**
 * mmengine `init_cfg` applied to a module tree: a map or a list of maps such as
 * `{type: Kaiming, layer: Conv2d}`, `{type: Constant, val: 1, layer: [_BatchNorm, GroupNorm]}` and
 * `{type: Normal, std: 0.01, bias_prob: 0.01, override: {name: conv_cls}}`.
 *
 * - `layer` (a class name or list) initialises every matching module below the root: `Conv2d` (including the
 *   `conv` inside each ConvModule and the `conv_offset` of deformable convs: mmengine matches by class name and
 *   mmcv's `conv_offset` is an `nn.Conv2d`), and the norms `_BatchNorm` / `BatchNorm2d` / `SyncBatchNorm` /
 *   `GroupNorm` (whose weight takes `val` and bias `bias`; only `Constant` makes sense there).
 * - `override: {name: child}` (or a list) initialises the named child as a whole (every Conv2d inside it) with
 *   the outer settings, updated by the override's own keys (mmengine `wholemodule`).
 * - `bias_prob: p` sets the bias to `-log((1 - p) / p)` (mmcv `bias_init_with_prob`).
 * - `Pretrained` entries are skipped here: loading checkpoints is the engine's job.
 * Entries apply in order, so later ones win. Types: Normal, Constant, Xavier, Kaiming, Uniform.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type Module } from '@solo-ts/core';
import { Conv2d } from './conv2d.js';
import { convFans, initBias, initWeight, type InitCfg } from './init.js';
import { BatchNorm2d, GroupNorm } from './norm.js';

type Raw = Record<string, unknown>;

/** mmcv `bias_init_with_prob`. */
export function biasInitWithProb(p: number): number {
  return -Math.log((1 - p) / p);
}

const NORM_LAYERS: Record<string, (m: Module) => boolean> = {
  _BatchNorm: (m) => m instanceof BatchNorm2d,
  BatchNorm2d: (m) => m instanceof BatchNorm2d,
  SyncBatchNorm: (m) => m instanceof BatchNorm2d,
  GroupNorm: (m) => m instanceof GroupNorm,
};
const LAYER_NAMES = ['Conv2d', ...Object.keys(NORM_LAYERS)];

/** The ops-level init of one mmengine init_cfg entry. */
export function initCfgFromMmengine(entry: Raw, where: string): InitCfg {
  const num = (k: string): number | undefined => (typeof entry[k] === 'number' ? (entry[k] as number) : undefined);
  let bias = num('bias') ?? 0;
  const bp = num('bias_prob');
  if (bp !== undefined) bias = biasInitWithProb(bp);
  switch (entry.type) {
    case 'Normal':
      return { type: 'normal', std: num('std') ?? 1, mean: num('mean') ?? 0, bias };
    case 'Constant':
      return { type: 'constant', val: num('val') ?? 0, bias };
    case 'Xavier':
      return { type: 'xavier', gain: num('gain') ?? 1, distribution: (entry.distribution as 'uniform' | 'normal') ?? 'normal', bias };
    case 'Kaiming':
      return {
        type: 'kaiming',
        a: num('a') ?? 0,
        mode: (entry.mode as 'fan_in' | 'fan_out') ?? 'fan_out',
        nonlinearity: (entry.nonlinearity as 'relu' | 'leaky_relu' | 'linear') ?? 'relu',
        distribution: (entry.distribution as 'uniform' | 'normal') ?? 'normal',
        bias,
      };
    case 'Uniform':
      return { type: 'uniform', a: num('a') ?? 0, b: num('b') ?? 1, bias };
    default:
      throw new ConfigError(`${where}: unsupported init type ${JSON.stringify(entry.type)}`, {
        expected: 'one of Normal, Constant, Xavier, Kaiming, Uniform, Pretrained',
      });
  }
}

function assignParam(p: { assign(t: tf.Tensor): void }, t: tf.Tensor): void {
  p.assign(t);
  t.dispose();
}

/** Re-initialise one Conv2d in place; `cfg` undefined = PyTorch's default `reset_parameters`. */
export function initConv(conv: Conv2d, cfg: InitCfg | undefined): void {
  assignParam(conv.weight, initWeight([...conv.weight.shape], cfg));
  if (conv.bias) assignParam(conv.bias, initBias(conv.outChannels, convFans(conv.weight.shape).fanIn, cfg));
}

/** Re-initialise one norm layer in place: weight `val`, bias `bias` (mmcv `constant_init`). */
export function initNorm(norm: BatchNorm2d | GroupNorm, val: number, bias = 0): void {
  if (norm.weight) assignParam(norm.weight, tf.fill([...norm.weight.shape], val));
  if (norm.bias) assignParam(norm.bias, tf.fill([...norm.bias.shape], bias));
}

/** PyTorch's own initialisation of every Conv2d and norm below `root` (what mmengine leaves when init_cfg is `[]`). */
export function resetToTorchDefaults(root: Module): void {
  for (const [, m] of root.namedModules()) {
    if (m instanceof Conv2d) initConv(m, undefined);
    else if (m instanceof BatchNorm2d || m instanceof GroupNorm) initNorm(m, 1, 0);
  }
}

function modulesBelow(m: Module, match: (x: Module) => boolean): Module[] {
  const out: Module[] = [];
  for (const [, sub] of m.namedModules()) if (match(sub)) out.push(sub);
  return out;
}

function child(root: Module, name: string): Module | undefined {
  let cur: Module | undefined = root;
  for (const part of name.split('.')) {
    let next: Module | undefined;
    for (const [n, c] of cur.namedChildren()) if (n === part) next = c;
    cur = next;
    if (!cur) return undefined;
  }
  return cur;
}

function applyTo(m: Module, cfg: InitCfg, where: string, layer: string): void {
  if (m instanceof Conv2d) initConv(m, cfg);
  else if (m instanceof BatchNorm2d || m instanceof GroupNorm) {
    if (cfg.type !== 'constant') {
      throw new ConfigError(`${where}: init_cfg layer ${layer} (a norm) can only take a Constant init, not ${cfg.type}`, { expected: "{type: Constant, val: 1, layer: ['_BatchNorm', 'GroupNorm']}" });
    }
    initNorm(m, cfg.val, cfg.bias ?? 0);
  }
}

/**
 * True when `initCfg` re-initialises weights: an empty list (PyTorch's layer init, as mmengine leaves it) or any
 * entry other than `Pretrained`. False for null / undefined and for Pretrained-only configs.
 */
export function initCfgHasInit(initCfg: unknown): boolean {
  if (initCfg === null || initCfg === undefined) return false;
  const entries = Array.isArray(initCfg) ? initCfg : [initCfg];
  return entries.length === 0 || entries.some((e) => !(e && typeof e === 'object' && (e as Raw).type === 'Pretrained'));
}

/** Apply an mmengine-style `init_cfg` (map or list) to `root`. `where` names the component for messages. */
export function applyInitCfg(root: Module, initCfg: unknown, where: string): void {
  if (initCfg === null || initCfg === undefined) return;
  const entries = (Array.isArray(initCfg) ? initCfg : [initCfg]) as unknown[];
  for (const e of entries) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new ConfigError(`${where}: init_cfg entries must be maps with a \`type\``);
    const entry = e as Raw;
    if (entry.type === 'Pretrained') continue; // handled by checkpoint loading, not here
    if (entry.layer !== undefined) {
      const layers = Array.isArray(entry.layer) ? entry.layer : [entry.layer];
      const cfg = initCfgFromMmengine(entry, where);
      for (const l of layers) {
        if (typeof l !== 'string' || !LAYER_NAMES.includes(l)) {
          throw new ConfigError(`${where}: init_cfg layer ${JSON.stringify(l)} is not supported`, { expected: LAYER_NAMES.join(', ') });
        }
        const match = l === 'Conv2d' ? (m: Module) => m instanceof Conv2d : NORM_LAYERS[l];
        for (const m of modulesBelow(root, match)) applyTo(m, cfg, where, l);
      }
    }
    if (entry.override !== undefined) {
      const overrides = (Array.isArray(entry.override) ? entry.override : [entry.override]) as Raw[];
      for (const o of overrides) {
        const name = o?.name;
        if (typeof name !== 'string') throw new ConfigError(`${where}: init_cfg override needs a \`name\``);
        const target = child(root, name);
        if (!target) throw new ConfigError(`${where}: init_cfg override names \`${name}\`, which is not a child of ${where}`);
        const merged: Raw = { ...entry, ...o };
        delete merged.override;
        delete merged.layer;
        const cfg = initCfgFromMmengine(merged, where);
        if (cfg.type === 'constant') {
          for (const m of modulesBelow(target, (x) => x instanceof Conv2d || x instanceof BatchNorm2d || x instanceof GroupNorm)) applyTo(m, cfg, where, name);
        } else {
          for (const m of modulesBelow(target, (x) => x instanceof Conv2d)) applyTo(m, cfg, where, name);
        }
      }
    }
  }
}
