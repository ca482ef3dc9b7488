// SPDX-License-Identifier: Apache-2.0
/**
 * FLOP counter over a module tree: `countFlops(model, () => model.forwardTensor(x))` runs the function once and
 * returns the FLOPs of every layer it executed, by module path (state-dict names).
 *
 * How: every module's `forward` is wrapped for the duration of the run (to know which module is executing) and
 * the run goes through `tf.profile` (to see every kernel with its shapes). Then:
 * - layers with a closed formula are counted analytically from their input / output shapes and their settings,
 *   and the kernels they ran are ignored (so the count does not depend on how a layer is implemented):
 *   - `Conv2d`: `2 * N * Ho * Wo * Cout * kh * kw * Cin / groups` (+ `N * Ho * Wo * Cout` with a bias); dilation
 *     changes which inputs are read, not how many;
 *   - deformable convs (`ModulatedDeformConv2dPack` / DCNv2, `DeformConv2dPack` / DCNv1): the conv as above over
 *     the sampled columns plus sampling, `N * Ho * Wo * kh * kw * Cin * (7 + 1)` (bilinear: 4 products + 3 sums,
 *     +1 for the modulation mask of DCNv2); their `conv_offset` is a `Conv2d` counted on its own row;
 *   - `BatchNorm2d`: 2 per element in eval mode (scale and shift), 7 in training mode (statistics too);
 *   - `GroupNorm`: 7 per element (mean, centre, square, variance, normalise, scale, shift);
 * - every other kernel (functional ops inside modules: resizes, the dynamic convs of SOLOv2 as matmuls, residual
 *   adds, convs run through `convNormAct` with the BatchNorm folded in, ...) is counted with `kernelFlops` and
 *   attributed to the innermost module executing it; a conv kernel is named after the `Conv2d` of that module
 *   whose weight has the kernel's filter shape (first unused one, in registration order).
 * Activations, comparisons and max-pooling are not counted (see `kernel-flops.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@solo-ts/core';
import { Conv2d } from '../nn/conv2d.js';
import { DeformConv2dPack, ModulatedDeformConv2dPack } from '../nn/dcn.js';
import { BatchNorm2d, GroupNorm } from '../nn/norm.js';
import { kernelFlops, kernelKind, type FlopKind } from './kernel-flops.js';

/** FLOPs of one layer (a module, or the functional ops of a module of one kind). */
export interface LayerFlops {
  /** Module path (state-dict prefix); `(model)` for the root. */
  name: string;
  /** Class of the module, or the kernel names for functional ops. */
  type: string;
  kind: FlopKind;
  flops: number;
  /** Number of calls / kernels that made up this row. */
  calls: number;
  /** Settings and output shape of the last call, e.g. `3x3 s1 d1 g1 256->256 out 1x56x96`. */
  detail: string;
}

export interface FlopReport {
  /** Total FLOPs of the run. */
  total: number;
  /** Totals by kind. */
  byKind: Record<FlopKind, number>;
  /** One row per layer (and per module and kind for functional ops), in execution order. */
  layers: LayerFlops[];
  /** Kernels executed during the run. */
  kernels: number;
  /** Time per kernel name as `tf.profile` measured it during the run (registered kernels only), slowest first. */
  kernelTimes: Array<{ name: string; ms: number; calls: number }>;
  /** Largest tensor memory in use during the run (bytes, `tf.profile`'s peakBytes). */
  peakBytes: number;
}

interface Frame {
  name: string;
  module: Module;
  /** counted analytically: its kernels are ignored */
  analytic: boolean;
  /** convs of this module already matched to kernels in this call */
  used: Set<Conv2d>;
}

type Shape = readonly number[];

function conv2dFlops(m: Conv2d, out: Shape): number {
  const [kh, kw] = m.kernelSize;
  const n = out[0] * out[1] * out[2] * out[3];
  return 2 * n * kh * kw * (m.inChannels / m.groups) + (m.bias ? n : 0);
}

function convDetail(m: { kernelSize: [number, number]; stride: [number, number]; dilation: [number, number]; groups: number; inChannels: number; outChannels: number }, out: Shape): string {
  const [kh, kw] = m.kernelSize;
  const s = m.stride[0] === m.stride[1] ? `${m.stride[0]}` : m.stride.join(',');
  const d = m.dilation[0] === m.dilation[1] ? `${m.dilation[0]}` : m.dilation.join(',');
  return `${kh}x${kw} s${s} d${d} g${m.groups} ${m.inChannels}->${m.outChannels} out ${out.slice(0, 3).join('x')}`;
}

