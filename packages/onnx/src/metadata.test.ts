// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { OnnxGraph } from '@solo-ts/ops';
import { decodeOnnx, METADATA_KEY, outputNames, rawOutputsFromNamed, readOnnxMetadata, serializeOnnx, type SoloOnnxMetadata } from './index.js';

const META: SoloOnnxMetadata = {
  format: 'solo-ts-onnx',
  version: 1,
  model: { type: 'SOLOv2', mask_head: { type: 'SOLOV2Head' } },
  test_cfg: { score_thr: 0.1 },
  classes: ['a', 'b'],
  cat_ids: [1, 3],
  data_preprocessor: { mean: [1, 2, 3], std: [4, 5, 6], bgr_to_rgb: true, pad_size_divisor: 32, pad_value: 0 },
  test_pipeline: [{ type: 'Resize' }],
  checkpoint_sha256: null,
  outputs: { maskFeats: null, mlvlClsPreds: 2 },
  opset: 17,
  solo_ts_version: '0.1.0',
};

function model(metadata: Record<string, string> | undefined): Uint8Array {
  const g = new OnnxGraph({ opset: 17 });
  const x = g.input('input', 'float32', ['batch', 3, 'height', 'width']);
  g.output('y', g.op('Relu', [x]));
  return serializeOnnx(g, { metadata });
}

describe('solo-ts ONNX metadata', () => {
  it('round-trips through the file', () => {
    const bytes = model({ [METADATA_KEY]: JSON.stringify(META) });
    expect(readOnnxMetadata(bytes)).toEqual(META);
    const withPlugin = { ...META, custom_imports: { imports: ['@acme/solo-plugin-head'] } };
    expect(readOnnxMetadata(model({ [METADATA_KEY]: JSON.stringify(withPlugin) }))).toEqual(withPlugin);
    const m = decodeOnnx(bytes);
    expect(m.graph!.node!.map((n) => n.opType)).toEqual(['Relu', 'Identity']);
    expect(Number(m.irVersion)).toBe(8);
    expect(outputNames(META.outputs)).toEqual(['maskFeats', 'mlvlClsPreds_0', 'mlvlClsPreds_1']);
  });

  it('groups named run outputs into the head raw outputs', () => {
    const a = (v: number) => ({ data: Float32Array.of(v), shape: [1, 1, 1, 1] });
    const named: Record<string, ReturnType<typeof a>> = { maskFeats: a(0), mlvlClsPreds_0: a(1), mlvlClsPreds_1: a(2) };
    expect(rawOutputsFromNamed(META.outputs, (n) => named[n])).toEqual({ maskFeats: a(0), mlvlClsPreds: [a(1), a(2)] });
    delete named.mlvlClsPreds_1;
    expect(() => rawOutputsFromNamed(META.outputs, (n) => named[n], 'm.onnx')).toThrow(/m\.onnx: the run has no output `mlvlClsPreds_1`/);
  });

  it('says what is wrong with a file', () => {
    const good = model({ [METADATA_KEY]: JSON.stringify(META) });
    expect(() => readOnnxMetadata(good.subarray(0, good.length - 7), 'm.onnx')).toThrow(/m\.onnx is not a readable ONNX model \(truncated or not ONNX\)/);
    expect(() => readOnnxMetadata(new TextEncoder().encode('\x89PNG\r\n\x1a\n not a model at all'), 'x.png')).toThrow(/x\.png is not (a readable ONNX model|an ONNX model)/);
    expect(() => readOnnxMetadata(new Uint8Array(0), 'e.onnx')).toThrow(/e\.onnx is empty/);
    expect(() => readOnnxMetadata(model(undefined), 'f.onnx')).toThrow(/f\.onnx is an ONNX model without solo-ts metadata/);
    expect(() => readOnnxMetadata(model({ [METADATA_KEY]: '{' }), 'j.onnx')).toThrow(/not valid JSON/);
    expect(() => readOnnxMetadata(model({ [METADATA_KEY]: JSON.stringify({ ...META, version: 2 }) }), 'v.onnx')).toThrow(/metadata version 2 is not supported/);
    expect(() => readOnnxMetadata(model({ [METADATA_KEY]: JSON.stringify({ ...META, cat_ids: [1] }) }), 'c.onnx')).toThrow(/cat_ids/);
    expect(() => readOnnxMetadata(model({ [METADATA_KEY]: JSON.stringify({ ...META, custom_imports: { imports: [3] } }) }), 'p.onnx')).toThrow(/p\.onnx[\s\S]*`custom_imports` must be/);
  });
});
