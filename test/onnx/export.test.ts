// SPDX-License-Identifier: Apache-2.0
/**
 * ONNX export numerics, for every public golden variant of ../shared/parity: the detector built from the variant's
 * resolved `model` config with `checkpoint.pth` (`buildDetector`), exported with `exportOnnx`, run with
 * onnxruntime-node (CPU) on `input.npy` (the data preprocessor's output, NCHW). Compared:
 * - the raw outputs against the tfjs forward of the same detector (eval mode, wasm backend; max abs diff reported,
 *   bounded);
 * - `predictByFeat` on the ONNX outputs against mmdetection's predictions (same count, labels exact, scores within
 *   1e-4 (one Decoupled SOLO score: 3e-4, see SCORE_ATOL), mask IoU >= 0.99 against predictions.segm.json);
 * - the metadata read back with `readOnnxMetadata`;
 * - dynamic shapes: the same graph at two other input sizes and batch 2 (rows of a batch agree with single runs,
 *   output grids follow num_grids, mask maps follow the input size).
 * Then the DCN zoo configs (DeformConv, opset 19) at random weights, another opset, and the export errors.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type { MaskHeadRawOutputs } from '@solo-ts/core';
import { configFromYAML, loadConfig } from '@solo-ts/config';
import { DeformConvBase } from '@solo-ts/ops';
import { setupTestBackend } from '@solo-ts/testing';
import { buildDetector, exportOnnx, type Detector } from '@solo-ts/apis';
import { outputNames, rawOutputsFromNamed, readOnnxMetadata, type SoloOnnxMetadata } from '@solo-ts/onnx';
import { outputsToArrays } from '@solo-ts/heads';
import { npyFloat32, parityPath, readParity, REPO_ROOT } from '../helpers/npy.js';
import { VARIANTS, CATEGORY_IDS, variantConfig, variantMeta, expectPredictionsMatch, type Variant } from '../parity/solo-parity.js';

/**
 * Score tolerance against mmdetection: 1e-4, except Decoupled SOLO R50, where one of 41 final scores moves by
 * 2.7e-4. Measured: tfjs's raw outputs give 5e-6; ONNX Runtime's class scores with tfjs's mask maps 7e-6; tfjs's
 * outputs with only ONNX Runtime's y-mask maps (5e-5 of float32 noise: its convolutions sum in another order)
 * 2.7e-4. The masks are binarised at mask_thr before the maskness and the Matrix-NMS IoUs, so noise at a pixel
 * near 0.5 moves a score by a step; not a formula difference.
 */
const SCORE_ATOL: Partial<Record<Variant, number>> = { 'decoupled-solo_r50_fpn_1x_coco': 3e-4 };

const CLASSES = ['person', 'car', 'bus', 'boat', 'bird', 'cat', 'dog', 'bottle'];

/** The variant as a solo-ts config: its resolved model, its test pipeline, the golden image's classes and annotations (category ids). */
function variantDetectorConfig(v: Variant) {
  const cfg = variantConfig(v) as unknown as { model: Record<string, unknown>; test_pipeline: unknown[] };
  const doc = { model: cfg.model, test_dataloader: { dataset: { pipeline: cfg.test_pipeline, metainfo: { classes: CLASSES }, ann_file: parityPath('image', 'annotations.json') } } };
  return configFromYAML(JSON.stringify(doc), `${v}/config.json`);
}

/** The golden input (NCHW, as mmdetection's data preprocessor gives it). */
function nchwInput(v: Variant): { data: Float32Array; dims: number[] } {
  const a = readParity(v, 'input.npy');
  return { data: Float32Array.from(npyFloat32(a)), dims: a.shape.slice() };
}

/** ORT outputs as the head's raw outputs (fields and levels from the metadata). */
function rawFromOrt(res: ort.InferenceSession.OnnxValueMapType, outputs: SoloOnnxMetadata['outputs']): MaskHeadRawOutputs {
  return rawOutputsFromNamed(outputs, (name) => (res[name] ? { data: res[name].data as Float32Array, shape: res[name].dims.slice() } : undefined));
}

