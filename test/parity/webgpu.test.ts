// SPDX-License-Identifier: Apache-2.0
/**
 * Parity with mmdetection on the `webgpu` backend (Dawn in Node; in CI the SwiftShader software Vulkan driver that
 * .ci/run installs with Debian's chromium package): backbone + neck stage outputs, predictions, losses and the
 * gradient norms of every parameter, with the tolerances the wasm runs use (backbone-neck.test.ts,
 * detectors.test.ts). GPU tensors are read with `data()` (a WebGPU backend in Node has no synchronous read).
 *
 * Variants: all five public goldens by default (SwiftShader runs on the CPU: about 3 minutes on 2 idle cores);
 * SOLO_WEBGPU_PARITY_VARIANTS=<comma list> runs fewer. Skips, with the reason, where no WebGPU adapter exists.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { Registry } from '@solo-ts/core';
import { backbonesComponents } from '@solo-ts/backbones';
import { necksComponents } from '@solo-ts/necks';
import { headsComponents } from '@solo-ts/heads';
import { lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { detectorsComponents, type SingleStageInstanceSegmentor } from '@solo-ts/detectors';
import { countDeviceReads, setupTestBackend, webgpuTestSkipReason } from '@solo-ts/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npyFloat32, parityPath, readParity } from '../helpers/npy.js';
import {
  compareClose, describeReport, expectClose, expectPredictionsMatch, lossSample, nhwc, variantConfig, variantLosses,
  variantMeta, variantStateDict, VARIANTS, type Variant,
} from './solo-parity.js';

const skipReason = await webgpuTestSkipReason();
if (skipReason) console.warn(skipReason);

const wanted = process.env.SOLO_WEBGPU_PARITY_VARIANTS ?? 'all';
const variants = (wanted === 'all' ? [...VARIANTS] : wanted.split(',')) as Variant[];

async function nchwData(t: tf.Tensor4D): Promise<Float32Array> {
  const n = tf.transpose(t, [0, 3, 1, 2]);
  const d = (await n.data()) as Float32Array;
  n.dispose();
  return d;
}

describe.skipIf(skipReason !== undefined).each(variants)('mmdetection parity on webgpu: %s', (v) => {
  const cfg = variantConfig(v);
  let model: SingleStageInstanceSegmentor;
  let input: tf.Tensor4D;

  beforeAll(async () => {
    await setupTestBackend('webgpu');
    const registry = new Registry().load(backbonesComponents, necksComponents, headsComponents, lossesComponents, assignersComponents, postprocessComponents, detectorsComponents);
    model = registry.build<SingleStageInstanceSegmentor>('models', cfg.model, 'model');
    model.loadCheckpoint(await variantStateDict(v), { strict: true });
    input = nhwc(readParity(v, 'input.npy'));
  });

  afterAll(() => {
    input?.dispose();
    model?.dispose();
  });

  it('runs on webgpu', () => expect(tf.getBackend()).toBe('webgpu'));

  it('backbone and neck outputs match backbone_out_* / neck_out_* (1e-4 relative + 1e-5 of the scale)', async () => {
    model.eval();
    const before = tf.memory().numTensors;
    const m = model as unknown as { backbone: { forward(x: tf.Tensor4D): tf.Tensor4D[] }; neck: { forward(x: tf.Tensor4D[]): tf.Tensor4D[] } };
    const feats = m.backbone.forward(input);
    const outs = m.neck.forward(feats);
    const problems: string[] = [];
    const check = async (label: string, t: tf.Tensor4D, file: string) => {
      const g = readParity(v, file);
      expect([t.shape[0], t.shape[3], t.shape[1], t.shape[2]], label).toEqual(g.shape);
      const e = npyFloat32(g);
      let scale = 0;
      for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
      const r = compareClose(await nchwData(t), e, 1e-4, 1e-5 * scale);
      if (r.bad > 0) problems.push(describeReport(`${label} (scale ${scale.toFixed(1)})`, r));
    };
    for (const [i, f] of feats.entries()) await check(`backbone_out_${i}`, f, `backbone_out_${i}.npy`);
    for (const [i, o] of outs.entries()) await check(`neck_out_${i}`, o, `neck_out_${i}.npy`);
    tf.dispose([...feats, ...outs]);
    expect(tf.memory().numTensors).toBe(before);
    expect(problems).toEqual([]);
  });

  it('predictions match pred_* and predictions.segm.json; device reads are counted', async () => {
    model.eval();
    const before = tf.memory().numTensors;
    const { result: [res], reads } = await countDeviceReads(() => model.predict(input, [{ metainfo: variantMeta(cfg) }]));
    expect(tf.memory().numTensors).toBe(before);
    expectPredictionsMatch(v, cfg, res);
    // the post-processing's reads: 4 fixed ones (the class scores once, the candidates' mask areas and probability
    // sums, the Matrix-NMS selection), then the kept masks at the original size in chunks of chunk_size
    // (SOLOMaskPostProcessor's default, 8): never one read per candidate or per instance
    const kept = res.scores?.length ?? 0;
    const expected = 4 + Math.ceil(kept / 8);
    console.log(`[webgpu parity] ${v}: predict read device data ${reads} times (${kept} instances)`);
    expect(reads).toBe(expected);
  }, 300_000);

  it('losses and the gradient norms of every trainable parameter match loss/*.json; no device read in forward + backward', async () => {
    model.train();
    const golden = JSON.parse(readFileSync(parityPath(v, 'loss', 'grad_norms.json'), 'utf8')) as Record<string, { grad_l2: number | null; requires_grad: boolean }>;
    const trainable = model.trainableParameters();
    const before = tf.memory().numTensors;
    let terms: tf.Scalar[] = [];
    const { result: { value, grads }, reads } = await countDeviceReads(async () => tf.variableGrads(() => {
      const l = model.loss(input, [lossSample(v, cfg)]);
      terms = [tf.keep(l.loss_mask), tf.keep(l.loss_cls)];
      return tf.add(l.loss_mask, l.loss_cls) as tf.Scalar;
    }, trainable.map(([, p]) => p.variable)));
    expect(reads, 'forward + backward read nothing back').toBe(0);
    const losses = [(await terms[0].data())[0], (await terms[1].data())[0]];
    const wantLosses = variantLosses(v);
    expectClose(`${v} losses`, losses, [wantLosses.loss_mask, wantLosses.loss_cls], 1e-4, 0);
    const norms = tf.tidy(() => tf.stack(trainable.map(([, p]) => (grads[p.variable.name] ? tf.norm(grads[p.variable.name]) : tf.scalar(0)))));
    const got = Array.from(await norms.data());
    const want = trainable.map(([n]) => golden[n].grad_l2 as number);
    tf.dispose([norms, value, ...terms, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    // the wasm tolerance of detectors.test.ts (1e-3 relative: float32 noise of the forward amplified by the backward)
    const r = compareClose(got, want, 1e-3, 1e-6);
    expect(r.bad, `${describeReport(`${v} grad norms`, r)} (${trainable[r.worst.index][0]})`).toBe(0);
    model.eval();
  }, 600_000);
});
