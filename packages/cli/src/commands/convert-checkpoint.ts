// SPDX-License-Identifier: Apache-2.0
/**
 * `solo convert-checkpoint IN.pth OUT.safetensors [--prefix-map old=new]... [--force] [--json]`
 *
 * Converts a PyTorch checkpoint (mmdetection's released `.pth` files, torchvision state dicts, any `torch.save`d
 * dict of tensors, zip or legacy format) to a solo-ts checkpoint: one safetensors file with checksums, tensors kept
 * in PyTorch layout under their PyTorch names (a leading `module.` removed, then the prefix maps applied), and the
 * metadata `{source: 'pth', layout: 'pytorch', sourceFile, wrapper, skipped, meta}`. Prints a summary (tensors,
 * parameters, bytes), or with `--json` one JSON object. The logic is `convertPthToSafetensors` of
 * `@solo-ts/checkpoint`; see docs/checkpoints.md.
 */
import type { Command } from 'commander';
import { convertPthToSafetensors, parsePrefixMap, type ConvertFileResult } from '@solo-ts/checkpoint';
import { action } from '../util/errors.js';

export interface ConvertCheckpointOptions {
  /** `old=new` prefix renames, first match wins. */
  prefixMap?: string[];
  /** Replace an existing output file. */
  force?: boolean;
  /** Print one JSON object instead of the text summary. */
  json?: boolean;
}

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** The text summary printed after a conversion. */
export function formatConversion(inPath: string, r: ConvertFileResult): string {
  const dtypes = Object.entries(r.dtypes)
    .map(([d, n]) => `${d} ${n}`)
    .join(', ');
  const lines = [
    `converted ${inPath} -> ${r.outPath}`,
    `  tensors:    ${r.numTensors}${dtypes ? ` (${dtypes})` : ''}`,
    `  parameters: ${r.numParameters.toLocaleString('en-US')} (${r.numElements.toLocaleString('en-US')} elements including BatchNorm statistics)`,
    `  bytes:      ${r.bytes.toLocaleString('en-US')} of tensor data, file ${mb(r.fileBytes)}`,
    '  layout:     PyTorch (NCHW / OIHW), names as in the .pth; metadata {source: "pth", layout: "pytorch", meta}',
  ];
  if (r.skipped.length) lines.push(`  skipped:    ${r.skipped.length} non-tensor entries (${r.skipped.slice(0, 5).join(', ')}${r.skipped.length > 5 ? ', ...' : ''})`);
  return `${lines.join('\n')}\n`;
}

/** Runs the conversion and returns what the command prints. */
export async function convertCheckpointCommand(inPath: string, outPath: string, opts: ConvertCheckpointOptions = {}): Promise<string> {
  const r = await convertPthToSafetensors(inPath, outPath, {
    prefixMap: parsePrefixMap(opts.prefixMap ?? []),
    overwrite: !!opts.force,
  });
  if (opts.json) {
    return `${JSON.stringify({ input: inPath, output: r.outPath, tensors: r.numTensors, parameters: r.numParameters, elements: r.numElements, bytes: r.bytes, fileBytes: r.fileBytes, dtypes: r.dtypes, skipped: r.skipped })}\n`;
  }
  return formatConversion(inPath, r);
}

export function registerConvertCheckpoint(program: Command): void {
  program
    .command('convert-checkpoint')
    .description('convert a PyTorch .pth checkpoint (mmdetection, torchvision) to a solo-ts .safetensors checkpoint')
    .argument('<in>', 'PyTorch checkpoint (.pth / .pt, zip or legacy torch.save format)')
    .argument('<out>', 'output file (.safetensors)')
    .option('--prefix-map <old=new>', 'rename keys starting with old (repeatable; new may be empty)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--force', 'overwrite the output file if it exists')
    .option('--json', 'print one JSON summary object')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo convert-checkpoint solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth solov2_r50.safetensors\n' +
        '  solo convert-checkpoint resnet50.pth r50.safetensors --prefix-map =backbone.\n' +
        '\nTensors stay in PyTorch layout; models transpose them on load. See docs/checkpoints.md.',
    )
    .action(
      action(async (inPath: string, outPath: string, opts: ConvertCheckpointOptions) => {
        process.stdout.write(await convertCheckpointCommand(inPath, outPath, opts));
      }),
    );
}
