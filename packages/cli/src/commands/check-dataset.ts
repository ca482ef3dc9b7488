// SPDX-License-Identifier: Apache-2.0
/**
 * `solo check-dataset CONFIG_OR_ANN_FILE [--img-dir DIR] [--split train|val|test] [--no-images] [--json]
 *  [--cfg-options k=v ...]`
 *
 * Validates a COCO instances file and decodes every image once (see `checkDataset` in @solo-ts/datasets):
 * prints a summary (instances per class, object sizes, and with a config the instance sizes against
 * `model.mask_head.scale_ranges` at the training resize scale) and every problem with its annotation id.
 * Exit code 1 when any problem (error or warning) is found. Given a config, the dataset of
 * `<split>_dataloader.dataset` is checked (`data_root`, `ann_file`, `data_prefix.img`).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { checkDataset, formatCheckReport, type CheckDatasetOptions } from '@solo-ts/datasets';
import { cfgOptionsOption, loadCliConfig } from '../util/cfg-options.js';
import { action, CliExit } from '../util/errors.js';
import { stderrProgress } from '../util/progress.js';

interface CheckDatasetCommandOptions {
  imgDir?: string;
  split: string;
  images: boolean;
  json?: boolean;
  cfgOptions?: string[];
}

type Map_ = Record<string, unknown>;

function isMap(v: unknown): v is Map_ {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The training keep-ratio resize scale of a pipeline (Resize.scale or the first RandomChoiceResize scale). */
function trainScaleOf(pipeline: unknown): [number, number] | undefined {
  if (!Array.isArray(pipeline)) return undefined;
  for (const t of pipeline) {
    if (!isMap(t)) continue;
    const s = t.type === 'RandomChoiceResize' && Array.isArray(t.scales) ? t.scales[0] : t.type === 'Resize' ? t.scale : undefined;
    if (Array.isArray(s) && s.length === 2 && s.every((v) => typeof v === 'number')) return [s[0], s[1]];
    if (typeof s === 'number') return [s, s];
  }
  return undefined;
}

/** Options of `checkDataset` from a config file. */
export function optionsFromConfig(file: string, split: string, cfgOptions?: string[]): CheckDatasetOptions & { note: string } {
  const cfg = loadCliConfig(file, cfgOptions);
  const key = `${split}_dataloader.dataset`;
  let ds = cfg.get<Map_>(key);
  if (!isMap(ds)) throw new SoloError(`config ${file} has no \`${key}\``, { code: 'CONFIG', location: { file } });
  for (let depth = 0; ds.type !== 'CocoDataset' && isMap(ds.dataset) && depth < 3; depth++) ds = ds.dataset as Map_; // RepeatDataset etc.
  const root = typeof ds.data_root === 'string' ? ds.data_root : '';
  const ann = ds.ann_file;
  if (typeof ann !== 'string') throw new SoloError(`\`${key}.ann_file\` must be a path`, { code: 'CONFIG', location: { file } });
  const prefix = isMap(ds.data_prefix) && typeof ds.data_prefix.img === 'string' ? ds.data_prefix.img : '';
  const annFile = root && !isAbsolute(ann) ? join(root, ann) : ann;
  const imgDir = root && !isAbsolute(prefix) ? join(root, prefix) : prefix;
  const ranges = cfg.get<unknown>('model.mask_head.scale_ranges');
  const scaleRanges =
    Array.isArray(ranges) && ranges.every((r) => Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === 'number'))
      ? (ranges as [number, number][])
      : undefined;
  const trainScale = trainScaleOf(cfg.get('train_dataloader.dataset.pipeline')) ?? trainScaleOf(cfg.get('train_pipeline'));
  return { annFile, imgDir, scaleRanges, trainScale, note: `config ${file}: ${key}` };
}

/** COCO layout guess: annotations/instances_<split>.json -> ../<split>/ when that directory exists. */
function guessImgDir(annFile: string): string | undefined {
  const m = /^instances_(.+)\.json$/.exec(basename(annFile));
  if (!m) return undefined;
  const dir = join(dirname(annFile), '..', m[1]);
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : undefined;
}

export function registerCheckDataset(program: Command): void {
  program
    .command('check-dataset')
    .description('validate a COCO dataset (annotations and images) and summarise it; exit 1 if problems are found')
    .argument('<config-or-ann-file>', 'a YAML config (checks <split>_dataloader.dataset) or a COCO instances JSON file')
    .option('--img-dir <dir>', 'image directory (default: from the config, or ../<split>/ next to annotations/instances_<split>.json)')
    .option('--split <name>', 'with a config: train, val or test', 'train')
    .option('--no-images', 'do not decode the images')
    .option('--json', 'print the report as one JSON object')
    .addOption(cfgOptionsOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo check-dataset data/shapes/annotations/instances_train.json\n' +
        '  solo check-dataset configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml --split val --json',
    )
    .action(
      action(async (target: string, opts: CheckDatasetCommandOptions) => {
        if (!['train', 'val', 'test'].includes(opts.split)) throw new SoloError(`--split must be train, val or test, got "${opts.split}"`, { code: 'ARGUMENT' });
        const ext = extname(target).toLowerCase();
        let options: CheckDatasetOptions;
        let note = '';
        if (ext === '.yaml' || ext === '.yml') {
          const o = optionsFromConfig(target, opts.split, opts.cfgOptions);
          note = o.note;
          options = { annFile: o.annFile, imgDir: opts.imgDir ?? o.imgDir, scaleRanges: o.scaleRanges, trainScale: o.trainScale };
        } else {
          const guessed = opts.imgDir ? undefined : guessImgDir(target);
          if (guessed) note = `images: ${guessed} (guessed from the file name; use --img-dir to choose)`;
          options = { annFile: target, imgDir: opts.imgDir ?? guessed };
        }
        if (!opts.images) options.checkImages = false;
        else if (options.imgDir === undefined) note += `${note ? '\n' : ''}images not checked (no --img-dir)`;
        const progress = opts.json || options.checkImages === false || options.imgDir === undefined ? undefined : stderrProgress({ label: 'decoding images', unit: 'img' });
        const report = await checkDataset({ ...options, onProgress: (done, total) => progress?.update(done, `${done}/${total}`) });
        progress?.finish();
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else process.stdout.write(`${note ? `${note}\n` : ''}${formatCheckReport(report)}\n`);
        if (report.problems.length > 0) throw new CliExit(1);
      }),
    );
}
