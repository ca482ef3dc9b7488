// SPDX-License-Identifier: Apache-2.0
/**
 * The ONNX Runtime inference path behind the tfjs API (`buildDetector(..., {runtime: 'onnx'})`, a `.onnx` file as
 * the model), on the Light SOLOv2 R18 golden variant of ../shared/parity:
 * - `inferImage` on the golden image gives mmdetection's predictions (same count and labels, scores within 1e-4,
 *   mask IoU >= 0.99) and the tfjs path's COCO results;
 * - the exported graph is cached under the cache directory (keyed by the checkpoint's sha256 and the config) and
 *   reused; a `.onnx` file alone (metadata: pipeline, classes, test_cfg) gives the same results;
 * - a config whose network differs from the exported one, a truncated file and an ONNX model without solo-ts
 *   metadata are refused with one clear message each.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromYAML, type Config } from '@solo-ts/config';
import { setupTestBackend } from '@solo-ts/testing';
import { buildDetector, inferImage, onnxCachePath, type Detector, type InferResult } from '@solo-ts/apis';
import { parityPath } from '../helpers/npy.js';
import { variantConfig, variantMeta, expectPredictionsMatch } from '../parity/solo-parity.js';

const V = 'solov2-light_r18_fpn_ms-3x_coco' as const;
const CLASSES = ['person', 'car', 'bus', 'boat', 'bird', 'cat', 'dog', 'bottle'];
const IMAGE = parityPath('image', 'image.png');
const CKPT = parityPath(V, 'checkpoint.pth');

export function variantDetectorConfig(model?: Record<string, unknown>): Config {
  const cfg = variantConfig(V) as unknown as { model: Record<string, unknown>; test_pipeline: unknown[] };
  const doc = { model: model ?? cfg.model, test_dataloader: { dataset: { pipeline: cfg.test_pipeline, metainfo: { classes: CLASSES }, ann_file: parityPath('image', 'annotations.json') } } };
  return configFromYAML(JSON.stringify(doc), `${V}/config.json`);
}

function expectSameResults(a: InferResult, b: InferResult): void {
  expect(b.results.length).toBe(a.results.length);
  a.results.forEach((r, i) => {
    expect(b.results[i].label).toBe(r.label);
    expect(b.results[i].category_id).toBe(r.category_id);
    expect(Math.abs(b.results[i].score - r.score)).toBeLessThanOrEqual(1e-4);
    b.results[i].bbox.forEach((v, k) => expect(Math.abs(v - r.bbox[k])).toBeLessThanOrEqual(1));
  });
}

describe('ONNX Runtime inference behind buildDetector / inferImage', () => {
  let dir: string;
  let tfjsDet: Detector;
  let tfjsRes: InferResult;
  let onnxFile: string;

  beforeAll(async () => {
    await setupTestBackend('cpu');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-ort-'));
    tfjsDet = await buildDetector(variantDetectorConfig(), { checkpoint: CKPT });
    tfjsRes = await inferImage(tfjsDet, IMAGE);
  });

  afterAll(() => {
    tfjsDet?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runtime 'onnx': mmdetection's predictions and the tfjs path's results; the export is cached and reused", async () => {
    const cacheDir = path.join(dir, 'cache');
    const det = await buildDetector(variantDetectorConfig(), { checkpoint: CKPT, runtime: 'onnx', cacheDir, threads: 2 });
    try {
      expect(det.runtime).toBe('onnx');
      expect(det.runtimeDetail).toMatch(/^onnxruntime-node 1\.30\.0 \(cpu, 2 threads\)$/);
      expect(det.classes).toEqual(CLASSES);
      const r = await inferImage(det, IMAGE);
      expectPredictionsMatch(V, variantConfig(V), r.instances, 1e-4);
      expectSameResults(tfjsRes, r);
    } finally {
      det.dispose();
    }
    const cached = await onnxCachePath(CKPT, variantDetectorConfig(), JSON.parse(fs.readFileSync(new URL('../../packages/apis/package.json', import.meta.url), 'utf8')).version, cacheDir);
    expect(fs.readdirSync(cacheDir)).toEqual([path.basename(cached)]);
    onnxFile = path.join(dir, 'light.onnx');
    fs.copyFileSync(cached, onnxFile);
    const mtime = fs.statSync(cached).mtimeMs;
    const again = await buildDetector(variantDetectorConfig(), { checkpoint: CKPT, runtime: 'onnx', cacheDir });
    try {
      expect(again.checkpoint).toBe(CKPT);
      expectSameResults(tfjsRes, await inferImage(again, IMAGE));
    } finally {
      again.dispose();
    }
    expect(fs.statSync(cached).mtimeMs).toBe(mtime);
  });

  it('a .onnx file alone: the same results from its metadata (pipeline, classes, test_cfg)', async () => {
    const det = await buildDetector(onnxFile);
    try {
      expect(det.runtime).toBe('onnx');
      expect(det.classes).toEqual(CLASSES);
      const r = await inferImage(det, IMAGE, { imageId: 42 });
      expect(r.results.every((x) => x.image_id === 42)).toBe(true);
      expectSameResults(tfjsRes, r);
      // predictByFeat metas: the original size comes back
      expect([r.instances.masks!.height, r.instances.masks!.width]).toEqual(variantMeta(variantConfig(V)).oriShape);
    } finally {
      det.dispose();
    }
    // the same file as the checkpoint of its config
    const det2 = await buildDetector(variantDetectorConfig(), { checkpoint: onnxFile });
    det2.dispose();
  });

  it('refuses a config of another network, a truncated file and an ONNX model without solo-ts metadata', async () => {
    const other = structuredClone(variantConfig(V).model) as Record<string, { num_classes?: number }>;
    other.mask_head.num_classes = 3;
    await expect(buildDetector(variantDetectorConfig(other), { checkpoint: onnxFile })).rejects.toThrow(/was exported from a different model .*model\.mask_head\.num_classes: the ONNX model has 8, the config 3/);
    const bytes = fs.readFileSync(onnxFile);
    const truncated = path.join(dir, 'truncated.onnx');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
    await expect(buildDetector(truncated)).rejects.toThrow(/truncated\.onnx is not a readable ONNX model/);
    await expect(buildDetector(onnxFile, { runtime: 'tfjs' })).rejects.toThrow(/tfjs runtime needs a config/);
  });
});
