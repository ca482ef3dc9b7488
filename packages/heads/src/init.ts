// SPDX-License-Identifier: Apache-2.0
/**
 * mmengine `init_cfg` for the heads: a map or a list of maps such as
 * `{type: Normal, layer: Conv2d, std: 0.01}` and `{type: Normal, std: 0.01, bias_prob: 0.01, override: {name: conv_cls}}`.
 *
 * - `layer` (a class name or list; `Conv2d` is the one the SOLO family uses) initialises every matching module
 *   below the head, including the `conv` inside each ConvModule and the `conv_offset` of deformable convs
 *   (mmengine matches by class name, and mmcv's `conv_offset` is an `nn.Conv2d`).
 * - `override: {name: child}` (or a list) initialises the named child as a whole (every Conv2d inside it) with
 *   the outer settings, updated by the override's own keys (mmengine `wholemodule`).
 * - `bias_prob: p` sets the bias to `-log((1 - p) / p)` (mmcv `bias_init_with_prob`).
 * Entries apply in order, so later ones win. Types: Normal, Constant, Xavier, Kaiming, Uniform.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type Module } from '@solo-ts/core';
import { Conv2d, initWeight, type InitCfg } from '@solo-ts/ops';

type Raw = Record<string, unknown>;

/** mmcv `bias_init_with_prob`. */
export function biasInitWithProb(p: number): number {
  return -Math.log((1 - p) / p);
}

function toOpsInit(entry: Raw, where: string): InitCfg {
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
        expected: 'one of Normal, Constant, Xavier, Kaiming, Uniform',
      });
  }
}

/** Re-initialise one Conv2d in place. */
export function initConv(conv: Conv2d, cfg: InitCfg): void {
  const w = initWeight([...conv.weight.shape], cfg);
  conv.weight.assign(w);
  w.dispose();
  if (conv.bias) {
    const b = tf.fill([conv.outChannels], cfg.type === 'constant' ? (cfg.bias ?? 0) : (cfg.bias ?? 0));
    conv.bias.assign(b);
    b.dispose();
  }
}

function convsBelow(m: Module): Conv2d[] {
  const out: Conv2d[] = [];
  for (const [, sub] of m.namedModules()) if (sub instanceof Conv2d) out.push(sub);
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
      for (const l of layers) {
        if (l !== 'Conv2d') throw new ConfigError(`${where}: init_cfg layer ${JSON.stringify(l)} is not supported by this head`, { expected: 'Conv2d' });
      }
      const cfg = toOpsInit(entry, where);
      for (const c of convsBelow(root)) initConv(c, cfg);
    }
    if (entry.override !== undefined) {
      const overrides = (Array.isArray(entry.override) ? entry.override : [entry.override]) as Raw[];
      for (const o of overrides) {
        const name = o?.name;
        if (typeof name !== 'string') throw new ConfigError(`${where}: init_cfg override needs a \`name\``);
        const target = child(root, name);
        if (!target) throw new ConfigError(`${where}: init_cfg override names \`${name}\`, which is not a child of the head`);
        const merged: Raw = { ...entry, ...o };
        delete merged.override;
        delete merged.layer;
        const cfg = toOpsInit(merged, where);
        for (const c of convsBelow(target)) initConv(c, cfg);
      }
    }
  }
}
