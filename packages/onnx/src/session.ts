// SPDX-License-Identifier: Apache-2.0
/**
 * `OnnxSession`: an ONNX Runtime inference session over an exported solo-ts graph, for any ONNX Runtime build
 * (onnxruntime-node in Node, onnxruntime-web in browsers), handed in as the `ort` module, so that this package
 * loads none of them itself.
 *
 * ```ts
 * import * as ort from 'onnxruntime-node';            // or 'onnxruntime-web'
 * const s = await OnnxSession.create(ort, bytes, { threads: os.availableParallelism() });
 * const raw = await s.run({ data, shape: [1, 3, H, W] });   // MaskHeadRawOutputs, the input of head.predictByFeat
 * ```
 * The session is created with every graph optimisation and `threads` intra-op threads (default: ORT's own
 * choice). `run` feeds the graph input (the data preprocessor's NCHW output) and returns the outputs under the
 * head's raw-output names: `<field>` for a single map, `<field>_<level>` gathered into a list for per-level ones
 * (the export's `outputs` metadata says which). ORT's own failures at load time (a truncated or foreign file, an
 * opset or operator this ONNX Runtime build lacks) become one SoloError each.
 */
import { SoloError, type ArrayTensor, type MaskHeadRawOutputs } from '@solo-ts/core';
import { rawOutputsFromNamed } from './metadata.js';

/** What `run` needs of an ORT tensor (`ort.Tensor` of any ONNX Runtime package). */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
  dispose?(): void;
}

/** What this wrapper needs of an `ort.InferenceSession`. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
}

/** The parts of an ONNX Runtime module (`import * as ort from 'onnxruntime-node'`) this wrapper uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
  env?: { versions?: Record<string, string | undefined> };
}

export interface OnnxSessionOptions {
  /** Intra-op threads (default: ONNX Runtime's choice, one per physical core). */
  threads?: number;
  /** Execution providers in order of preference (default `['cpu']`; `['cuda', 'cpu']`, `['webgpu', 'wasm']`, ...). */
  executionProviders?: Array<string | Record<string, unknown>>;
  /** Name of the file the bytes came from, for messages. */
  source?: string;
  /** Raw-output fields: name -> number of levels (a list `<name>_0..n-1`) or null (one map `<name>`). Default: from the graph's output names. */
  outputs?: Record<string, number | null>;
  /** Extra `InferenceSession.SessionOptions` entries (they win over the ones above). */
  sessionOptions?: Record<string, unknown>;
}

