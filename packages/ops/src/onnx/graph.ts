// SPDX-License-Identifier: Apache-2.0
/**
 * A small ONNX graph builder (pure TypeScript, no protobuf): the intermediate form modules write their forward
 * into (`toOnnx`), serialized to an `.onnx` file by @solo-ts/onnx.
 *
 * Values are named strings; `node` appends a node in topological order (emission order) and returns the names of
 * its outputs. Initializers hold plain typed arrays in ONNX layout (NCHW activations, OIHW conv weights). Names
 * are scoped by module path (`scope('backbone.layer1.0', ...)`) so a graph viewer shows the state-dict names.
 */
import { SoloError } from '@solo-ts/core';

/** A value of the graph (tensor name). */
export type OnnxValue = string;

/** ONNX tensor element types used here (TensorProto.DataType numbers). */
export const ONNX_DTYPE = { float32: 1, int64: 7, bool: 9 } as const;
export type OnnxDType = keyof typeof ONNX_DTYPE;

/** A typed attribute value. */
export type OnnxAttribute =
  | { type: 'int'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'float'; value: number }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string };

/** Attribute constructors: `{ kernel_shape: attr.ints([3, 3]), epsilon: attr.float(1e-5) }`. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ type: 'int', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ type: 'ints', value: [...value] }),
  float: (value: number): OnnxAttribute => ({ type: 'float', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ type: 'floats', value: [...value] }),
  string: (value: string): OnnxAttribute => ({ type: 'string', value }),
};

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  attributes: Record<string, OnnxAttribute>;
  domain: string;
}

export interface OnnxInitializer {
  name: string;
  dtype: OnnxDType;
  dims: number[];
  data: Float32Array | BigInt64Array | Uint8Array;
}

/** A graph input or output: name, element type, dims (number = fixed, string = symbolic, null = unknown). */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDType;
  dims: Array<number | string | null> | null;
}

/** Options of {@link OnnxGraph}. */
export interface OnnxGraphOptions {
  /** Default-domain opset the emitters target (default 17). */
  opset?: number;
  /** Graph name (default 'solo_ts'). */
  name?: string;
}

/** The minimum opset of the emitters (Resize with `roi` optional, Split sizes as an input, ReduceMax axes attr...). */
export const MIN_OPSET = 17;

export class OnnxGraph {
  readonly opset: number;
  readonly name: string;
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  /** Opset versions of domains other than the default one (none so far). */
  readonly extraOpsets = new Map<string, number>();
  private readonly scopes: string[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, OnnxValue>();
  private counter = 0;

  constructor(options: OnnxGraphOptions = {}) {
    this.opset = options.opset ?? MIN_OPSET;
    this.name = options.name ?? 'solo_ts';
    if (!Number.isInteger(this.opset) || this.opset < MIN_OPSET) {
      throw new SoloError(`ONNX export: opset ${options.opset} is not supported`, { expected: `an integer >= ${MIN_OPSET}` });
    }
  }

  /** Run `fn` with `name` appended to the value-name scope (module path). */
  scope<T>(name: string, fn: () => T): T {
    if (!name) return fn();
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** A fresh value name under the current scope. */
  fresh(hint: string): OnnxValue {
    const base = [...this.scopes, hint].join('.');
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Declare a graph input. */
  input(name: string, dtype: OnnxDType, dims: Array<number | string | null>): OnnxValue {
    if (this.used.has(name)) throw new SoloError(`ONNX export: value name ${name} is already used`);
    this.used.add(name);
    this.inputs.push({ name, dtype, dims });
    return name;
  }

  /** Declare `value` as the graph output `name` (through an Identity node when the names differ). */
  output(name: string, value: OnnxValue, dtype: OnnxDType = 'float32', dims: Array<number | string | null> | null = null): void {
    if (this.outputs.some((o) => o.name === name)) throw new SoloError(`ONNX export: two outputs named ${name}`);
    if (value !== name) {
      if (this.used.has(name)) throw new SoloError(`ONNX export: output name ${name} is already used by another value`);
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', name: `${name}.identity`, inputs: [value], outputs: [name], attributes: {}, domain: '' });
    }
    this.outputs.push({ name, dtype, dims });
  }

  /** Append a node; returns its outputs' names (`numOutputs` of them). Empty-string inputs are omitted optional inputs. */
  node(opType: string, inputs: OnnxValue[], attributes: Record<string, OnnxAttribute> = {}, numOutputs = 1, domain = ''): OnnxValue[] {
    const outputs = Array.from({ length: numOutputs }, (_, i) => this.fresh(numOutputs === 1 ? opType : `${opType}_${i}`));
    this.nodes.push({ opType, name: outputs[0], inputs, outputs, attributes, domain });
    return outputs;
  }

  /** A one-output node. */
  op(opType: string, inputs: OnnxValue[], attributes: Record<string, OnnxAttribute> = {}): OnnxValue {
    return this.node(opType, inputs, attributes, 1)[0];
  }

  /** A float32 initializer (the data is used as given: do not modify it afterwards). */
  initializer(hint: string, data: Float32Array, dims: number[]): OnnxValue {
    const size = dims.reduce((p, d) => p * d, 1);
    if (size !== data.length) throw new SoloError(`ONNX export: initializer ${hint} has ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.fresh(hint);
    this.initializers.push({ name, dtype: 'float32', dims: [...dims], data });
    return name;
  }

  /** A constant int64 tensor (1-D unless `dims` is given), shared between uses. */
  int64(values: readonly number[], dims: number[] = [values.length]): OnnxValue {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let v = this.constCache.get(key);
    if (!v) {
      v = this.freshConst(`const_i64_${values.join('_').replace(/-/g, 'm').slice(0, 40)}`);
      this.initializers.push({ name: v, dtype: 'int64', dims, data: BigInt64Array.from(values, (x) => BigInt(x)) });
      this.constCache.set(key, v);
    }
    return v;
  }

  /** A constant float32 tensor (scalar by default), shared between uses. */
  float32(values: readonly number[], dims: number[] = values.length === 1 ? [] : [values.length]): OnnxValue {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let v = this.constCache.get(key);
    if (!v) {
      v = this.freshConst(`const_f32_${values.length === 1 ? String(values[0]).replace(/[-.]/g, '_') : values.length}`);
      this.initializers.push({ name: v, dtype: 'float32', dims, data: Float32Array.from(values) });
      this.constCache.set(key, v);
    }
    return v;
  }

  private freshConst(hint: string): OnnxValue {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }
}
