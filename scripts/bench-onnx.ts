// SPDX-License-Identifier: Apache-2.0
/**
 * The ONNX Runtime comparison of docs/benchmarks.md, one command:
 *
 *   npx tsx --conditions source scripts/bench-onnx.ts --run DIR [--threads 2] [--iters 5] [--only r18|r50]
 *   npx tsx --conditions source scripts/bench-onnx.ts DIR                 # print the table of an earlier run
 *
 * For SOLOv2-light R18 @448x768 and SOLOv2 R50 @800x1333, on the same weights and the same pixels:
 * 1. weights: ../shared/reference/solo_torch.py `weights` (random full-size weights calibrated so that about 300
 *    candidates reach Matrix NMS, as a trained model), and its synthetic "original" image written to a PNG;
 * 2. `solo export` of the config with those weights (the test Resize set to the benchmark size);
 * 3. `solo bench` on tfjs (wasm), and on ONNX Runtime from the exported `.onnx` (each a fresh process, so peak RSS
 *    is its own): pre-processing, network, post-processing, end-to-end (decoded image in, masks out);
 * 4. a standalone onnxruntime-node session on the same graph and the same input shape (network only, same
 *    session options: all graph optimisations, `threads` intra-op threads), in its own process; `solo bench` also
 *    times solo-ts's session against a plain one in alternation in its process (`infer.standalone`), which is
 *    immune to the machine's load changing between processes;
 * 5. PyTorch: solo_torch.py `bench` (mmdetection's test_step phases, bit-exact to mmdetection, /usr/bin/python3).
 * Every run is a separate process, one after the other; times are medians after warm-up. Results go to
 * DIR/<model>.<impl>.json, then the table (with the target ratios) is printed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from '@solo-ts/cli';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const REF = path.resolve(ROOT, '..', 'shared', 'reference', 'solo_torch.py');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

interface Model {
  key: string;
  preset: string;
  config: string;
  shape: [number, number];
}

const MODELS: Model[] = [
  { key: 'r18', preset: 'solov2-light_r18_fpn_ms-3x_coco', config: 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml', shape: [448, 768] },
  { key: 'r50', preset: 'solov2_r50_fpn_1x_coco', config: 'configs/solov2/solov2_r50_fpn_1x_coco.yaml', shape: [800, 1333] },
];

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function run(cmd: string, args: string[], o: { json?: boolean; env?: Record<string, string> } = {}): string {
  process.stderr.write(`$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...o.env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  if (!o.json) return r.stdout;
  const lines = r.stdout.trim().split('\n');
  return lines[lines.length - 1];
}

const solo = (args: string[], json = true): string => run(process.execPath, ['--conditions=source', '--import', 'tsx', 'test/cli/solo-source.ts', ...args], { json });

/** The network of the exported graph alone in onnxruntime-node: same options as solo-ts's session. */
const STANDALONE = `
const ort = require('onnxruntime-node');
const fs = require('node:fs');
const [file, shape, threads, warmup, iters] = process.argv.slice(1);
(async () => {
  const dims = shape.split('x').map(Number);
  const s = await ort.InferenceSession.create(fs.readFileSync(file), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: Number(threads), interOpNumThreads: 1 });
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001);
  const t = [];
  for (let i = 0; i < Number(warmup) + Number(iters); i++) {
    const x = new ort.Tensor('float32', data, dims);
    const t0 = performance.now();
    await s.run({ [s.inputNames[0]]: x });
    if (i >= Number(warmup)) t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const median = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
  console.log(JSON.stringify({ impl: 'onnxruntime-node standalone', version: ort.env.versions.node, network_ms: { median, min: t[0], max: t[t.length - 1] }, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
})();
`;

function runModel(m: Model, dir: string, threads: number, iters: number, warmup: number): void {
  const w = path.join(dir, `${m.key}.pth`);
  const img = path.join(dir, `${m.key}.png`);
  const onnx = path.join(dir, `${m.key}.onnx`);
  const shape = `${m.shape[0]}x${m.shape[1]}`;
  if (!fs.existsSync(w)) run(PYTHON, [REF, 'weights', '--preset', m.preset, '--shape', shape, '--threads', String(threads), '--out', w]);
  const meta = JSON.parse(
    run(PYTHON, ['-c', `import sys, json, torch, cv2; sys.path.insert(0, ${JSON.stringify(path.dirname(REF))}); import solo_torch as s; m = torch.load(${JSON.stringify(w)})['meta']; cv2.imwrite(${JSON.stringify(img)}, s.synthetic_image(*m['orig_shape'], seed=0)); print(json.dumps(m))`], { json: true }),
  ) as { scale: [number, number] };
  // the test Resize at the benchmark size (solo_torch's bench_scale), in both places a config keeps a test pipeline
  const scale = `[${meta.scale.join(',')}]`;
  const cfgOptions = ['--cfg-options', `test_dataloader.dataset.pipeline.1.scale=${scale}`, `test_pipeline.1.scale=${scale}`];
  if (!fs.existsSync(onnx)) solo(['export', m.config, '--checkpoint', w, '--out', onnx, ...cfgOptions], false);
  const common = ['--image', img, '--warmup', String(warmup), '--iters', String(iters), '--threads', String(threads), '--json'];
  fs.writeFileSync(path.join(dir, `${m.key}.tfjs.json`), solo(['--backend', 'wasm', 'bench', m.config, '--checkpoint', w, '--runtime', 'tfjs', '--no-peak', ...common, ...cfgOptions]));
  const ortRes = solo(['--backend', 'wasm', 'bench', m.config, '--checkpoint', onnx, '--runtime', 'onnx', '--no-flops', ...common, ...cfgOptions]);
  fs.writeFileSync(path.join(dir, `${m.key}.onnx.json`), ortRes);
  const net = (JSON.parse(ortRes) as BenchResult).input.networkInput; // NHWC
  const nchw = `${net[0]}x${net[3]}x${net[1]}x${net[2]}`;
  fs.writeFileSync(path.join(dir, `${m.key}.standalone.json`), run(process.execPath, ['-e', STANDALONE, onnx, nchw, String(threads), String(warmup), String(iters)], { json: true }));
  fs.writeFileSync(path.join(dir, `${m.key}.torch.json`), run(PYTHON, [REF, 'bench', '--preset', m.preset, '--shape', shape, '--ckpt', w, '--threads', String(threads), '--warmup', String(warmup), '--iters', String(iters), '--json'], { json: true }));
}

