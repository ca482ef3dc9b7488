// SPDX-License-Identifier: Apache-2.0
/**
 * ResNet forward timing: `npx tsx packages/backbones/scripts/bench-resnet.ts [wasm|cpu] [depth] [h] [w] [--fold] [--dcn]`.
 * One warm-up run, then the median of 3 (eval mode, batch 1).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { countFlops, registerWasmTrainingKernels, setBatchNormFolding } from '@solo-ts/ops';
import { ResNet } from '../src/index.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const backend = args[0] ?? 'wasm';
const DEPTHS = [18, 34, 50, 101, 152] as const;
const depth = DEPTHS.find((d) => d === Number(args[1] ?? 50));
if (depth === undefined) throw new Error(`depth must be one of ${DEPTHS.join(', ')}, got ${args[1]}`);
const h = Number(args[2] ?? 800);
const w = Number(args[3] ?? 1333);
setBatchNormFolding(process.argv.includes('--fold'));
const dcn = process.argv.includes('--dcn');
if (backend === 'wasm') registerWasmTrainingKernels();
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
const median = times[1];
// FLOPs and per-kernel time of one more run (tf.profile), and a reference dense conv measured in the same process
const { report, result } = await countFlops(net, () => net.forward(x));
tf.dispose(result);
const ref = (() => {
  const xr = tf.randomNormal([1, 100, 167, 256]) as tf.Tensor4D;
  const wr = tf.randomNormal([3, 3, 256, 256]) as tf.Tensor4D;
  tf.conv2d(xr, wr, 1, 1).dispose();
  const t0 = performance.now();
  const y = tf.conv2d(xr, wr, 1, 1);
  y.dataSync();
  const dt = performance.now() - t0;
  tf.dispose([xr, wr, y]);
  return (2 * 100 * 167 * 256 * 256 * 9) / dt / 1e6;
})();
console.log(`${backend} ResNet-${depth}${dcn ? '-DCN' : ''} ${h}x${w} fold=${process.argv.includes('--fold')}: median ${median.toFixed(0)} ms`);
console.log(`FLOPs ${(report.total / 1e9).toFixed(1)} G (conv ${((report.byKind.conv ?? 0) / 1e9).toFixed(1)} G) -> ${(report.total / median / 1e6).toFixed(1)} GFLOP/s overall; reference 3x3 256->256 conv alone: ${ref.toFixed(1)} GFLOP/s`);
for (const k of report.kernelTimes.slice(0, 8)) console.log(`  ${k.name}: ${k.ms.toFixed(0)} ms in ${k.calls} calls`);
