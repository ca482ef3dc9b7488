// SPDX-License-Identifier: Apache-2.0
/**
 * `solo test CONFIG --checkpoint CKPT|MODEL.onnx [--runtime onnx|tfjs] [--out results.json] [--show-dir DIR] [--show-score-thr T]
 *  [--max-images N] [--cfg-options k=v ...] [--threads N] [--json]`
 *
 * mmdetection's `tools/test.py`: evaluates a checkpoint (ours, a converted `.safetensors`, or a released
 * mmdetection `.pth` as it is) on the config's test split with `test_evaluator` (COCO mask AP identical to
 * pycocotools), prints the metrics, optionally writes the COCO results JSON and pictures of the predictions.
 * `--json`: the last stdout line is one JSON object `{metrics, images, seconds, predict_seconds_per_image,
 * results_file}`.
 */
import type { Command } from 'commander';
import { testModel, type TestResult } from '@solo-ts/apis';
import { releaseBackendThreads, type BackendChoice } from '@solo-ts/backends';
import { cfgOptionsOption } from '../util/cfg-options.js';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';
import { checkModelArgs, parseProviders, providersOption, runtimeChoice, runtimeOption } from '../util/runtime.js';
import { numberOption } from './train.js';

export interface TestCommandOptions {
  checkpoint?: string;
  runtime?: string;
  ortProviders?: string;
  out?: string;
  showDir?: string;
  showScoreThr?: string;
  maxImages?: string;
  cfgOptions?: string[];
  threads?: string;
  json?: boolean;
}

/** The metrics as aligned `key: value` lines. */
export function formatMetrics(metrics: Record<string, number>): string {
  const w = Math.max(0, ...Object.keys(metrics).map((k) => k.length));
  return Object.entries(metrics).map(([k, v]) => `  ${k.padEnd(w)}  ${Number.isInteger(v) ? v : v.toFixed(3)}`).join('\n');
}

export async function testCommand(config: string, opts: TestCommandOptions, backend: BackendChoice, log: (line: string) => void, onRuntime?: (line: string) => void): Promise<TestResult> {
  const runtime = runtimeChoice(opts.runtime);
  checkModelArgs(config, opts.checkpoint, runtime, { needsConfig: 'solo test' });
  return testModel(config, {
    checkpoint: opts.checkpoint,
    runtime,
    executionProviders: parseProviders(opts.ortProviders),
    onRuntime: onRuntime ?? ((line) => log(`runtime: ${line}`)),
    cfgOptions: opts.cfgOptions,
    backend,
    threads: numberOption(opts.threads, '--threads', { integer: true, min: 1 }),
    out: opts.out,
    showDir: opts.showDir,
    showScoreThr: numberOption(opts.showScoreThr, '--show-score-thr'),
    maxImages: numberOption(opts.maxImages, '--max-images', { integer: true, min: 1 }),
    log,
  });
}

export function registerTest(program: Command): void {
  program
    .command('test')
    .description('evaluate a checkpoint on the test split of a config (mmdetection tools/test.py): COCO mask AP')
    .argument('<config>', 'config file')
    .option('--checkpoint <file>', '(required) weights: solo-ts .safetensors, an mmdetection .pth (released checkpoints load as they are), or a .onnx exported from this config')
    .addOption(runtimeOption())
    .addOption(providersOption())
    .option('--out <file>', 'write the COCO results (segmentation RLE, bbox, score, category_id, label) as JSON')
    .option('--show-dir <dir>', 'write one picture per image with the predictions drawn')
    .option('--show-score-thr <t>', 'draw predictions with score >= t', '0.3')
    .option('--max-images <n>', 'evaluate only the first n images (a quick check)')
    .addOption(cfgOptionsOption())
    .option('--threads <n>', 'threads (ONNX Runtime intra-op and WebAssembly; default: the number of cores)')
    .option('--json', 'print one JSON object with the metrics as the last line')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo test configs/demo/solov2-light_r18_shapes.yaml --checkpoint work_dirs/demo/epoch_12.safetensors --show-dir vis/\n' +
        '  solo test configs/solov2/solov2_r50_fpn_1x_coco.yaml --checkpoint solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth --out segm.json',
    )
    .action(
      action(async (config: string, opts: TestCommandOptions, cmd: Command) => {
        const log = (line: string) => process.stdout.write(`${line}\n`);
        try {
          const r = await testCommand(config, opts, globalOptions(cmd).backend as BackendChoice, opts.json ? (l) => process.stderr.write(`${l}\n`) : log, (l) => process.stderr.write(`runtime: ${l}\n`));
          const out = opts.json ? (l: string) => process.stderr.write(`${l}\n`) : log;
          out(`${r.images} images in ${r.seconds.toFixed(1)} s (${(r.predictSeconds * 1000).toFixed(0)} ms per image in predict)`);
          if (Object.keys(r.metrics).length) out(`metrics:\n${formatMetrics(r.metrics)}`);
          if (r.resultsFile) out(`wrote ${r.numResults} results to ${r.resultsFile}`);
          if (opts.showDir) out(`pictures in ${opts.showDir}`);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ metrics: r.metrics, images: r.images, seconds: r.seconds, predict_seconds_per_image: r.predictSeconds, results_file: r.resultsFile ?? null })}\n`);
          }
        } finally {
          releaseBackendThreads();
        }
      }),
    );
}
