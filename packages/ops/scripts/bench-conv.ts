// SPDX-License-Identifier: Apache-2.0
/**
 * Benchmarks the wasm conv kernels: XNNPACK forward `Conv2D`, solo-ts's `Conv2DBackpropInput` /
 * `Conv2DBackpropFilter` (built on the forward conv) and optionally the stock wasm `Conv2DBackpropInput`, for
 * several thread counts (threads > 1 use solo-ts's threaded Node loader from packages/backends).
 *
 *   npx tsx --conditions source packages/ops/scripts/bench-conv.ts \
 *     [--shape 1,200,272,256] [--cout 256] [--k 3] [--stride 1] [--threads 1,2] [--reps 5] [--warmup 1]
 *     [--kernels fwd,dx,dw] [--stock-dx] [--zero-insert-dx] [--cpu]
 *
 * Prints the median wall time, GFLOP/s (2·N·Ho·Wo·Cin·Cout·kh·kw FLOPs per kernel) and GFLOP per CPU-second of the
 * process (less sensitive to other load; includes spin-waiting threads) of `reps` runs after `warmup` runs, as a
 * markdown table. `--cpu` adds the `cpu` backend's forward conv (very slow on large shapes).
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { registerThreadedWasmBackend, selectBackend, type WasmPackage } from '@solo-ts/backends';
import { registerWasmTrainingKernels } from '../src/index.js';
import { conv2dBackpropInputZeroInsert } from '../src/kernels/conv2d_backprop.js';
import { type BackendLike, KernelScope, pair } from '../src/kernels/kernel_utils.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const [n, h, w, cin] = arg('shape', '1,200,272,256').split(',').map(Number);
const cout = Number(arg('cout', '256'));
const k = Number(arg('k', '3'));
const stride = Number(arg('stride', '1'));
const reps = Number(arg('reps', '5'));
const warmup = Number(arg('warmup', '1'));
const threadList = arg('threads', '1,2').split(',').map((t) => t.trim());
const kernels = arg('kernels', 'fwd,dx,dw').split(',');

const info = tf.backend_util.computeConv2DInfo([n, h, w, cin], [k, k, cin, cout], stride, 1, 'same');
const flops = 2 * n * info.outHeight * info.outWidth * cin * cout * k * k;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Timing {
  /** Median wall-clock milliseconds. */
  ms: number;
  /** Median process CPU milliseconds (all threads; includes XNNPACK's spin-waiting). */
  cpuMs: number;
  runs: number[];
}

function time(run: () => tf.Tensor): Timing {
  const runs: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const y = run();
    y.dataSync();
    const dt = performance.now() - t0;
    const dc = process.cpuUsage(c0);
    y.dispose();
    if (i >= warmup) {
      runs.push(dt);
      cpu.push((dc.user + dc.system) / 1000);
    }
  }
  return { ms: median(runs), cpuMs: median(cpu), runs };
}

const rows: string[] = [];
function report(backend: string, kernel: string, r: Timing): void {
  const gflops = flops / r.ms / 1e6;
  const perCpu = flops / r.cpuMs / 1e6;
  rows.push(`| ${backend} | ${kernel} | ${r.ms.toFixed(0)} | ${gflops.toFixed(1)} | ${perCpu.toFixed(1)} | ` +
    `${r.runs.map((v) => v.toFixed(0)).join(' ')} |`);
  console.error(`${backend.padEnd(36)} ${kernel.padEnd(34)} ${r.ms.toFixed(0).padStart(7)} ms ` +
    `${gflops.toFixed(1).padStart(6)} GFLOP/s (${perCpu.toFixed(1)} per CPU-second)`);
}