/** Analytic FLOPs and a description of a call of `m`, or null when `m` has no closed formula. */
function analyticFlops(m: Module, input: Shape, out: Shape): { flops: number; type: string; kind: FlopKind; detail: string } | null {
  if (m instanceof Conv2d) return { flops: conv2dFlops(m, out), type: 'Conv2d', kind: 'conv', detail: convDetail(m, out) };
  if (m instanceof ModulatedDeformConv2dPack || m instanceof DeformConv2dPack) {
    const [kh, kw] = m.kernelSize;
    const n = out[0] * out[1] * out[2];
    const modulated = m instanceof ModulatedDeformConv2dPack;
    const conv = 2 * n * m.outChannels * kh * kw * (m.inChannels / m.groups) + (m.bias ? n * m.outChannels : 0);
    const sampling = n * kh * kw * m.inChannels * (modulated ? 8 : 7);
    return { flops: conv + sampling, type: modulated ? 'ModulatedDeformConv2dPack' : 'DeformConv2dPack', kind: 'dcn', detail: `${convDetail(m, out)} dg${m.deformGroups}` };
  }
  const elems = input.reduce((a, b) => a * b, 1);
  if (m instanceof BatchNorm2d) return { flops: (m.training ? 7 : 2) * elems, type: 'BatchNorm2d', kind: 'norm', detail: `${m.training ? 'train' : 'eval'} ${input.join('x')}` };
  if (m instanceof GroupNorm) return { flops: 7 * elems, type: 'GroupNorm', kind: 'norm', detail: `G${m.numGroups} ${input.join('x')}` };
  return null;
}

function shapeOf(v: unknown): Shape | null {
  return v instanceof tf.Tensor ? v.shape : null;
}

function emptyKinds(): Record<FlopKind, number> {
  return { conv: 0, dcn: 0, matmul: 0, norm: 0, resize: 0, elementwise: 0, reduce: 0, other: 0 };
}

/** The convs of a module subtree by full name (cached per module). */
function convsOf(frame: Frame, cache: Map<Module, Array<[string, Conv2d]>>): Array<[string, Conv2d]> {
  let list = cache.get(frame.module);
  if (!list) {
    list = [...frame.module.namedModules(frame.name === '(model)' ? '' : frame.name)].filter((e): e is [string, Conv2d] => e[1] instanceof Conv2d);
    cache.set(frame.module, list);
  }
  return list;
}

/**
 * Run `run` once and count the FLOPs of what it executes inside `root` (see the module doc). The result of `run`
 * is returned as well (the caller owns it). Not re-entrant; other tfjs work must not run concurrently.
 */
