// SPDX-License-Identifier: Apache-2.0
/**
 * The peak a backend reaches on one large convolution (default `[1, 100, 136, 256]` NHWC input, 3x3 filter,
 * 256 -> 256 channels, stride 1, 'same': the shape of a 3x3 FPN / head conv on a P3 level at 800x1088), as the
 * reference for a network's achieved GFLOP/s. The input and filter are created once; each sample is one conv whose
 * output is read back (synchronised). `solo bench` takes one sample after every timed iteration, so the peak and
 * the network are measured under the same machine load; `measurePeakConv` takes them in a row.
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

/** A large conv that can be sampled repeatedly; `dispose()` when done. */
export class PeakConv {
  readonly input: [number, number, number, number];
  readonly filter: [number, number, number, number];
  readonly flops: number;
  private readonly x: tf.Tensor4D;
  private readonly w: tf.Tensor4D;
  private readonly wall: number[] = [];
  private readonly cpu: number[] = [];

  constructor(o: PeakConvOptions = {}) {
    this.input = o.input ?? [1, 100, 136, 256];
    const cout = o.outChannels ?? 256;
    const k = o.kernel ?? 3;
    this.filter = [k, k, this.input[3], cout];
    this.flops = 2 * this.input[0] * this.input[1] * this.input[2] * cout * k * k * this.input[3];
    this.x = tf.randomNormal(this.input) as tf.Tensor4D;
    this.w = tf.tidy(() => tf.mul(tf.randomNormal(this.filter), 0.05)) as tf.Tensor4D;
  }

  /** One conv; recorded unless `record` is false (warm-up). */
  async sample(record = true): Promise<void> {
    const t = stamp();
    const y = tf.conv2d(this.x, this.w, 1, 'same');
    await y.data();
    const s = since(t);
    y.dispose();
    if (record) {
      this.wall.push(s.wall);
      this.cpu.push(s.cpu);
    }
  }

  get samples(): number {
    return this.wall.length;
  }

  result(): PeakConvResult {
    const ms = summarize(this.wall);
    const cpuMs = summarize(this.cpu);
    return { input: this.input, filter: this.filter, flops: this.flops, ms, cpuMs, gflops: this.flops / ms.median / 1e6, gflopsPerCpuSecond: this.flops / cpuMs.median / 1e6 };
  }

  dispose(): void {
    tf.dispose([this.x, this.w]);
  }
}

/** `warmup` + `iters` samples in a row. */
export async function measurePeakConv(o: PeakConvOptions = {}): Promise<PeakConvResult> {
  const p = new PeakConv(o);
  try {
    for (let i = 0; i < (o.warmup ?? 1); i++) await p.sample(false);
    for (let i = 0; i < (o.iters ?? 5); i++) await p.sample();
    return p.result();
  } finally {
    p.dispose();
  }
}
