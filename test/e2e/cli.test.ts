// SPDX-License-Identifier: Apache-2.0
/**
 * End to end through the `solo` command (child processes, from sources): train a tiny model for two iterations,
 * then `solo infer` (COCO results JSON with RLE masks + a PNG), `solo test` (metrics JSON, results file,
 * pictures), `solo plot-log` (PNG from scalars.json and from the TensorBoard file), `solo list` / `describe`.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, toBbox } from '@solo-ts/cocoapi';
import { TINY_CONFIG, dataOptions, exited, makeTinyData, spawnSolo, tmpDir } from '../engine/helpers.js';

let root: string;
let scratch: string;
let checkpoint: string;
const WASM = ['--backend', 'wasm'];

async function solo(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawnSolo([...args, ...(args.includes('list') || args.includes('describe') || args.includes('plot-log') ? [] : ['--threads', '1'])]);
  const r = await exited(child);
  return { code: r.code, out: child.output() };
}

beforeAll(async () => {
  root = await makeTinyData(tmpDir('data'));
  scratch = tmpDir('e2e');
  const r = await solo([...WASM, 'train', TINY_CONFIG, '--work-dir', path.join(scratch, 'run'), '--max-iters', '2', '--no-validate', '--json', '--cfg-options', ...dataOptions(root)]);
  expect(r.code, r.out).toBe(0);
  const summary = JSON.parse(r.out.trim().split('\n').pop()!) as { lastCheckpoint: string; iters: number };
  expect(summary.iters).toBe(2);
  checkpoint = summary.lastCheckpoint;
}, 180_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('solo CLI end to end', () => {
  it('solo infer writes COCO results (RLE masks, boxes from the masks) and a PNG of the image size', async () => {
    const image = path.join(root, 'val', '000001.png');
    const out = path.join(scratch, 'infer.json');
    const show = path.join(scratch, 'infer.png');
    // an untrained model scores everything low: keep every candidate so that masks come out
    const r = await solo([...WASM, 'infer', TINY_CONFIG, '--checkpoint', checkpoint, '--image', image, '--out', out, '--show', show, '--score-thr', '0', '--cfg-options', ...dataOptions(root), 'model.test_cfg.score_thr=0', 'model.test_cfg.mask_thr=0.3', 'model.test_cfg.filter_thr=0']);
    expect(r.code, r.out).toBe(0);
    const results = JSON.parse(fs.readFileSync(out, 'utf8')) as Array<{ image_id: number; category_id: number; label: number; score: number; bbox: number[]; segmentation: { size: [number, number]; counts: string } }>;
    expect(Array.isArray(results)).toBe(true);
    expect(results.length).toBeGreaterThan(0);
    for (const d of results) {
      expect(d.segmentation.size).toEqual([48, 64]);
      expect(typeof d.segmentation.counts).toBe('string');
      expect(d.label).toBeGreaterThanOrEqual(0);
      expect(d.category_id).toBe(d.label + 1);
      expect(d.score).toBeGreaterThanOrEqual(0);
      expect(d.bbox).toEqual(toBbox(d.segmentation));
      expect(decode(d.segmentation).data.some((v) => v === 1)).toBe(true);
    }
    const meta = await sharp(show).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 48]);
    expect(r.out).toMatch(new RegExp(`${results.length} instances in`));
  });

  it('solo test prints metrics as JSON, writes results and pictures', async () => {
    const out = path.join(scratch, 'test.json');
    const showDir = path.join(scratch, 'vis');
    const r = await solo([...WASM, 'test', TINY_CONFIG, '--checkpoint', checkpoint, '--out', out, '--show-dir', showDir, '--json', '--cfg-options', ...dataOptions(root)]);
    expect(r.code, r.out).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').pop()!) as { metrics: Record<string, number>; images: number; results_file: string };
    expect(last.images).toBe(3);
    expect(Object.keys(last.metrics)).toEqual(expect.arrayContaining(['coco/segm_mAP', 'coco/segm_mAP_50', 'coco/segm_mAP_75']));
    expect(Array.isArray(JSON.parse(fs.readFileSync(last.results_file, 'utf8')))).toBe(true);
    expect(fs.readdirSync(showDir).sort()).toEqual(['000001.png', '000002.png', '000003.png']);
  });

  it('solo plot-log draws curves from scalars.json and from the TensorBoard events', async () => {
    const run = path.join(scratch, 'run');
    const png = path.join(scratch, 'curve.png');
    const r = await solo(['plot-log', run, '--keys', 'loss', 'loss_mask', '--out', png]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/loss: 2 points, loss_mask: 2 points/);
    expect((await sharp(png).metadata()).format).toBe('png');
    const tbDir = fs.readdirSync(run).map((d) => path.join(run, d, 'vis_data', 'tensorboard')).find((d) => fs.existsSync(d))!;
    const events = path.join(tbDir, fs.readdirSync(tbDir)[0]);
    const r2 = await solo(['plot-log', events, '--keys', 'loss', '--out', path.join(scratch, 'tb.png')]);
    expect(r2.code, r2.out).toBe(0);
    expect(r2.out).toMatch(/loss: 2 points/);
    const bad = await solo(['plot-log', run, '--keys', 'los', '--out', png]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/has no values for `los`[\s\S]*keys in this log: .*loss_mask/);
  });

  it('solo list and solo describe show the registry', async () => {
    const l = await solo(['list', 'hooks']);
    expect(l.code, l.out).toBe(0);
    expect(l.out).toMatch(/CheckpointHook\s+@solo-ts\/engine/);
    const all = await solo(['list', '--json']);
    const entries = JSON.parse(all.out) as Array<{ scope: string; key: string }>;
    for (const [scope, key] of [['models', 'SOLOV2Head'], ['models', 'ResNet'], ['models', 'FPN'], ['datasets', 'CocoDataset'], ['metrics', 'CocoMetric'], ['optimizers', 'SGD'], ['schedulers', 'MultiStepLR'], ['loops', 'EpochBasedTrainLoop']]) {
      expect(entries.some((e) => e.scope === scope && e.key === key), `${scope}/${key}`).toBe(true);
    }
    const d = await solo(['describe', 'hooks', 'CheckpointHook']);
    expect(d.out).toMatch(/max_keep_ckpts\s+integer\s+default -1/);
    const bad = await solo(['describe', 'modles', 'ResNet']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/unknown scope "modles"[\s\S]*did you mean models/);
  });
});
