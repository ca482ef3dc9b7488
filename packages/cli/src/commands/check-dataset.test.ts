// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli, type CliRun } from '../__fixtures__/run-cli.js';
import { registerCheckDataset } from './check-dataset.js';
import { registerMakeShapes } from './make-shapes.js';

function run(args: string[]): Promise<CliRun> {
  const program = new Command('solo').exitOverride();
  registerMakeShapes(program);
  registerCheckDataset(program);
  return runCli(program, args);
}

afterEach(() => vi.restoreAllMocks());

describe('solo make-shapes / check-dataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'solo-cli-shapes-'));

  it('make-shapes writes the dataset and check-dataset finds it clean (ann file and config)', async () => {
    const made = await run(['make-shapes', '--out', dir, '--num-train', '4', '--num-val', '2', '--seed', '2', '--size', '96x72', '--quiet']);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/wrote 4 train images \(\d+ instances\) and 2 val images/);
    const ann = join(dir, 'annotations/instances_train.json');
    const chk = await run(['check-dataset', ann]);
    expect(chk.code).toBe(0);
    expect(chk.out).toMatch(/guessed from the file name/);
    expect(chk.out).toMatch(/4 images decoded/);
    expect(chk.out).toMatch(/no problems found/);

    const cfg = join(dir, 'shapes.yaml');
    writeFileSync(
      cfg,
      [
        'model:',
        '  mask_head:',
        '    scale_ranges: [[1, 24], [12, 48], [24, 2048]]',
        'train_dataloader:',
        '  dataset:',
        '    type: CocoDataset',
        `    data_root: ${dir}/`,
        '    ann_file: annotations/instances_train.json',
        '    data_prefix: {img: train/}',
        '    pipeline:',
        '      - {type: LoadImageFromFile}',
        '      - {type: Resize, scale: [192, 144], keep_ratio: true}',
        '',
      ].join('\n'),
    );
    const viaCfg = await run(['check-dataset', cfg, '--json']);
    expect(viaCfg.code).toBe(0);
    const report = JSON.parse(viaCfg.out);
    expect(report.imagesChecked).toBe(4);
    expect(report.scaleRanges.trainScale).toEqual([192, 144]);
    expect(report.scaleRanges.ranges).toHaveLength(3);
  });

  it('check-dataset exits 1 and names the annotation when there are problems', async () => {
    const ann = join(dir, 'annotations/instances_val.json');
    const coco = JSON.parse(readFileSync(ann, 'utf8'));
    coco.annotations[0].segmentation = [[1, 2, 3, 4]];
    const broken = join(dir, 'annotations/instances_val_broken.json');
    writeFileSync(broken, JSON.stringify(coco));
    const r = await run(['check-dataset', broken, '--img-dir', join(dir, 'val')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`annotation id ${coco.annotations[0].id}: polygon 0 has 4 coordinates`));
  });

  it('argument errors', async () => {
    const r = await run(['make-shapes', '--out', dir, '--num-train', 'x', '--num-val', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--num-train must be an integer/);
    const s = await run(['make-shapes', '--out', dir, '--num-train', '1', '--num-val', '1', '--size', '300']);
    expect(s.err).toMatch(/--size must look like 320x240/);
    const m = await run(['check-dataset', join(dir, 'nope.json')]);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(/cannot read annotation file .*nope\.json: file not found/);
  });
});
