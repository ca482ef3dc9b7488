// SPDX-License-Identifier: Apache-2.0
/**
 * `solo export CONFIG --checkpoint CKPT --out model.onnx [--opset N] [--cfg-options k=v ...] [--force]`
 *
 * Writes the model's network (backbone, neck and head up to the raw outputs the post-processing takes) as an ONNX
 * file with dynamic batch, height and width, and the solo-ts metadata (classes, category ids, normalisation, pad
 * divisor, test_cfg, test pipeline, model config, checkpoint sha256) that makes the file enough to run the model.
 * The logic is `exportOnnx` of `@solo-ts/apis`; see docs/onnx.md for the contract.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { buildDetector, exportOnnx } from '@solo-ts/apis';
import { releaseBackendThreads, type BackendChoice } from '@solo-ts/backends';
import { cfgOptionsOption } from '../util/cfg-options.js';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';
import { numberOption } from './train.js';

export interface ExportCommandOptions {
  checkpoint: string;
  out: string;
  opset?: string;
  cfgOptions?: string[];
  force?: boolean;
}

/** What `solo export` did. */
export interface ExportSummary {
  out: string;
  bytes: number;
  nodes: number;
  parameters: number;
  opset: number;
  outputs: string[];
  seconds: number;
}

/** Build the detector, export it, write the file; `log` gets the progress lines. */
export async function exportCommand(config: string, opts: ExportCommandOptions, backend: BackendChoice, log: (line: string) => void): Promise<ExportSummary> {
  const opset = numberOption(opts.opset, '--opset', { integer: true, min: 1 });
  if (!opts.out) throw new SoloError('solo export needs --out FILE.onnx', { code: 'ARGUMENT' });
  if (fs.existsSync(opts.out) && !opts.force) throw new SoloError(`${opts.out} exists`, { code: 'FILE', hint: 'pass --force to overwrite it' });
  const t0 = performance.now();
  log(`loading ${config} with ${opts.checkpoint}`);
  const det = await buildDetector(config, { checkpoint: opts.checkpoint, cfgOptions: opts.cfgOptions, backend, onWarning: log });
  try {
    const r = exportOnnx(det, { opset, onProgress: log });
    fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
    const tmp = `${opts.out}.partial`;
    try {
      fs.writeFileSync(tmp, r.bytes);
      fs.renameSync(tmp, opts.out);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new SoloError(`cannot write ${opts.out}: ${(e as Error).message}`, { code: 'FILE', cause: e });
    }
    const outputs = Object.entries(r.metadata.outputs).map(([f, n]) => (n === null ? f : `${f}_0..${n - 1}`));
    return { out: opts.out, bytes: r.bytes.length, nodes: r.nodes, parameters: r.parameters, opset: r.metadata.opset, outputs, seconds: (performance.now() - t0) / 1000 };
  } finally {
    det.dispose();
  }
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export the network to ONNX (dynamic batch and size; classes, normalisation and test_cfg in the metadata)')
    .argument('<config>', 'config file (its model, data preprocessor and test pipeline)')
    .requiredOption('--checkpoint <file>', 'weights: solo-ts .safetensors or an mmdetection .pth')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--opset <n>', 'ONNX opset (default 17, or 19 for models with deformable convolutions; at least 17)')
    .option('--force', 'overwrite the output file if it exists')
    .addOption(cfgOptionsOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo export configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml --checkpoint solov2-light_r18.pth --out solov2-light_r18.onnx\n' +
        '  solo export configs/solov2/solov2_r101-dcn_fpn_ms-3x_coco.yaml --checkpoint solov2_r101_dcn.pth --out solov2_r101_dcn.onnx --opset 19\n' +
        '\nInput `input`: float32 [batch, 3, height, width], the data preprocessor\'s output (normalised, padded to the\n' +
        'pad divisor); outputs: the head\'s raw outputs (e.g. mlvlKernelPreds_0..4, mlvlClsPreds_0..4, maskFeats).\n' +
        'See docs/onnx.md.',
    )
    .action(
      action(async (config: string, opts: ExportCommandOptions, cmd: Command) => {
        const log = (line: string) => process.stderr.write(`${line}\n`);
        try {
          const r = await exportCommand(config, opts, globalOptions(cmd).backend as BackendChoice, log);
          process.stdout.write(
            `wrote ${r.out} (${(r.bytes / 1e6).toFixed(1)} MB, opset ${r.opset}, ${r.nodes} nodes, ${r.parameters.toLocaleString('en-US')} parameters) in ${r.seconds.toFixed(1)} s\n` +
              `  input:   input [batch, 3, height, width]\n  outputs: ${r.outputs.join(', ')}\n`,
          );
        } finally {
          releaseBackendThreads();
        }
      }),
    );
}