function benchKernels(label: string, impl = 'solo-ts'): void {
  const x = tf.randomNormal([n, h, w, cin]) as tf.Tensor4D;
  const f = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
  const dy = tf.randomNormal(info.outShape) as tf.Tensor4D;
  const attrs = { strides: [stride, stride], pad: 'same', dataFormat: 'NHWC' };
  if (kernels.includes('fwd')) report(label, 'Conv2D (forward)', time(() => tf.conv2d(x, f, stride, 'same')));
  if (kernels.includes('dx')) {
    report(label, `Conv2DBackpropInput (${impl})`, time(() => tf.engine().runKernel('Conv2DBackpropInput',
      { dy, filter: f }, { ...attrs, inputShape: [n, h, w, cin] } as unknown as tf.NamedAttrMap) as tf.Tensor));
  }
  if (kernels.includes('dw')) {
    report(label, `Conv2DBackpropFilter (${impl})`, time(() => tf.engine().runKernel('Conv2DBackpropFilter',
      { x, dy }, { ...attrs, filterShape: [k, k, cin, cout] } as unknown as tf.NamedAttrMap) as tf.Tensor));
  }
  tf.dispose([x, f, dy]);
}

async function main(): Promise<void> {
  console.error(`conv ${n}x${h}x${w}x${cin} * ${k}x${k}x${cin}x${cout} stride ${stride} 'same': ` +
    `${(flops / 1e9).toFixed(2)} GFLOP per kernel; ${os.cpus().length} logical CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  for (const t of threadList) {
    if (t === 'threaded-1') {
      // The threaded build restricted to one thread (isolates build differences from threading).
      await selectBackend('wasm', { threads: 1, quiet: true });
      const pkg = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
      await registerThreadedWasmBackend(pkg, 1);
      registerWasmTrainingKernels();
      await tf.setBackend('wasm');
      benchKernels('wasm threaded build, 1 thread');
      await selectBackend('wasm', { threads: 2, quiet: true }); // leaves the threaded registration consistent
      continue;
    }
    const sel = await selectBackend('wasm', { threads: Number(t), quiet: true });
    benchKernels(sel.detail);
  }
  if (flag('stock-dx') && stockConv2DBackpropInput) {
    // The stock kernel (a direct loop in C++) in place of solo-ts's; its setupFunc binds the wasm export.
    const sel = await selectBackend('wasm', { threads: 1, quiet: true });
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(stockConv2DBackpropInput);
    stockConv2DBackpropInput.setupFunc?.(tf.backend());
    const saved = kernels.splice(0, kernels.length, 'dx');
    benchKernels(sel.detail, 'stock wasm');
    kernels.splice(0, kernels.length, ...saved);
    registerWasmTrainingKernels();
  }
  if (flag('zero-insert-dx')) {
    const sel = await selectBackend('wasm', { threads: Number(threadList[0]) || 1, quiet: true });
    const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({
      kernelName: 'Conv2DBackpropInput', backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs = {} }) => KernelScope.use('wasm', backend as BackendLike, (sc) =>
        conv2dBackpropInputZeroInsert(sc, inputs['dy'] as tf.TensorInfo, inputs['filter'] as tf.TensorInfo,
          attrs['inputShape'] as [number, number, number, number], { strides: pair(attrs['strides'], 1), dilations: [1, 1], pad: attrs['pad'] as 'same' })),
    });
    const saved = kernels.splice(0, kernels.length, 'dx');
    benchKernels(sel.detail, 'zero-insert');
    kernels.splice(0, kernels.length, ...saved);
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    if (ours) tf.registerKernel(ours);
  }
  if (flag('cpu')) {
    await selectBackend('cpu', { quiet: true });
    kernels.splice(0, kernels.length, 'fwd');
    benchKernels('cpu (reference)');
  }
  console.log(`conv ${n}x${h}x${w}x${cin} * ${k}x${k}x${cin}x${cout}, stride ${stride}, 'same' padding, ` +
    `${(flops / 1e9).toFixed(2)} GFLOP; median of ${reps} runs after ${warmup} warm-up\n`);
  console.log(`load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs\n`);
  console.log('| backend | kernel | median ms | GFLOP/s (wall) | GFLOP per CPU-second | runs (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

// Keep the stock wasm Conv2DBackpropInput before solo-ts replaces it, for --stock-dx.
await import('@tensorflow/tfjs-backend-wasm');
const stockConv2DBackpropInput: tf.KernelConfig | undefined = tf.getKernel('Conv2DBackpropInput', 'wasm');
await main();
