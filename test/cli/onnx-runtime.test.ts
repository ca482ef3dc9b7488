// SPDX-License-Identifier: Apache-2.0
/**
 * `solo infer` / `solo test` on ONNX Runtime (in process, through `main`), with the Light SOLOv2 R18 golden variant
 * of ../shared/parity exported once: a `.onnx` file alone, a config with the `.onnx` as its checkpoint, the default
 * runtime (ONNX Runtime, exported from the checkpoint and cached under $SOLO_CACHE_DIR) against `--runtime tfjs`
 * (same COCO metrics), the start-up line naming the runtime, and bad input: a truncated file, an ONNX model from
 * another tool, a config of another network, an opset and an operator this ONNX Runtime lacks, `--runtime tfjs`
 * with a `.onnx` file: one clear message each, exit 1, no stack trace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configFromYAML } from '@solo-ts/config';
import { setupTestBackend } from '@solo-ts/testing';
import { buildDetector, exportOnnx } from '@solo-ts/apis';
import { OnnxGraph } from '@solo-ts/ops';
import { readOnnxMetadata, serializeOnnx } from '@solo-ts/onnx';
import { main } from '@solo-ts/cli';
import { parityPath } from '../helpers/npy.js';
import { variantConfig } from '../parity/solo-parity.js';

const V = 'solov2-light_r18_fpn_ms-3x_coco' as const;
const CLASSES = ['person', 'car', 'bus', 'boat', 'bird', 'cat', 'dog', 'bottle'];
const IMAGE = parityPath('image', 'image.png');
const CKPT = parityPath(V, 'checkpoint.pth');
const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/** A config of the variant with the golden image as its one-image test split. */
function configDoc(model: Record<string, unknown>): Record<string, unknown> {
  const v = variantConfig(V) as unknown as { test_pipeline: Array<Record<string, unknown>> };
  const pipeline = v.test_pipeline.filter((t) => t.type !== 'LoadAnnotations');
  pipeline.splice(pipeline.length - 1, 0, { type: 'LoadAnnotations', with_bbox: true, with_mask: true });
  const ann = parityPath('image', 'annotations.json');
  return {
    model,
    test_dataloader: {
      batch_size: 1,
      num_workers: 0,
      sampler: { type: 'DefaultSampler', shuffle: false },
      dataset: { type: 'CocoDataset', data_root: path.dirname(ann), ann_file: 'annotations.json', data_prefix: { img: '' }, test_mode: true, pipeline, metainfo: { classes: CLASSES } },
    },
    test_evaluator: { type: 'CocoMetric', ann_file: ann, metric: ['segm'] },
  };
}

async function solo(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'solo', ...args]);
    return { code, out, err };
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
}

/** A one-node graph (input -> op -> maskFeats) with solo-ts metadata, at `opset`. */
function tinyModel(opset: number, op: string, meta: Record<string, unknown> | null): Uint8Array {
  const g = new OnnxGraph({ opset });
  const x = g.input('input', 'float32', ['batch', 3, 'height', 'width']);
  g.output('maskFeats', g.op(op, [x]));
  return serializeOnnx(g, { metadata: meta ? { solo_ts: JSON.stringify({ ...meta, outputs: { maskFeats: null }, opset }) } : {} });
}

