// SPDX-License-Identifier: Apache-2.0
/**
 * An {@link OnnxGraph} (the builder of @solo-ts/ops) as ONNX `ModelProto` bytes, and the model read back, through
 * the ONNX protobuf schema compiled by the `onnx-proto` package (protobufjs).
 */
import onnxProto from 'onnx-proto';
import { SoloError } from '@solo-ts/core';
import { ONNX_DTYPE, type OnnxAttribute, type OnnxGraph, type OnnxInitializer, type OnnxValueInfo } from '@solo-ts/ops';

const { onnx } = onnxProto;

/** The protobuf message types of the ONNX schema (for readers that need more than the metadata). */
export type ModelProto = InstanceType<typeof onnx.ModelProto>;

/** Options of {@link serializeOnnx}. */
export interface SerializeOptions {
  /** `metadata_props` entries (key -> value). */
  metadata?: Record<string, string>;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

/** IR version for a default-domain opset (opset 19..20 -> IR 9, 21+ -> IR 10, older -> IR 8). */
export function irVersionForOpset(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  return 8;
}

function attributeProto(name: string, a: OnnxAttribute): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return onnx.AttributeProto.create({ name, type: T.INT, i: a.value });
    case 'ints':
      return onnx.AttributeProto.create({ name, type: T.INTS, ints: a.value });
    case 'float':
      return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.value });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: a.value });
    case 'string':
      return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.value) });
  }
}

function rawBytes(data: OnnxInitializer['data']): Uint8Array {
  // ONNX raw_data is little-endian, as typed arrays are on every platform Node and browsers run on
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(t: OnnxInitializer): InstanceType<typeof onnx.TensorProto> {
  return onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: ONNX_DTYPE[t.dtype], rawData: rawBytes(t.data) });
}

function valueInfo(v: OnnxValueInfo): InstanceType<typeof onnx.ValueInfoProto> {
  const shape = v.dims ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } : undefined;
  return onnx.ValueInfoProto.create({ name: v.name, type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape } } });
}

/** The graph as `.onnx` bytes. */
export function serializeOnnx(g: OnnxGraph, o: SerializeOptions = {}): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: g.name,
    node: g.nodes.map((n) =>
      onnx.NodeProto.create({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([k, a]) => attributeProto(k, a)),
      }),
    ),
    initializer: g.initializers.map(tensorProto),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  });
  const opsetImport = [{ domain: '', version: g.opset }, ...[...g.extraOpsets].map(([domain, version]) => ({ domain, version }))];
  const model = onnx.ModelProto.create({
    irVersion: irVersionForOpset(g.opset),
    opsetImport,
    producerName: o.producerName ?? 'solo-ts',
    producerVersion: o.producerVersion ?? '',
    docString: o.docString ?? '',
    graph,
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Decode `.onnx` bytes into a `ModelProto`, with one clear error for bytes that are not an ONNX model (truncated,
 * another format). `source` names the file in messages.
 */
export function decodeOnnx(bytes: Uint8Array, source = 'the model'): ModelProto {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new SoloError(`${source} is empty, not an ONNX model`, { code: 'FILE' });
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = (e as Error).message;
    const truncated = /index out of range|invalid wire type|out of range/.test(msg);
    throw new SoloError(`${source} is not a readable ONNX model${truncated ? ' (truncated or not ONNX)' : ''}: ${msg}`, { code: 'FILE', expected: 'an .onnx file (ONNX ModelProto)', cause: e });
  }
  const ir = Number(model.irVersion ?? 0);
  if (!model.graph || ir < 1 || !model.opsetImport?.length) {
    throw new SoloError(`${source} is not an ONNX model (no graph, IR version or opset)`, { code: 'FILE', expected: 'an .onnx file (ONNX ModelProto)' });
  }
  return model;
}
