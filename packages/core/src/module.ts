// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch-like modules over TensorFlow.js.
 *
 * A `Module` owns named child modules, parameters (trainable `tf.Variable`s) and buffers (non-trainable state
 * such as BatchNorm running statistics). Names join with dots exactly as PyTorch's `state_dict()` does, so the
 * keys are mmdetection's (`backbone.layer1.0.conv1.weight`, `neck.fpn_convs.0.conv.bias`, ...).
 *
 * Layout: tensors are NHWC inside, conv weights HWIO. Each parameter records its PyTorch layout (`torchLayout`)
 * so checkpoints in PyTorch layout (OIHW) are converted on load and on export.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from './errors.js';

/** How a tensor is laid out in PyTorch relative to ours. */
export type TorchLayout =
  /** identical (bias, norm weights, running stats) */
  | 'same'
  /** conv weight: PyTorch OIHW <-> ours HWIO */
  | 'conv'
  /** linear weight: PyTorch (out, in) <-> ours (in, out) */
  | 'linear';

/** A plain tensor record, independent of tfjs (what checkpoint readers return). */
export interface TensorRecord {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | Int8Array | Int16Array | Uint16Array;
}

export class Parameter {
  /** The variable holding the value (our layout). */
  variable: tf.Variable;
  constructor(
    value: tf.Tensor,
    /** Whether the optimizer updates it (false for frozen stages). */
    public requiresGrad = true,
    readonly torchLayout: TorchLayout = 'same',
  ) {
    this.variable = tf.variable(value, requiresGrad);
  }
  get shape(): number[] {
    return this.variable.shape;
  }
  /** Replace the value (same shape), disposing nothing the caller owns. */
  assign(value: tf.Tensor): void {
    this.variable.assign(value);
  }
  setRequiresGrad(flag: boolean): void {
    this.requiresGrad = flag;
    this.variable.trainable = flag;
  }
}

/** Converts a tensor from PyTorch layout to ours. Returns a new tensor owned by the caller. */
export function fromTorchLayout(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  return tf.tidy(() => {
    if (layout === 'conv') return tf.transpose(t, [2, 3, 1, 0]);
    if (layout === 'linear') return tf.transpose(t, [1, 0]);
    return tf.clone(t);
  });
}

/** Converts a tensor from our layout to PyTorch's. Returns a new tensor owned by the caller. */
export function toTorchLayout(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  return tf.tidy(() => {
    if (layout === 'conv') return tf.transpose(t, [3, 2, 0, 1]);
    if (layout === 'linear') return tf.transpose(t, [1, 0]);
    return tf.clone(t);
  });
}

/** PyTorch-layout shape of one of our tensors. */
export function torchShape(shape: readonly number[], layout: TorchLayout): number[] {
  if (layout === 'conv') return [shape[3], shape[2], shape[0], shape[1]];
  if (layout === 'linear') return [shape[1], shape[0]];
  return [...shape];
}

interface BufferSlot {
  tensor: tf.Tensor;
  torchLayout: TorchLayout;
  /** Buffers such as `num_batches_tracked` are kept only for state-dict compatibility. */
  persistent: boolean;
}

export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  mismatched: Array<{ key: string; expected: number[]; got: number[] }>;
}

export interface LoadOptions {
  /** Fail on any missing, unexpected or mismatched key (default true). */
  strict?: boolean;
  /** Name of the source, for messages. */
  source?: string;
  /** Tensors are in PyTorch layout (default true for .pth / converted checkpoints). */
  torchLayout?: boolean;
}

export abstract class Module {
  /** Training mode (PyTorch `self.training`). */
  training = true;
  private readonly _modules = new Map<string, Module | null>();
  private readonly _params = new Map<string, Parameter>();
  private readonly _buffers = new Map<string, BufferSlot>();

  /** Register a child module under `name` (the state-dict path component). Returns it. */
  protected registerModule<M extends Module | null>(name: string, module: M): M {
    this._modules.set(name, module);
    return module;
  }

  /** Register a parameter; takes ownership of `value`. */
  protected registerParameter(name: string, value: tf.Tensor, options: { requiresGrad?: boolean; torchLayout?: TorchLayout } = {}): Parameter {
    const p = new Parameter(value, options.requiresGrad ?? true, options.torchLayout ?? 'same');
    value.dispose();
    this._params.set(name, p);
    return p;
  }