export async function countFlops<T>(root: Module, run: () => T | Promise<T>): Promise<{ report: FlopReport; result: T }> {
  const engine = tf.engine();
  const kernelCount = (): number => engine.state.activeProfile?.kernels?.length ?? 0;
  // kernel index ranges and the frame that ran them
  const segments: Array<{ end: number; frame: Frame }> = [];
  const rootFrame: Frame = { name: '(model)', module: root, analytic: false, used: new Set() };
  const stack: Frame[] = [rootFrame];
  let mark = 0;
  const flush = (): void => {
    const now = kernelCount();
    if (now > mark) segments.push({ end: now, frame: stack[stack.length - 1] });
    mark = now;
  };
  const rows = new Map<string, LayerFlops>();
  const addRow = (key: string, row: Omit<LayerFlops, 'calls'>): void => {
    const r = rows.get(key);
    if (r) {
      r.flops += row.flops;
      r.calls += 1;
      r.detail = row.detail;
      if (!r.type.split('+').includes(row.type)) r.type = `${r.type}+${row.type}`;
    } else {
      rows.set(key, { ...row, calls: 1 });
    }
  };

  const restore: Array<() => void> = [];
  for (const [path, m] of root.namedModules()) {
    const target = m as unknown as Record<string, unknown>;
    const orig = target.forward;
    if (typeof orig !== 'function') continue;
    const own = Object.prototype.hasOwnProperty.call(target, 'forward');
    const name = path === '' ? '(model)' : path;
    target.forward = function wrapped(this: unknown, ...args: unknown[]): unknown {
      flush();
      const analyticProbe = m instanceof Conv2d || m instanceof ModulatedDeformConv2dPack || m instanceof DeformConv2dPack || m instanceof BatchNorm2d || m instanceof GroupNorm;
      if (path === '') rootFrame.analytic = analyticProbe;
      const frame: Frame = path === '' ? rootFrame : { name, module: m, analytic: analyticProbe, used: new Set() };
      if (frame !== rootFrame) stack.push(frame);
      const exit = (result: unknown): unknown => {
        flush();
        if (frame !== rootFrame) stack.pop();
        const input = shapeOf(args[0]);
        const out = shapeOf(result);
        if (frame.analytic && input && out) {
          const a = analyticFlops(m, input, out);
          if (a) addRow(`${name}\u0000${a.kind}`, { name, ...a });
        }
        return result;
      };
      let result: unknown;
      try {
        result = (orig as (...a: unknown[]) => unknown).apply(this, args);
      } catch (e) {
        flush();
        if (frame !== rootFrame) stack.pop();
        throw e;
      }
      if (result instanceof Promise) return result.then(exit, (e: unknown) => { exit(undefined); throw e; });
      return exit(result);
    };
    restore.push(() => {
      if (own) target.forward = orig;
      else delete target.forward;
    });
  }

  let profile: Awaited<ReturnType<typeof tf.profile>>;
  try {
    profile = await tf.profile(async () => {
      const r = await run();
      flush();
      return r as unknown as tf.TensorContainer;
    });
  } finally {
    for (const r of restore) r();
  }

  const convCache = new Map<Module, Array<[string, Conv2d]>>();
  let start = 0;
  for (const seg of segments) {
    const frame = seg.frame;
    for (let i = start; i < seg.end; i++) {
      if (frame.analytic) continue;
      const k = profile.kernels[i];
      const inputs = k.inputShapes as Array<number[] | null>;
      const flops = kernelFlops(k.name, inputs, k.outputShapes);
      const kind = kernelKind(k.name);
      if (flops === 0 && kind === 'other') continue;
      if ((k.name === 'Conv2D' || k.name === 'FusedConv2D') && inputs[1]) {
        const f = inputs[1];
        const match = convsOf(frame, convCache).find(([, c]) => !frame.used.has(c) && c.groups === 1 && c.weight.shape.every((d, j) => d === f[j]));
        if (match) {
          frame.used.add(match[1]);
          const out = k.outputShapes[0];
          addRow(`${match[0]}\u0000conv`, { name: match[0], type: 'Conv2d', kind: 'conv', flops, detail: `${convDetail(match[1], out)} (${k.name})` });
          continue;
        }
      }
      addRow(`${frame.name}\u0000${kind}`, { name: frame.name, type: k.name, kind, flops, detail: `out ${(k.outputShapes[0] ?? []).join('x')}` });
    }
    start = seg.end;
  }
  const backendName = tf.getBackend();
  const times = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels) {
    if (!tf.getKernel(k.name, backendName)) continue;
    const t = times.get(k.name) ?? { ms: 0, calls: 0 };
    t.ms += Number(k.kernelTimeMs) || 0;
    t.calls += 1;
    times.set(k.name, t);
  }
  const kernelTimes = [...times].map(([name, t]) => ({ name, ...t })).sort((a, b) => b.ms - a.ms);
  const layers = [...rows.values()];
  const byKind = emptyKinds();
  for (const l of layers) byKind[l.kind] += l.flops;
  const total = layers.reduce((s, l) => s + l.flops, 0);
  return { report: { total, byKind, layers, kernels: profile.kernels.length, kernelTimes, peakBytes: profile.peakBytes }, result: profile.result as unknown as T };
}

/** A fixed-width text table of a report's layers (FLOPs in GFLOP and % of the total). */
export function formatFlopTable(report: FlopReport, options: { minShare?: number } = {}): string {
  const min = options.minShare ?? 0;
  const lines = [`${'layer'.padEnd(52)} ${'type'.padEnd(26)} ${'GFLOP'.padStart(9)} ${'%'.padStart(6)}  detail`];
  let hidden = 0;
  let hiddenFlops = 0;
  for (const l of report.layers) {
    const share = report.total > 0 ? l.flops / report.total : 0;
    if (share < min) {
      hidden++;
      hiddenFlops += l.flops;
      continue;
    }
    const name = l.name.length > 52 ? `...${l.name.slice(-49)}` : l.name;
    const type = l.type.length > 26 ? `${l.type.slice(0, 23)}...` : l.type;
    lines.push(`${name.padEnd(52)} ${type.padEnd(26)} ${(l.flops / 1e9).toFixed(3).padStart(9)} ${(100 * share).toFixed(2).padStart(6)}  ${l.detail}${l.calls > 1 ? ` (${l.calls} calls)` : ''}`);
  }
  if (hidden) lines.push(`(${hidden} rows under ${(100 * min).toFixed(2)}% hidden: ${(hiddenFlops / 1e9).toFixed(3)} GFLOP)`);
  const kinds = Object.entries(report.byKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${(v / 1e9).toFixed(2)}`).join(', ');
  lines.push(`total ${(report.total / 1e9).toFixed(3)} GFLOP (${kinds})${report.kernels ? `; ${report.kernels} kernels` : ''}`);
  return lines.join('\n');
}