/** Crop or zero-pad an NCHW image batch to `h` x `w` and repeat it to `n` images. */
function resizeBatch(x: { data: Float32Array; dims: number[] }, n: number, h: number, w: number): ort.Tensor {
  const [, c, h0, w0] = x.dims;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < Math.min(h, h0); y++) {
        for (let xx = 0; xx < Math.min(w, w0); xx++) out[((b * c + k) * h + y) * w + xx] = x.data[(k * h0 + y) * w0 + xx] * (b === 0 ? 1 : 0.5);
      }
    }
  }
  return new ort.Tensor('float32', out, [n, c, h, w]);
}

describe.each(VARIANTS)('ONNX export %s', (v) => {
  const cfg = variantConfig(v);
  let det: Detector;
  let session: ort.InferenceSession;
  let bytes: Uint8Array;
  let input: { data: Float32Array; dims: number[] };
  let onnxRaw: MaskHeadRawOutputs;

  beforeAll(async () => {
    await setupTestBackend('wasm');
    det = await buildDetector(variantDetectorConfig(v), { checkpoint: parityPath(v, 'checkpoint.pth') });
    bytes = exportOnnx(det).bytes;
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    input = nchwInput(v);
    const res = await session.run({ input: new ort.Tensor('float32', input.data, input.dims) });
    onnxRaw = rawFromOrt(res, readOnnxMetadata(bytes).outputs);
  });

  afterAll(async () => {
    await session?.release();
    det?.dispose();
  });

  it('metadata: contract, names and settings', () => {
    const meta = readOnnxMetadata(bytes);
    expect(meta.format).toBe('solo-ts-onnx');
    expect(meta.version).toBe(1);
    expect(meta.classes).toEqual(CLASSES);
    expect(meta.cat_ids).toEqual(CATEGORY_IDS);
    expect(meta.model.type).toBe(cfg.model.type);
    expect(meta.data_preprocessor).toEqual({ mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_size_divisor: 32, pad_value: 0 });
    expect(meta.checkpoint_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(outputNames(meta.outputs));
  });

  it('raw outputs match the tfjs forward', async () => {
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(input.data, input.dims as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);
    const out = (det.model as unknown as { forwardTensor(x: tf.Tensor4D): Record<string, tf.Tensor4D | tf.Tensor4D[]> }).forwardTensor(x);
    const own = await outputsToArrays(out);
    tf.dispose([x, out as unknown as tf.TensorContainer]);
    const lines: string[] = [];
    const bad: boolean[] = [];
    const scoreThr = (cfg.model.test_cfg as { score_thr: number }).score_thr;
    for (const [field, val] of Object.entries(own)) {
      const list = Array.isArray(val) ? val : [val];
      const got = onnxRaw[field];
      const gotList = Array.isArray(got) ? got : [got];
      expect(gotList.length).toBe(list.length);
      // SOLO / Decoupled SOLO class scores come after point NMS (keep a score equal to its 2x2 local maximum): where
      // two neighbours tie within float32 noise either may be kept. Such cells are counted apart and must stay below
      // score_thr (they cannot become candidates); every other value is compared.
      const pointNms = cfg.head_kind !== 'solov2' && field === 'mlvlClsPreds';
      list.forEach((a, l) => {
        const b = gotList[l];
        expect(b.shape).toEqual(a.shape);
        let diff = 0;
        let scale = 0;
        let flips = 0;
        for (let i = 0; i < a.data.length; i++) {
          scale = Math.max(scale, Math.abs(a.data[i]));
          if (pointNms && (a.data[i] === 0) !== (b.data[i] === 0)) {
            flips++;
            bad.push(Math.max(a.data[i], b.data[i]) < scoreThr);
          } else diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
        }
        lines.push(`${field}[${l}] max abs diff ${diff.toExponential(2)} (max |value| ${scale.toFixed(3)}${flips ? `, ${flips} point-NMS tie(s) below score_thr` : ''})`);
        // float32 noise: ONNX Runtime's convolutions accumulate in another order than tfjs's (backbone outputs
        // differ by about 5e-6 of their scale, twice tfjs's own distance to PyTorch); 1e-4 of the value scale
        bad.push(diff <= 1e-4 * Math.max(1, scale));
      });
    }
    console.log(`${v}: ${lines.join('; ')}`);
    // float32 rounding of a different summation order and of the folded BatchNorms: 1e-4 of the value scale
    expect(bad.every(Boolean)).toBe(true);
  });

  it("predictByFeat on the ONNX Runtime outputs gives mmdetection's predictions", async () => {
    const model = det.model as unknown as { predictByFeat(o: MaskHeadRawOutputs, m: unknown[]): Promise<import('@solo-ts/core').InstanceData[]> };
    const [res] = await model.predictByFeat(onnxRaw, [variantMeta(cfg)]);
    const golden = npyFloat32(readParity(v, 'pred_scores.npy'));
    const worst = Math.max(0, ...Array.from(golden, (s, i) => Math.abs(s - (res.scores![i] ?? Infinity))));
    console.log(`${v}: ${res.scores!.length} predictions, max |score - mmdetection's| ${worst.toExponential(2)}`);
    expectPredictionsMatch(v, cfg, res, SCORE_ATOL[v] ?? 1e-4);
  });

  it('dynamic shapes: two other input sizes and batch 2', async () => {
    const meta = readOnnxMetadata(bytes);
    const grids = (cfg.model.mask_head as { num_grids: number[] }).num_grids;
    for (const [h, w] of [
      [96, 160],
      [160, 224],
    ]) {
      const single = await session.run({ input: resizeBatch(input, 1, h, w) });
      const batch = await session.run({ input: resizeBatch(input, 2, h, w) });
      for (const name of session.outputNames) {
        const s = single[name];
        const b = batch[name];
        expect(b.dims[0]).toBe(2);
        expect(b.dims.slice(1)).toEqual(s.dims.slice(1));
        const n = s.data.length;
        const first = (b.data as Float32Array).subarray(0, n);
        let d = 0;
        for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(first[i] - (s.data as Float32Array)[i]));
        expect(d).toBeLessThanOrEqual(1e-4);
      }
      for (const [f, n] of Object.entries(meta.outputs)) {
        if (n === null) continue;
        const cls = f === 'mlvlClsPreds' || f === 'mlvlKernelPreds';
        for (let l = 0; l < n; l++) {
          const dims = single[`${f}_${l}`].dims;
          if (cls) expect(dims.slice(2)).toEqual([grids[l], grids[l]]);
          else expect(dims.slice(2)).toEqual([h / 4, w / 4]);
        }
      }
    }
  });
});

