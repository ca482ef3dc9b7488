// SPDX-License-Identifier: Apache-2.0
/**
 * `solo infer CONFIG --checkpoint CKPT --image IMG [--runtime onnx|tfjs] [--out results.json] [--show vis.png]
 *  [--score-thr T] [--cfg-options k=v ...] [--threads N]`, or `solo infer MODEL.onnx --image IMG ...`
 *
 * Instance segmentation of one image, on ONNX Runtime by default (the graph exported from the config and
 * checkpoint, cached; see docs/onnx-runtime.md) or on TensorFlow.js (`--runtime tfjs`). The first stderr line names the
 * runtime and its threads. `--out` writes COCO results, one object per instance: `image_id`,
 * `category_id`, `label`, `score`, `bbox` [x, y, w, h] (from the mask) and `segmentation` as compressed RLE
 * `{size: [h, w], counts}` (pycocotools' encoding). `--show` draws the masks (semi-transparent, one colour per
 * class), boxes, class names and scores. `--score-thr` (default: keep everything the model's test_cfg keeps; 0.3
 * for the picture) drops instances below it from both. Without `--out`, a summary is printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildDetector, drawInstances, filterInstances, inferImage, pictureStyle, type InferResult } from '@solo-ts/apis';
import { releaseBackendThreads, type BackendChoice } from '@solo-ts/backends';
import { cfgOptionsOption } from '../util/cfg-options.js';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';
import { checkModelArgs, parseProviders, providersOption, runtimeChoice, runtimeOption } from '../util/runtime.js';
import { numberOption } from './train.js';

export interface InferCommandOptions {
  checkpoint?: string;
  runtime?: string;
  ortProviders?: string;
  image: string;
  out?: string;
  show?: string;
  scoreThr?: string;
  cfgOptions?: string[];
  threads?: string;
}

export async function inferCommand(config: string, opts: InferCommandOptions, backend: BackendChoice, log: (line: string) => void): Promise<InferResult & { classes: string[] }> {
  const scoreThr = numberOption(opts.scoreThr, '--score-thr');
  const runtime = runtimeChoice(opts.runtime);
  checkModelArgs(config, opts.checkpoint, runtime);
  const det = await buildDetector(config, { checkpoint: opts.checkpoint, cfgOptions: opts.cfgOptions, backend, threads: numberOption(opts.threads, '--threads', { integer: true, min: 1 }), onWarning: log, runtime, executionProviders: parseProviders(opts.ortProviders) });
  log(`runtime: ${det.runtimeDetail}`);
  try {
    const r = await inferImage(det, opts.image, { scoreThr });
    if (opts.out) {
      fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
      fs.writeFileSync(opts.out, JSON.stringify(r.results));
    }
    if (opts.show) {
      const png = await drawInstances({ ...r.image, channelOrder: 'bgr' }, filterInstances(r.instances, scoreThr ?? 0.3), { ...pictureStyle(det), classes: det.classes, scoreThr: scoreThr ?? 0.3 });
      fs.mkdirSync(path.dirname(path.resolve(opts.show)), { recursive: true });
      fs.writeFileSync(opts.show, png);
    }
    return { ...r, classes: det.classes };
  } finally {
    det.dispose();
  }
}

export function registerInfer(program: Command): void {
  program
    .command('infer')
    .description('segment the instances of one image: COCO results JSON (RLE masks) and/or a picture')
    .argument('<config>', 'config file (its model and test pipeline), or a .onnx file from `solo export`')
    .option('--checkpoint <file>', 'weights: solo-ts .safetensors, an mmdetection .pth, or a .onnx exported from this config')
    .addOption(runtimeOption())
    .addOption(providersOption())
    .requiredOption('--image <file>', 'image file (JPEG, PNG, WebP, ...)')
    .option('--out <file>', 'write the instances as COCO results JSON')
    .option('--show <file>', 'write a PNG with masks, boxes, class names and scores drawn')
    .option('--score-thr <t>', 'drop instances with a lower score (default: keep all for --out, 0.3 for --show)')
    .addOption(cfgOptionsOption())
    .option('--threads <n>', 'threads (ONNX Runtime intra-op and WebAssembly; default: the number of cores)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo infer configs/solov2/solov2_r50_fpn_1x_coco.yaml --checkpoint solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth \\\n' +
        '      --image demo.jpg --show demo_vis.png --out demo.json\n' +
        '  solo infer solov2_r50.onnx --image demo.jpg --show demo_vis.png\n' +
        '  solo infer configs/demo/solov2-light_r18_shapes.yaml --checkpoint work_dirs/demo/epoch_12.safetensors --image data/shapes/val/000001.png --show vis.png',
    )
    .action(
      action(async (config: string, opts: InferCommandOptions, cmd: Command) => {
        const log = (line: string) => process.stderr.write(`${line}\n`);
        try {
          const r = await inferCommand(config, opts, globalOptions(cmd).backend as BackendChoice, log);
          const lines = [`${r.results.length} instances in ${opts.image} (${r.image.width}x${r.image.height}; predict ${(r.seconds.predict * 1000).toFixed(0)} ms)`];
          for (const x of r.results.slice(0, 20)) lines.push(`  ${(r.classes[x.label] ?? `class ${x.label}`).padEnd(14)} ${x.score.toFixed(3)}  bbox [${x.bbox.map((v) => v.toFixed(0)).join(', ')}]`);
          if (r.results.length > 20) lines.push(`  ... (${r.results.length - 20} more)`);
          if (opts.out) lines.push(`wrote ${opts.out}`);
          if (opts.show) lines.push(`wrote ${opts.show}`);
          process.stdout.write(`${lines.join('\n')}\n`);
        } finally {
          releaseBackendThreads();
        }
      }),
    );
}