/** Raw-output fields of a graph from its output names: `x_0`, `x_1`, ... -> `{x: 2}`, `y` -> `{y: null}`. */
export function outputFieldsFromNames(names: readonly string[]): Record<string, number | null> {
  const levels = new Map<string, number[]>();
  const fields: Record<string, number | null> = {};
  for (const n of names) {
    const m = /^(.*)_(\d+)$/.exec(n);
    if (m) levels.set(m[1], [...(levels.get(m[1]) ?? []), Number(m[2])]);
    else fields[n] = null;
  }
  for (const [f, ls] of levels) {
    const sorted = [...ls].sort((a, b) => a - b);
    if (sorted.every((l, i) => l === i) && !(f in fields)) fields[f] = sorted.length;
    else for (const l of ls) fields[`${f}_${l}`] = null;
  }
  return fields;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** One SoloError for an ONNX Runtime failure to load a model. */
export function loadErrorOf(e: unknown, source: string): SoloError {
  // ORT prefixes some messages with the C++ source location and signature: drop it
  const msg = messageOf(e)
    .replace(/\s+/g, ' ')
    .replace(/^\/\S+:\d+ [^(]*\([^)]*\)[^A-Z]*/, '')
    .trim();
  if (/protobuf parsing failed|failed to load model|invalid protobuf|ModelProto|parse|No graph was found/i.test(msg) && !/opset|implementation/i.test(msg)) {
    return new SoloError(`${source} is not a readable ONNX model (truncated or not ONNX): ${msg}`, { code: 'FILE', expected: 'a .onnx file written by `solo export`', cause: e });
  }
  if (/opset|ir version|Could not find an implementation|not a registered function|Unrecognized attribute|No Op registered|not supported/i.test(msg)) {
    return new SoloError(`${source} needs an operator or opset this ONNX Runtime does not have: ${msg}`, {
      code: 'RUNTIME',
      hint: 'export the model again with this solo-ts version (`solo export`), or install the ONNX Runtime version solo-ts names in its package.json',
      cause: e,
    });
  }
  return new SoloError(`ONNX Runtime cannot load ${source}: ${msg}`, { code: 'RUNTIME', cause: e });
}

export class OnnxSession {
  /** Raw-output fields (name -> levels or null). */
  readonly outputs: Record<string, number | null>;
  readonly inputName: string;

  private constructor(
    private readonly ort: OrtModule,
    readonly session: OrtSessionLike,
    outputs: Record<string, number | null>,
    readonly threads: number | undefined,
    readonly executionProviders: Array<string | Record<string, unknown>>,
  ) {
    this.outputs = outputs;
    this.inputName = session.inputNames[0];
  }

  /** Create a session over the bytes of an exported graph (see the module doc). */
  static async create(ort: OrtModule, bytes: Uint8Array, o: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const source = o.source ?? 'the ONNX model';
    if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) throw new SoloError(`invalid thread count ${String(o.threads)}`, { code: 'ARGUMENT', expected: 'a positive integer' });
    const executionProviders = o.executionProviders ?? ['cpu'];
    const options: Record<string, unknown> = {
      executionProviders,
      graphOptimizationLevel: 'all',
      ...(o.threads !== undefined ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
      ...o.sessionOptions,
    };
    let session: OrtSessionLike;
    try {
      session = await ort.InferenceSession.create(bytes, options);
    } catch (e) {
      throw loadErrorOf(e, source);
    }
    if (session.inputNames.length !== 1) {
      await session.release?.();
      throw new SoloError(`${source} has ${session.inputNames.length} graph inputs (${session.inputNames.join(', ')}); a solo-ts export has one (the image batch)`, { code: 'FILE' });
    }
    const outputs = o.outputs ?? outputFieldsFromNames(session.outputNames);
    const have = new Set(session.outputNames);
    for (const [f, levels] of Object.entries(outputs)) {
      const names = levels === null ? [f] : Array.from({ length: levels }, (_, l) => `${f}_${l}`);
      const missing = names.filter((n) => !have.has(n));
      if (missing.length) {
        await session.release?.();
        throw new SoloError(`${source} lacks the graph output(s) ${missing.join(', ')} its metadata lists`, { code: 'FILE', expected: `outputs ${session.outputNames.join(', ')}` });
      }
    }
    return new OnnxSession(ort, session, outputs, o.threads, executionProviders);
  }

  /** Run the network on one NCHW float32 batch; the outputs as the head's raw outputs (plain NCHW arrays). */
  async run(input: ArrayTensor): Promise<MaskHeadRawOutputs> {
    const feed = new this.ort.Tensor('float32', input.data, input.shape);
    let res: Record<string, OrtTensorLike>;
    try {
      res = await this.session.run({ [this.inputName]: feed });
    } catch (e) {
      throw new SoloError(`ONNX Runtime failed on an input of shape [${input.shape.join(', ')}]: ${messageOf(e)}`, { code: 'RUNTIME', cause: e });
    } finally {
      feed.dispose?.();
    }
    return rawOutputsFromNamed(this.outputs, (name) => {
      const t = res[name];
      if (!t) return undefined;
      if (!(t.data instanceof Float32Array)) throw new SoloError(`graph output ${name} is ${t.type}, expected float32`, { code: 'RUNTIME' });
      return { data: t.data, shape: [...t.dims] };
    });
  }

  /** The ONNX Runtime package and version in use, e.g. `onnxruntime-node 1.30.0`. */
  get runtimeName(): string {
    const v = this.ort.env?.versions ?? {};
    if (v.node) return `onnxruntime-node ${v.node}`;
    if (v.web) return `onnxruntime-web ${v.web}`;
    return `onnxruntime ${v.common ?? ''}`.trim();
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}