describe('ONNX export: options and errors', () => {
  const v: Variant = 'solov2-light_r18_fpn_ms-3x_coco';
  let det: Detector;
  beforeAll(async () => {
    await setupTestBackend('wasm');
    det = await buildDetector(variantDetectorConfig(v), { checkpoint: parityPath(v, 'checkpoint.pth') });
  });
  afterAll(() => det?.dispose());

  it('a later opset (21, IR 10) loads in ONNX Runtime and gives the same outputs', async () => {
    const input = nchwInput(v);
    const run = async (opset?: number) => {
      const s = await ort.InferenceSession.create(exportOnnx(det, { opset }).bytes);
      try {
        return (await s.run({ input: new ort.Tensor('float32', input.data, input.dims) })).maskFeats.data as Float32Array;
      } finally {
        await s.release();
      }
    };
    expect(Array.from(await run(21))).toEqual(Array.from(await run()));
  });

  it('a module without toOnnx is named in a clear error; opsets below 17 are refused', () => {
    const neck = (det.model as unknown as { neck: object }).neck;
    Object.defineProperty(neck, 'toOnnx', { value: undefined, configurable: true });
    try {
      expect(() => exportOnnx(det)).toThrow(/ONNX export: neck \(FPN\) cannot be exported: it has no toOnnx/);
    } finally {
      delete (neck as { toOnnx?: unknown }).toOnnx;
    }
    expect(() => exportOnnx(det, { opset: 13 })).toThrow(/opset 13 is not supported/);
    expect(readFileSync(parityPath(v, 'checkpoint.pth')).length).toBeGreaterThan(0);
  });
});

