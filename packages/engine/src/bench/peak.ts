// SPDX-License-Identifier: Apache-2.0
/**
 * The peak a backend reaches on one large convolution (default `[1, 100, 136, 256]` NHWC input, 3x3 filter,
 * 256 -> 256 channels, stride 1, 'same': the shape of a 3x3 FPN / head conv on a P3 level at 800x1088), as the
 * reference for a network's achieved GFLOP/s. Median of `iters` runs after `warmup` runs; the input and filter are
 * created once, the output is read back (synchronised) in every run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { since, stamp, summarize, type Summary } from './stats.js';

export interface PeakConvOptions {
  /** NHWC input shape (default [1, 100, 136, 256]). */
  input?: [number, number, number, number];
  /** Output channels (default 256). */
  outChannels?: number;
  /** Kernel size (default 3). */
  kernel?: number;
  warmup?: number;
  iters?: number;
}

export interface PeakConvResult {
  input: number[];
  filter: number[];
  /** FLOPs of one conv (2 * N * Ho * Wo * Cout * k * k * Cin). */
  flops: number;
  ms: Summary;
  cpuMs: Summary;
  /** FLOPs / median wall time. */
  gflops: number;
  /** FLOPs / median CPU time (all threads): per-core throughput. */
  gflopsPerCpuSecond: number;
}

export async function measurePeakConv(o: PeakConvOptions = {}): Promise<PeakConvResult> {
  const input = o.input ?? [1, 100, 136, 256];
  const cout = o.outChannels ?? 256;
  const k = o.kernel ?? 3;
  const filter = [k, k, input[3], cout];
  const flops = 2 * input[0] * input[1] * input[2] * cout * k * k * input[3];
  const x = tf.randomNormal(input) as tf.Tensor4D;
  const w = tf.mul(tf.randomNormal(filter), 0.05) as tf.Tensor4D;
  const wall: number[] = [];
  const cpu: number[] = [];
  try {
    const warmup = o.warmup ?? 1;
    const iters = o.iters ?? 5;
    for (let i = 0; i < warmup + iters; i++) {
      const t = stamp();
      const y = tf.conv2d(x, w, 1, 'same');
      await y.data();
      const s = since(t);
      y.dispose();
      if (i >= warmup) {
        wall.push(s.wall);
        cpu.push(s.cpu);
      }
    }
  } finally {
    tf.dispose([x, w]);
  }
  const ms = summarize(wall);
  const cpuMs = summarize(cpu);
  return { input, filter, flops, ms, cpuMs, gflops: flops / ms.median / 1e6, gflopsPerCpuSecond: flops / cpuMs.median / 1e6 };
}
