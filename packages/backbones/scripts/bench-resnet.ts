// SPDX-License-Identifier: Apache-2.0
/**
 * ResNet forward timing: `npx tsx packages/backbones/scripts/bench-resnet.ts [wasm|cpu] [depth] [h] [w] [--fold] [--dcn]`.
 * One warm-up run, then the median of 3 (eval mode, batch 1).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setBatchNormFolding } from '@solo-ts/ops';
import { ResNet } from '../src/index.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const backend = args[0] ?? 'wasm';
const depth = Number(args[1] ?? 50);
const h = Number(args[2] ?? 800);
const w = Number(args[3] ?? 1333);
setBatchNormFolding(process.argv.includes('--fold'));
const dcn = process.argv.includes('--dcn');
await tf.setBackend(backend);
await tf.ready();
const net = new ResNet({ depth, frozenStages: 1, ...(dcn ? { dcn: { type: 'DCNv2', deform_groups: 1, fallback_on_stride: false }, stageWithDcn: [false, true, true, true] } : {}) });
net.eval();
const x = tf.randomNormal([1, h, w, 3]) as tf.Tensor4D;
const times: number[] = [];
for (let i = 0; i < 4; i++) {
  const t0 = performance.now();
  const outs = net.forward(x);
  await Promise.all(outs.map((o) => o.data()));
  const dt = performance.now() - t0;
  tf.dispose(outs);
  if (i > 0) times.push(dt);
  console.log(`run ${i}: ${dt.toFixed(0)} ms`);
}
times.sort((a, b) => a - b);
// multiply-accumulates of the convs (2 FLOP each) for a rough GFLOP/s figure
console.log(`${backend} ResNet-${depth}${dcn ? '-DCN' : ''} ${h}x${w} fold=${process.argv.includes('--fold')}: median ${times[1].toFixed(0)} ms`);
