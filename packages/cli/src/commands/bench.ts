// SPDX-License-Identifier: Apache-2.0
/**
 * `solo bench CONFIG|MODEL.onnx [--checkpoint CKPT] [--runtime onnx|tfjs] [--shape HxW | --image IMG] [--mode infer|train] [--threads N]
 *  [--warmup N] [--iters N] [--batch N] [--candidates N] [--fold-bn] [--no-peak] [--no-flops] [--verbose] [--json]`
 *
 * Times inference (pre-processing, network, post-processing, end-to-end; median, p10/p90, MAD; images/s) or a
 * training step (forward / backward / optimizer) of a config's model on the selected backend (`--backend`),
 * with the network's FLOPs per layer (`--verbose`) and the achieved GFLOP/s against a large conv on the same
 * backend. Inference runs on ONNX Runtime by default where it loads (`--runtime tfjs` for TensorFlow.js; the
 * post-processing runs on the tfjs backend either way). Random weights without `--checkpoint`. `--json` prints exactly one JSON object on stdout (progress
 * goes to stderr). See docs/benchmarks.md.
 */
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { runBench, type BenchResult } from '../bench/bench.js';
import { formatBenchReport } from '../bench/format.js';
import { cfgOptionsOption } from '../util/cfg-options.js';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';
import { parseProviders, providersOption, runtimeChoice, runtimeOption } from '../util/runtime.js';

export interface BenchCommandOptions {
  checkpoint?: string;
  shape?: string;
  image?: string;
  mode: string;
  threads?: string;
  warmup: string;
  iters: string;
  batch: string;
  candidates?: string;
  peak: boolean;
  peakIters?: string;
  flops: boolean;
  verbose?: boolean;
  foldBn?: boolean;
  json?: boolean;
  cfgOptions?: string[];
  runtime?: string;
  ortProviders?: string;
}

function int(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new SoloError(`${option} must be an integer >= ${min}, got "${value}"`, { code: 'ARGUMENT' });
  }
  return n;
}

/** `HxW` (height x width) -> [h, w]. */
export function parseShape(text: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new SoloError(`--shape must look like 800x1333 (height x width), got "${text}"`, { code: 'ARGUMENT' });
  return [Number(m[1]), Number(m[2])];
}

/** JSON text of a result: non-finite numbers become null. */
export function benchJson(r: BenchResult): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmark inference (pre/network/post/end-to-end) or a training step of a config, with FLOPs and GFLOP/s')
    .argument('<config>', 'config file (YAML), or a .onnx file from `solo export` (infer mode)')
    .option('--checkpoint <file>', 'weights (.pth or .safetensors); random weights when absent')
    .option('--shape <HxW>', 'network input size before padding, e.g. 800x1333 (a synthetic image of that size)')
    .option('--image <file>', 'benchmark on this image (through the config test pipeline)')
    .option('--mode <mode>', 'infer or train', 'infer')
    .option('--threads <n>', 'threads: ONNX Runtime intra-op (default: the number of cores) and WebAssembly (default: the number of cores, at most 8)')
    .option('--warmup <n>', 'untimed iterations first', '1')
    .option('--iters <n>', 'timed iterations', '5')
    .option('--batch <n>', 'images per batch', '1')
    .option('--candidates <n>', 'force N Matrix NMS candidates per image (lowers score_thr, disables filter_thr)')
    .option('--no-peak', 'skip the peak conv measurement')
    .option('--peak-iters <n>', 'peak-conv samples (default: one after each timed iteration, at least 3)')
    .option('--no-flops', 'skip the FLOP count')
    .addOption(runtimeOption())
    .addOption(providersOption())
    .option('--fold-bn', 'fold eval-mode BatchNorms into their convs first (fuseForInference)')
    .option('--verbose', 'per-layer FLOP table and per-kernel times')
    .option('--json', 'print one JSON object (progress on stderr)')
    .addOption(cfgOptionsOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo bench configs/solov2/solov2_r50_fpn_1x_coco.yaml --shape 800x1333 --candidates 500\n' +
        '  solo --backend wasm bench configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml --shape 448x768 --iters 10 --json\n' +
        '  solo bench configs/solo/decoupled-solo-light_r50_fpn_3x_coco.yaml --mode train --shape 512x852 --iters 3',
    )
    .action(
      action(async (config: string, opts: BenchCommandOptions, cmd: Command) => {
        const g = globalOptions(cmd);
        const mode = opts.mode;
        if (mode !== 'infer' && mode !== 'train') throw new SoloError(`--mode must be infer or train, got "${mode}"`, { code: 'ARGUMENT' });
        const result = await runBench({
          config,
          cfgOptions: opts.cfgOptions,
          checkpoint: opts.checkpoint,
          shape: opts.shape ? parseShape(opts.shape) : undefined,
          image: opts.image,
          mode,
          backend: g.backend,
          threads: opts.threads !== undefined ? int(opts.threads, '--threads', 1) : undefined,
          warmup: int(opts.warmup, '--warmup', 0),
          iters: int(opts.iters, '--iters', 1),
          batch: int(opts.batch, '--batch', 1),
          candidates: opts.candidates !== undefined ? int(opts.candidates, '--candidates', 0) : undefined,
          peak: opts.peak,
          peakIters: opts.peakIters !== undefined ? int(opts.peakIters, '--peak-iters', 1) : undefined,
          flops: opts.flops,
          verbose: !!opts.verbose,
          foldBn: !!opts.foldBn,
          runtime: runtimeChoice(opts.runtime),
          executionProviders: parseProviders(opts.ortProviders),
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(opts.json ? `${benchJson(result)}\n` : formatBenchReport(result, { verbose: !!opts.verbose }));
      }),
    );
}