describe('solo infer / test on ONNX Runtime', () => {
  let dir: string;
  let onnx: string;
  let cfgFile: string;
  const env = process.env.SOLO_CACHE_DIR;

  beforeAll(async () => {
    await setupTestBackend('cpu');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-ort-cli-'));
    process.env.SOLO_CACHE_DIR = path.join(dir, 'cache');
    const model = variantConfig(V).model as Record<string, unknown>;
    cfgFile = path.join(dir, 'light.yaml');
    fs.writeFileSync(cfgFile, JSON.stringify(configDoc(model)));
    const det = await buildDetector(configFromYAML(fs.readFileSync(cfgFile, 'utf8'), cfgFile), { checkpoint: CKPT });
    onnx = path.join(dir, 'light.onnx');
    fs.writeFileSync(onnx, exportOnnx(det).bytes);
    det.dispose();
  });

  afterAll(() => {
    if (env === undefined) delete process.env.SOLO_CACHE_DIR;
    else process.env.SOLO_CACHE_DIR = env;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('solo infer MODEL.onnx: says which runtime runs, writes results and a picture', async () => {
    const out = path.join(dir, 'res.json');
    const show = path.join(dir, 'vis.png');
    const r = await solo(['--backend', 'cpu', 'infer', onnx, '--image', IMAGE, '--out', out, '--show', show, '--threads', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^runtime: onnxruntime-node 1\.30\.0 \(cpu, 2 threads\)$/m);
    expect(r.out).toMatch(/^\d+ instances in .*image\.png \(640x427;/);
    const res = JSON.parse(fs.readFileSync(out, 'utf8')) as Array<{ category_id: number; score: number }>;
    expect(res.length).toBe(variantConfig(V).num_predictions);
    expect(fs.readFileSync(show).subarray(1, 4).toString()).toBe('PNG');
  });

  it('solo test: the default runtime (ONNX Runtime, export cached) and --runtime tfjs give the same mask AP; a .onnx checkpoint too', async () => {
    const outs = ['ort', 'tfjs', 'file'].map((n) => path.join(dir, `${n}.segm.json`));
    const ort = await solo(['--backend', 'cpu', 'test', cfgFile, '--checkpoint', CKPT, '--json', '--out', outs[0]]);
    expect(ort.code, ort.err).toBe(0);
    expect(ort.err).toMatch(/^runtime: onnxruntime-node 1\.30\.0 \(cpu, \d+ threads?\)$/m);
    expect(fs.readdirSync(path.join(dir, 'cache', 'onnx')).filter((f) => f.endsWith('.onnx'))).toHaveLength(1);
    const tfjs = await solo(['--backend', 'cpu', 'test', cfgFile, '--checkpoint', CKPT, '--runtime', 'tfjs', '--json', '--out', outs[1]]);
    expect(tfjs.code, tfjs.err).toBe(0);
    expect(tfjs.err).toMatch(/^runtime: tfjs cpu/m);
    const fromFile = await solo(['--backend', 'cpu', 'test', cfgFile, '--checkpoint', onnx, '--json', '--out', outs[2]]);
    expect(fromFile.code, fromFile.err).toBe(0);
    const metrics = (r: { out: string }) => (JSON.parse(r.out.trim().split('\n').pop()!) as { metrics: Record<string, number> }).metrics;
    const m = metrics(ort);
    expect(Object.keys(m)).toContain('coco/segm_mAP');
    for (const [k, v] of Object.entries(metrics(tfjs))) expect(Math.abs(m[k] - v), k).toBeLessThanOrEqual(1e-3);
    expect(metrics(fromFile)).toEqual(m);
    // the COCO results: same instances, scores within 1e-4
    const [a, b, c] = outs.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Array<{ image_id: number; category_id: number; score: number }>);
    expect(a.length).toBe(variantConfig(V).num_predictions);
    for (const other of [b, c]) {
      expect(other.length).toBe(a.length);
      a.forEach((x, i) => {
        expect([other[i].image_id, other[i].category_id]).toEqual([x.image_id, x.category_id]);
        expect(Math.abs(other[i].score - x.score)).toBeLessThanOrEqual(1e-4);
      });
    }
  });

  it('bad input: one clear message each, exit 1, no stack trace', async () => {
    const bytes = fs.readFileSync(onnx);
    const meta = readOnnxMetadata(bytes) as unknown as Record<string, unknown>;
    const files: Record<string, Uint8Array> = {
      'truncated.onnx': bytes.subarray(0, Math.floor(bytes.length / 2)),
      'foreign.onnx': tinyModel(17, 'Relu', null),
      'opset.onnx': tinyModel(99, 'Relu', meta),
      'op.onnx': tinyModel(17, 'SoloNoSuchOp', meta),
    };
    for (const [f, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), b);
    const other = path.join(dir, 'other.yaml');
    const model = structuredClone(variantConfig(V).model) as Record<string, Record<string, unknown>>;
    model.mask_head.num_classes = 3;
    fs.writeFileSync(other, JSON.stringify(configDoc(model)));
    const cases: Array<[string[], RegExp]> = [
      [['infer', path.join(dir, 'truncated.onnx'), '--image', IMAGE], /^error: .*truncated\.onnx is not a readable ONNX model \(truncated or not ONNX\)/],
      [['infer', path.join(dir, 'foreign.onnx'), '--image', IMAGE], /^error: .*foreign\.onnx is an ONNX model without solo-ts metadata .*not exported by solo-ts/],
      [['infer', path.join(dir, 'opset.onnx'), '--image', IMAGE], /^error: .*opset\.onnx needs an operator or opset this ONNX Runtime does not have: .*Opset 99/],
      [['infer', path.join(dir, 'op.onnx'), '--image', IMAGE], /^error: .*op\.onnx needs an operator or opset this ONNX Runtime does not have: .*No Op registered for SoloNoSuchOp/],
      [['infer', other, '--checkpoint', onnx, '--image', IMAGE], /^error: .*light\.onnx was exported from a different model than .*other\.yaml: model\.mask_head\.num_classes: the ONNX model has 8, the config 3/],
      [['infer', onnx, '--image', IMAGE, '--runtime', 'tfjs'], /^error: --runtime tfjs needs a config and a \.pth or \.safetensors checkpoint, not a \.onnx file/],
      [['test', onnx], /^error: solo test needs a config \(its test split\); give the \.onnx file with --checkpoint/],
    ];
    for (const [args, want] of cases) {
      const r = await solo(['--backend', 'cpu', ...args]);
      expect(r.code, `${args.join(' ')}\n${r.err}`).toBe(1);
      expect(r.err, args.join(' ')).toMatch(want);
      expect(r.err, args.join(' ')).not.toMatch(STACK_LINE);
      expect(r.err.trim().split('\n').filter((l) => l.startsWith('error:')), args.join(' ')).toHaveLength(1);
    }
  });
});