  /** Register a buffer (non-trainable state saved in the state dict); takes ownership of `value`. */
  protected registerBuffer(name: string, value: tf.Tensor, options: { torchLayout?: TorchLayout; persistent?: boolean } = {}): void {
    const old = this._buffers.get(name);
    if (old && old.tensor !== value) old.tensor.dispose();
    this._buffers.set(name, { tensor: value, torchLayout: options.torchLayout ?? 'same', persistent: options.persistent ?? true });
  }

  /** Current value of a buffer (owned by the module). */
  protected buffer(name: string): tf.Tensor {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name}: no buffer "${name}"`);
    return b.tensor;
  }

  /** Replace a buffer's value; takes ownership of `value` and disposes the old one. */
  protected setBuffer(name: string, value: tf.Tensor): void {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name}: no buffer "${name}"`);
    if (b.tensor !== value) b.tensor.dispose();
    b.tensor = tf.keep(value);
  }

  /** Direct children, in registration order. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [n, m] of this._modules) if (m) yield [n, m];
  }

  /** All modules (self first), with dotted names. */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  /** All parameters with their state-dict names, in PyTorch order (own first, then children). */
  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    for (const [n, p] of this._params) yield [prefix ? `${prefix}.${n}` : n, p];
    for (const [n, m] of this.namedChildren()) yield* m.namedParameters(prefix ? `${prefix}.${n}` : n);
  }

  /** All buffers with their state-dict names. */
  *namedBuffers(prefix = ''): Generator<[string, tf.Tensor, TorchLayout, boolean]> {
    for (const [n, b] of this._buffers) yield [prefix ? `${prefix}.${n}` : n, b.tensor, b.torchLayout, b.persistent];
    for (const [n, m] of this.namedChildren()) yield* m.namedBuffers(prefix ? `${prefix}.${n}` : n);
  }

  /** Parameters the optimizer should update. */
  trainableParameters(): Array<[string, Parameter]> {
    return [...this.namedParameters()].filter(([, p]) => p.requiresGrad);
  }

  /** Number of parameter elements. */
  numParameters(trainableOnly = false): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) if (!trainableOnly || p.requiresGrad) n += p.variable.size;
    return n;
  }

  /** Set training mode recursively (PyTorch `train(mode)`); subclasses re-apply norm_eval / frozen stages. */
  train(mode = true): this {
    this.training = mode;
    for (const [, m] of this.namedChildren()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freeze (or unfreeze) every parameter of this module and its children. */
  requiresGrad(flag: boolean): this {
    for (const [, p] of this.namedParameters()) p.setRequiresGrad(flag);
    return this;
  }

  /**
   * The state dict in OUR layout: name -> tensor (the module's own tensors, not copies: do not dispose).
   * Includes parameters and persistent buffers, like PyTorch.
   */
  stateDict(): Map<string, { tensor: tf.Tensor; torchLayout: TorchLayout }> {
    const out = new Map<string, { tensor: tf.Tensor; torchLayout: TorchLayout }>();
    for (const [n, p] of this.namedParameters()) out.set(n, { tensor: p.variable, torchLayout: p.torchLayout });
    for (const [n, t, layout, persistent] of this.namedBuffers()) if (persistent) out.set(n, { tensor: t, torchLayout: layout });
    return out;
  }

  /**
   * Load tensors by state-dict name. Checks names and shapes; reports missing, unexpected and mismatched keys in
   * one readable message (strict), or skips mismatches and says what it skipped (`strict: false`).
   */
  loadStateDict(state: Map<string, TensorRecord | tf.Tensor>, options: LoadOptions = {}): LoadReport {
    const strict = options.strict ?? true;
    const torch = options.torchLayout ?? true;
    const own = new Map<string, { set(t: tf.Tensor): void; shape: number[]; layout: TorchLayout; dtype: string }>();
    for (const [n, p] of this.namedParameters()) {
      own.set(n, { set: (t) => p.assign(t), shape: p.shape, layout: p.torchLayout, dtype: p.variable.dtype });
    }
    const bufOwners = new Map<string, { m: Module; local: string }>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [local, b] of m._buffers) {
        if (!b.persistent) continue;
        const full = prefix ? `${prefix}.${local}` : local;
        bufOwners.set(full, { m, local });
        own.set(full, { set: (t) => m.setBuffer(local, t), shape: b.tensor.shape, layout: b.torchLayout, dtype: b.tensor.dtype });
      }
    }
    const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
    const plan: Array<[string, TensorRecord | tf.Tensor]> = [];
    for (const [k, v] of state) {
      const slot = own.get(k);
      if (!slot) {
        report.unexpected.push(k);
        continue;
      }
      const expected = torch ? torchShape(slot.shape, slot.layout) : slot.shape;
      const got = [...v.shape];
      const sameShape = expected.length === got.length && expected.every((d, i) => d === got[i]);
      // PyTorch stores 0-d tensors (num_batches_tracked) with shape []: accept [] vs [1] mismatch for scalars.
      const scalarOk = expected.reduce((a, b) => a * b, 1) === 1 && got.reduce((a, b) => a * b, 1) === 1;
      if (!sameShape && !scalarOk) {
        report.mismatched.push({ key: k, expected, got });
        continue;
      }
      plan.push([k, v]);
    }
    for (const k of own.keys()) if (!state.has(k)) report.missing.push(k);
    const problems = report.missing.length + report.unexpected.length + report.mismatched.length;
    if (strict && problems > 0) {
      throw new CheckpointError(formatLoadProblems(report, options.source), {
        hint: report.mismatched.length ? 'to fine-tune with a different head (e.g. another class count) load with strict: false / --load-from, which skips mismatched keys' : undefined,
      });
    }
    for (const [k, v] of plan) {
      const slot = own.get(k)!;
      const t = tf.tidy(() => {
        let x = v instanceof tf.Tensor ? v : recordToTensor(v);
        if (x.dtype !== slot.dtype) x = tf.cast(x, slot.dtype as tf.DataType);
        if (torch) x = fromTorchLayout(x, slot.layout);
        return tf.reshape(x, slot.shape);
      });
      slot.set(t);
      if (!bufOwners.has(k)) t.dispose();
      report.loaded.push(k);
    }
    return report;
  }

  /** Dispose every parameter and buffer. */
  dispose(): void {
    for (const [, p] of this.namedParameters()) p.variable.dispose();
    for (const [, m] of this.namedModules()) {
      for (const [, b] of m._buffers) b.tensor.dispose();
    }
  }
}

