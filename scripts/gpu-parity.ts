// SPDX-License-Identifier: Apache-2.0
/**
 * Parity check on the GPU, for scripts/gpu-bench.sh (bundled by scripts/gpu-bundle.sh; no vitest there): SOLOv2-light
 * R18's mmdetection goldens (predictions, losses, gradient norms of every parameter) on `--backend webgpu`, with the
 * tolerances of test/parity/webgpu.test.ts. Prints one line per check and `parity: PASS` / `parity: FAIL`; exit 1 on
 * a failure.
 *
 *   node gpu-parity.mjs PARITY_VARIANT_DIR
 * (SOLO_WEBGPU_SWIFTSHADER=1 runs it on the software GPU.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@solo-ts/backends';
import { createDefaultRegistry } from '@solo-ts/apis';
import { extractStateDict, loadPthFile } from '@solo-ts/checkpoint';
import { decode } from '@solo-ts/cocoapi';
import type { DetDataSample } from '@solo-ts/core';
import type { SingleStageInstanceSegmentor } from '@solo-ts/detectors';
import { npyFloat32, npyInt32, npyUint8, readNpy } from '../test/helpers/npy.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node gpu-parity.mjs PARITY_VARIANT_DIR (e.g. shared/parity/solov2-light_r18_fpn_ms-3x_coco)');
  process.exit(2);
}
const problems: string[] = [];
function check(label: string, ok: boolean, detail: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${label}: ${detail}`);
  if (!ok) problems.push(label);
}
/** Worst |a - e| / max(atol, rtol |e|) (<= 1 passes). */
function worstRatio(a: ArrayLike<number>, e: ArrayLike<number>, rtol: number, atol: number): number {
  let w = a.length === e.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(a.length, e.length); i++) w = Math.max(w, Math.abs(a[i] - e[i]) / Math.max(atol, rtol * Math.abs(e[i])));
  return Number.isNaN(w) ? Infinity : w;
}

const sel = await selectBackend('webgpu');
console.log(`backend: ${sel.detail}`);
interface Cfg { model: Record<string, unknown>; image_meta: { img_id: number; ori_shape: [number, number]; img_shape: [number, number]; pad_shape: [number, number]; batch_input_shape: [number, number]; scale_factor: [number, number] } }
const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Cfg;
const m = cfg.image_meta;
const meta = { imgId: m.img_id, oriShape: m.ori_shape, imgShape: m.img_shape, padShape: m.pad_shape, batchInputShape: m.batch_input_shape, scaleFactor: m.scale_factor };
const model = createDefaultRegistry().build<SingleStageInstanceSegmentor>('models', cfg.model, 'model');
model.loadCheckpoint(extractStateDict(await loadPthFile(join(dir, 'checkpoint.pth'))).stateDict, { strict: true });
const inp = readNpy(join(dir, 'input.npy'));
const input = tf.tidy(() => tf.transpose(tf.tensor4d(npyFloat32(inp), inp.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor4D;

// predictions
model.eval();
let t0 = performance.now();
const [res] = await model.predict(input, [{ metainfo: meta }]);
const labels = npyInt32(readNpy(join(dir, 'pred_labels.npy')));
check('prediction labels', res.labels!.length === labels.length && labels.every((l, i) => l === res.labels![i]), `${res.labels!.length} instances (mmdetection ${labels.length})`);
const sr = worstRatio(res.scores!, npyFloat32(readNpy(join(dir, 'pred_scores.npy'))), 0, 1e-3);
check('prediction scores', sr <= 1, `worst |diff| / 1e-3 = ${sr.toFixed(3)}`);
const coco = JSON.parse(readFileSync(join(dir, 'predictions.segm.json'), 'utf8')) as Array<{ segmentation: { size: [number, number]; counts: string } }>;
const hw = m.ori_shape[0] * m.ori_shape[1];
let minIoU = 1;
coco.forEach((p, i) => {
  const ref = decode(p.segmentation).data;
  const ours = res.masks!.data.subarray(i * hw, (i + 1) * hw);
  let inter = 0;
  let uni = 0;
  for (let k = 0; k < hw; k++) {
    inter += ours[k] & ref[k];
    uni += ours[k] | ref[k];
  }
  minIoU = Math.min(minIoU, uni === 0 ? 1 : inter / uni);
});
check('prediction masks', minIoU >= 0.99, `lowest IoU with mmdetection's masks ${minIoU.toFixed(5)} (>= 0.99)`);
console.log(`  (predict ${(performance.now() - t0).toFixed(0)} ms, first call: includes shader compilation)`);

// losses and gradient norms
model.train();
const bb = readNpy(join(dir, 'loss', 'gt_bboxes.npy'));
const gm = readNpy(join(dir, 'loss', 'gt_masks.npy'));
const sample: DetDataSample = {
  metainfo: meta,
  gtInstances: {
    bboxes: Float32Array.from(npyFloat32(bb)),
    labels: Int32Array.from(npyInt32(readNpy(join(dir, 'loss', 'gt_labels.npy')))),
    masks: { count: gm.shape[0], height: gm.shape[1], width: gm.shape[2], data: Uint8Array.from(npyUint8(gm)) },
  },
};
const trainable = model.trainableParameters();
t0 = performance.now();
let terms: tf.Scalar[] = [];
const { value, grads } = tf.variableGrads(() => {
  const l = model.loss(input, [sample]);
  terms = [tf.keep(l.loss_mask), tf.keep(l.loss_cls)];
  return tf.add(l.loss_mask, l.loss_cls) as tf.Scalar;
}, trainable.map(([, p]) => p.variable));
const norms = tf.tidy(() => tf.stack(trainable.map(([, p]) => (grads[p.variable.name] ? tf.norm(grads[p.variable.name]) : tf.scalar(0)))));
const got = Array.from(await norms.data());
const losses = [(await terms[0].data())[0], (await terms[1].data())[0]];
console.log(`  (forward + backward ${(performance.now() - t0).toFixed(0)} ms, first call)`);
const want = (JSON.parse(readFileSync(join(dir, 'loss', 'losses.json'), 'utf8')) as { losses: { loss_mask: number; loss_cls: number } }).losses;
const lr = worstRatio(losses, [want.loss_mask, want.loss_cls], 1e-4, 0);
check('losses', lr <= 1, `loss_mask ${losses[0]} (mmdetection ${want.loss_mask}), loss_cls ${losses[1]} (${want.loss_cls})`);
const golden = JSON.parse(readFileSync(join(dir, 'loss', 'grad_norms.json'), 'utf8')) as Record<string, { grad_l2: number }>;
const gr = worstRatio(got, trainable.map(([n]) => golden[n].grad_l2), 1e-3, 1e-6);
check('gradient norms', gr <= 1, `${trainable.length} parameters, worst |diff| / (1e-3 |expected|) = ${gr.toFixed(3)}`);
tf.dispose([norms, value, input, ...terms, ...Object.values(grads)]);
model.dispose();
console.log(`parity: ${problems.length === 0 ? 'PASS' : `FAIL (${problems.join(', ')})`}`);
process.exitCode = problems.length === 0 ? 0 : 1;