/**
 * Deformable convolutions (ONNX DeformConv, opset 19): the DCN zoo configs shrunk as in test/configs/zoo.test.ts
 * (ResNet-50 / ResNeXt-50 of base width 8, narrow heads), initialised at random with non-zero offset convs (mmcv
 * zero-initialises them, which would make every DCN a plain conv), exported and run on ONNX Runtime: raw outputs
 * against the tfjs forward (whose DCNv2 is checked against mmcv elsewhere), at two input sizes.
 */
describe.each([
  ['solov2/solov2-light_r50-dcn_fpn_ms-3x_coco.yaml', false],
  ['solov2/solov2_x101-dcn_fpn_ms-3x_coco.yaml', true],
] as const)('ONNX export with DCNv2: %s', (file, resnext) => {
  let det: Detector;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    await setupTestBackend('wasm');
    const backbone = resnext
      ? { 'model.backbone.depth': 50, 'model.backbone.base_channels': 8, 'model.backbone.groups': 4, 'model.backbone.base_width': 4 }
      : { 'model.backbone.depth': 50, 'model.backbone.base_channels': 8 };
    const cfg = loadConfig(resolve(REPO_ROOT, 'configs', file), {
      cfgOptions: {
        'model.backbone.init_cfg': null,
        ...backbone,
        'model.neck.in_channels': [32, 64, 128, 256],
        'model.neck.out_channels': 16,
        'model.mask_head.in_channels': 16,
        'model.mask_head.feat_channels': 16,
        'model.mask_head.num_classes': 4,
        'model.mask_head.norm_cfg': { type: 'GN', num_groups: 4, requires_grad: true },
        'model.mask_head.init_cfg': [{ type: 'Normal', layer: 'Conv2d', std: 0.3 }],
        'model.mask_head.mask_feature_head.feat_channels': 8,
        'model.mask_head.mask_feature_head.out_channels': 8,
        'model.mask_head.mask_feature_head.norm_cfg.num_groups': 4,
      },
    });
    det = await buildDetector(cfg);
    let seed = 7;
    let n = 0;
    for (const [, m] of det.model.namedModules()) {
      if (!(m instanceof DeformConvBase)) continue;
      n++;
      const w = m.convOffset.weight.variable;
      const b = m.convOffset.bias!.variable;
      w.assign(tf.randomNormal(w.shape, 0, 0.05, 'float32', seed++));
      b.assign(tf.randomNormal(b.shape, 0, 0.5, 'float32', seed++));
    }
    expect(n).toBeGreaterThan(0);
    const exported = exportOnnx(det);
    expect(exported.metadata.opset).toBe(19);
    expect(() => exportOnnx(det, { opset: 17 })).toThrow(/deformable convolutions need opset >= 19/);
    session = await ort.InferenceSession.create(exported.bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  });

  afterAll(async () => {
    await session?.release();
    det?.dispose();
  });

  it.each([
    [64, 96],
    [96, 64],
  ])('raw outputs match the tfjs forward at %ix%i', async (h, w) => {
    const data = Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const res = await session.run({ input: new ort.Tensor('float32', data, [1, 3, h, w]) });
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(data, [1, 3, h, w]), [0, 2, 3, 1]) as tf.Tensor4D);
    const out = (det.model as unknown as { forwardTensor(x: tf.Tensor4D): Record<string, tf.Tensor4D | tf.Tensor4D[]> }).forwardTensor(x);
    const own = await outputsToArrays(out);
    tf.dispose([x, out as unknown as tf.TensorContainer]);
    const lines: string[] = [];
    for (const [field, val] of Object.entries(own)) {
      (Array.isArray(val) ? val : [val]).forEach((a, l) => {
        const b = res[Array.isArray(val) ? `${field}_${l}` : field];
        expect(b.dims).toEqual(a.shape);
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < a.data.length; i++) {
          diff = Math.max(diff, Math.abs(a.data[i] - (b.data as Float32Array)[i]));
          scale = Math.max(scale, Math.abs(a.data[i]));
        }
        lines.push(`${field}[${l}] ${diff.toExponential(2)}/${scale.toFixed(2)}`);
        expect(diff, `${field}[${l}]`).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      });
    }
    console.log(`${file} ${h}x${w} max abs diff / max |value|: ${lines.join(', ')}`);
  });
});