/** Human-readable description of a load report's problems. */
export function formatLoadProblems(r: LoadReport, source?: string): string {
  const lines = [`checkpoint${source ? ` ${source}` : ''} does not match the model:`];
  const list = (xs: string[]) => (xs.length > 12 ? `${xs.slice(0, 12).join(', ')}, ... (${xs.length} in all)` : xs.join(', '));
  if (r.missing.length) lines.push(`  missing keys (${r.missing.length}): ${list(r.missing)}`);
  if (r.unexpected.length) lines.push(`  unexpected keys (${r.unexpected.length}): ${list(r.unexpected)}`);
  if (r.mismatched.length) {
    lines.push(`  shape mismatches (${r.mismatched.length}):`);
    for (const m of r.mismatched.slice(0, 12)) lines.push(`    ${m.key}: model [${m.expected.join(', ')}], checkpoint [${m.got.join(', ')}]`);
    if (r.mismatched.length > 12) lines.push(`    ... (${r.mismatched.length} in all)`);
  }
  return lines.join('\n');
}

/** Converts a plain tensor record to a tfjs tensor (float64 -> float32, int64/bool -> int32). */
export function recordToTensor(r: TensorRecord): tf.Tensor {
  const d = r.data;
  if (d instanceof Float32Array) return tf.tensor(d, r.shape, 'float32');
  if (d instanceof Float64Array) return tf.tensor(Float32Array.from(d), r.shape, 'float32');
  if (d instanceof BigInt64Array) return tf.tensor(Int32Array.from(d, (x) => Number(x)), r.shape, 'int32');
  if (d instanceof Int32Array) return tf.tensor(d, r.shape, 'int32');
  return tf.tensor(Int32Array.from(d as ArrayLike<number>), r.shape, 'int32');
}
