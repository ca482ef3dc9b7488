// SPDX-License-Identifier: Apache-2.0
/**
 * The runtime-neutral post-processing (`predictByFeat`, mmdet `predict_by_feat`) fed plain NCHW arrays, against
 * mmdetection 3.3.0 (../shared/parity, 5 variants):
 * - SOLOv2 variants: every raw output is mmdetection's own (head/cls_pred_l*, kernel_pred_l*, mask_feats), so the
 *   whole post-processing runs on golden inputs;
 * - SOLO and Decoupled SOLO variants: the class scores are mmdetection's (head/cls_pred_l*, sigmoid and point NMS
 *   applied), the mask maps are this head's eval-mode forward on the recorded FPN outputs, read back with
 *   `outputsToArrays` (the goldens hold only channel sums and samples of the full maps);
 * - every variant also end to end from this head's own forward read back as arrays.
 * Compared: the Matrix-NMS inputs (labels and areas exact, scores 1e-4 / 1e-5), the predictions (same count,
 * labels exact, scores within 1e-3, mask IoU >= 0.99 against predictions.segm.json), and no leaked tensors.
 * Backends: cpu, and wasm (SOLO_PARITY_BACKENDS=cpu skips it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, type ArrayTensor, type InstanceData, type MaskHeadRawOutputs } from '@solo-ts/core';
import { setupTestBackend, type TestBackendName } from '@solo-ts/testing';
import { headsComponents, outputsToArrays, type SOLOHead } from '@solo-ts/heads';
import { lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { npyFloat32, readParity } from '../helpers/npy.js';
import {
  VARIANTS,
  neckOutputs,
  RecordingPostProcessor,
  subStateDict,
  variantConfig,
  variantMeta,
  variantStateDict,
  type Variant,
  type VariantConfig,
  expectNmsInputsMatch,
  expectPredictionsMatch,
} from './solo-parity.js';

const BACKENDS = (process.env.SOLO_PARITY_BACKENDS ?? 'cpu,wasm').split(',') as TestBackendName[];

/** A golden .npy of head/ as a plain array with its shape. */
function golden(v: Variant, name: string): ArrayTensor {
  const a = readParity(v, 'head', name);
  return { data: Float32Array.from(npyFloat32(a)), shape: a.shape.slice() };
}

function goldenLevels(v: Variant, prefix: string, numLevels: number): ArrayTensor[] {
  return Array.from({ length: numLevels }, (_, l) => golden(v, `${prefix}_l${l}.npy`));
}

/** Matrix-NMS inputs of the recorded candidates and the predictions, against post/* and predictions.segm.json. */
function checkAgainstGoldens(v: Variant, cfg: VariantConfig, res: InstanceData): void {
  expectNmsInputsMatch(v, cfg);
  expectPredictionsMatch(v, cfg, res);
  const [H, W] = cfg.image_meta.ori_shape;
  expect([res.masks!.count, res.masks!.height, res.masks!.width]).toEqual([cfg.num_predictions, H, W]);
  expect(res.bboxes!.length).toBe(4 * cfg.num_predictions);
}

for (const backend of BACKENDS) {
  describe.each(VARIANTS)(`predictByFeat from plain arrays [${backend}] %s`, (v) => {
    const cfg = variantConfig(v);
    const numLevels = (cfg.model.mask_head.num_grids as number[]).length;
    let head: SOLOHead;
    let feats: tf.Tensor4D[];
    /** This head's eval-mode forward outputs, read back as NCHW arrays. */
    let own: Record<string, ArrayTensor | ArrayTensor[]>;

    beforeAll(async () => {
      await setupTestBackend(backend);
      const registry = new Registry().load(headsComponents, lossesComponents, assignersComponents, postprocessComponents).register('task_utils', RecordingPostProcessor);
      head = registry.build<SOLOHead>('models', { ...cfg.model.mask_head, postprocessor: { type: 'test.RecordingPostProcessor' } }, 'model.mask_head', { testCfg: cfg.model.test_cfg });
      head.loadStateDict(subStateDict(await variantStateDict(v), 'mask_head'), { strict: true, source: `${v}/checkpoint.pth` });
      head.eval();
      feats = neckOutputs(v);
      const before = tf.memory().numTensors;
      const out = head.forward(feats) as unknown as Record<string, tf.Tensor4D | tf.Tensor4D[]>;
      own = await outputsToArrays(out);
      tf.dispose(out as unknown as tf.TensorContainer);
      expect(tf.memory().numTensors).toBe(before);
    });

    afterAll(() => {
      tf.dispose(feats);
      head.dispose();
    });

    it(cfg.head_kind === 'solov2' ? "mmdetection's raw outputs (cls logits, kernels, mask features) -> predictions" : "mmdetection's class scores and this head's mask maps -> predictions", async () => {
      const outputs: MaskHeadRawOutputs =
        cfg.head_kind === 'solov2'
          ? { mlvlClsPreds: goldenLevels(v, 'cls_pred', numLevels), mlvlKernelPreds: goldenLevels(v, 'kernel_pred', numLevels), maskFeats: golden(v, 'mask_feats.npy') }
          : { ...own, mlvlClsPreds: goldenLevels(v, 'cls_pred', numLevels) };
      RecordingPostProcessor.last = undefined;
      const before = tf.memory().numTensors;
      const [res] = await head.predictByFeat(outputs, [variantMeta(cfg)]);
      expect(tf.memory().numTensors).toBe(before);
      checkAgainstGoldens(v, cfg, res);
    });

    it("this head's forward outputs read back as arrays -> predictions", async () => {
      RecordingPostProcessor.last = undefined;
      const before = tf.memory().numTensors;
      const [res] = await head.predictByFeat(own, [variantMeta(cfg)]);
      expect(tf.memory().numTensors).toBe(before);
      checkAgainstGoldens(v, cfg, res);
    });
  });
}