const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const x = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');

function table(dir: string): void {
  const read = <T>(f: string): T | null => (fs.existsSync(path.join(dir, f)) ? (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as T) : null);
  console.log('| model @ input | runtime | pre ms | network ms | post ms | end-to-end ms | peak RSS MiB |');
  console.log('|---|---|---|---|---|---|---|');
  const targets: string[] = [];
  for (const m of MODELS) {
    const tf = read<BenchResult>(`${m.key}.tfjs.json`);
    const on = read<BenchResult>(`${m.key}.onnx.json`);
    const sa = read<{ version: string; network_ms: { median: number }; peak_rss_mb: number }>(`${m.key}.standalone.json`);
    const pt = read<{ torch: string; pre_ms: { median: number }; net_ms: { median: number }; post_ms: { median: number }; e2e_ms: { median: number }; peak_rss_mb: number; nms_candidates: number; detections: number }>(`${m.key}.torch.json`);
    if (!tf && !on && !sa && !pt) continue;
    const name = `${m.preset} @ ${m.shape.join('x')}`;
    const row = (r: BenchResult | null, label: string): void => {
      if (!r) return;
      const p = r.infer!.phases;
      console.log(`| ${name} | ${label} | ${ms(p.preprocess.wall.median)} | ${ms(p.network.wall.median)} | ${ms(p.postprocess.wall.median)} | ${ms(p.endToEnd.wall.median)} | ${r.memory.peakRssMiB.toFixed(0)} |`);
    };
    row(tf, `solo-ts, tfjs ${tf?.backend.detail ?? ''}`);
    row(on, `solo-ts, ${on?.runtime?.detail ?? 'ONNX Runtime'}`);
    if (sa) console.log(`| ${name} | onnxruntime-node ${sa.version} standalone session, same graph | - | ${ms(sa.network_ms.median)} | - | - | ${sa.peak_rss_mb.toFixed(0)} |`);
    if (pt) console.log(`| ${name} | PyTorch ${pt.torch} (mmdetection pipeline, ${pt.nms_candidates} NMS candidates) | ${ms(pt.pre_ms.median)} | ${ms(pt.net_ms.median)} | ${ms(pt.post_ms.median)} | ${ms(pt.e2e_ms.median)} | ${pt.peak_rss_mb.toFixed(0)} |`);
    if (on) {
      const p = on.infer!.phases;
      const c = on.infer!.candidates;
      targets.push(
        `- ${name}: network / standalone ORT ${sa ? x(p.network.wall.median, sa.network_ms.median) : '-'} (separate process), ` +
          `${on.infer!.standalone ? `${on.infer!.standalone.ratio.toFixed(3)}x (same process, ${on.infer!.standalone.pairs} alternating pairs)` : '-'} (target <= 1.05x); ` +
          `end-to-end / PyTorch ${pt ? x(p.endToEnd.wall.median, pt.e2e_ms.median) : '-'} (target <= 0.5x); ` +
          `post-processing / network ${x(p.postprocess.wall.median, p.network.wall.median)} (target <= 0.5x); ${c.perImage} NMS candidates, ${c.outputsPerImage} instances out`,
      );
    }
  }
  if (targets.length) console.log(`\n${targets.join('\n')}`);
}

function main(): void {
  if (process.argv[2] === '--run') {
    const dir = path.resolve(process.argv[3] ?? 'work_dirs/bench-onnx');
    fs.mkdirSync(dir, { recursive: true });
    const threads = Number(arg('--threads', '2'));
    const iters = Number(arg('--iters', '5'));
    const warmup = Number(arg('--warmup', '2'));
    const only = arg('--only');
    for (const m of MODELS) if (!only || only === m.key) runModel(m, dir, threads, iters, warmup);
    table(dir);
  } else table(path.resolve(process.argv[2] ?? 'work_dirs/bench-onnx'));
}

main();
