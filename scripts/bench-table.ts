// SPDX-License-Identifier: Apache-2.0
/**
 * The benchmark table of docs/benchmarks.md from `solo bench --json` results.
 *
 *   npx tsx --conditions source scripts/bench-table.ts results/*.json        # print the markdown tables
 *   npx tsx --conditions source scripts/bench-table.ts --run results/         # run the standard matrix first
 *
 * `--run DIR` runs the standard matrix (SOLOv2-light R18 at 448x768, Decoupled SOLO light R50 at 512x852,
 * SOLOv2 R50 at 800x1333; wasm with 1 and 2 threads, 500 forced candidates; a training step of the R18 model; the
 * `cpu` backend once on the R18 model) through the CLI from sources, one process per run, writing DIR/NAME.json,
 * then prints the tables. Times in the tables are medians: wall clock, and in parentheses this process's CPU time
 * (all threads), which stays meaningful when other processes share the cores.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from '@solo-ts/cli';

const MATRIX: Array<[string, string[]]> = [
  ['r18-t1', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml', '--shape', '448x768', '--iters', '5', '--candidates', '500', '--threads', '1']],
  ['r18-t2', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml', '--shape', '448x768', '--iters', '5', '--candidates', '500', '--threads', '2']],
  ['dsolo-t1', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solo/decoupled-solo-light_r50_fpn_3x_coco.yaml', '--shape', '512x852', '--iters', '3', '--candidates', '500', '--threads', '1']],
  ['dsolo-t2', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solo/decoupled-solo-light_r50_fpn_3x_coco.yaml', '--shape', '512x852', '--iters', '3', '--candidates', '500', '--threads', '2']],
  ['r50-t1', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2_r50_fpn_1x_coco.yaml', '--shape', '800x1333', '--iters', '3', '--candidates', '500', '--threads', '1']],
  ['r50-t2', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2_r50_fpn_1x_coco.yaml', '--shape', '800x1333', '--iters', '3', '--candidates', '500', '--threads', '2']],
  ['r18-train-t1', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml', '--mode', 'train', '--shape', '448x768', '--iters', '3', '--threads', '1']],
  ['r18-train-t2', ['--backend', 'wasm', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml', '--mode', 'train', '--shape', '448x768', '--iters', '3', '--threads', '2']],
  ['r18-cpu', ['--backend', 'cpu', 'bench', '--runtime', 'tfjs', 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml', '--shape', '448x768', '--warmup', '0', '--iters', '1', '--candidates', '500', '--no-flops', '--peak-iters', '1']],
];

function runMatrix(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [name, args] of MATRIX) {
    const file = path.join(dir, `${name}.json`);
    process.stderr.write(`${name}: solo ${args.join(' ')}\n`);
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'test/cli/solo-source.ts', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) {
      process.stderr.write(`${name} failed (exit ${r.status})\n`);
      continue;
    }
    fs.writeFileSync(file, r.stdout);
    files.push(file);
  }
  return files;
}

const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const model = (r: BenchResult): string => path.basename(r.config).replace(/\.yaml$/, '');
const backend = (r: BenchResult): string => r.backend.detail.replace(/^wasm \(XNNPACK, /, 'wasm (').replace(', SIMD)', ')');

function inferRow(r: BenchResult): string {
  const p = r.infer!.phases;
  const g = r.gflops;
  const both = (k: string): string => (p[k] ? `${ms(p[k].wall.median)} (${ms(p[k].cpu.median)})` : '-');
  const gf = g ? `${g.network.toFixed(1)} (${g.fractionOfPeak !== null ? `${(100 * g.fractionOfPeak).toFixed(0)}%` : '-'}; cpu ${g.fractionOfPeakCpu !== null ? `${(100 * g.fractionOfPeakCpu).toFixed(0)}%` : '-'})` : '-';
  return `| ${model(r)} | ${r.input.networkInput.slice(1, 3).join('x')} | ${backend(r)} | ${both('preprocess')} | ${both('network')} | ${both('postprocess')} | ${(100 * r.infer!.postprocessShare).toFixed(1)}% | ${both('endToEnd')} | ${r.infer!.imagesPerSecond.toFixed(3)} | ${r.flops ? (r.flops.network / 1e9).toFixed(1) : '-'} | ${gf} | ${r.peak ? r.peak.gflops.toFixed(1) : '-'} | ${r.memory.peakRssMiB.toFixed(0)} | ${r.machine.loadAverage} |`;
}

function trainRow(r: BenchResult): string {
  const t = r.train!;
  const p = t.phases;
  return `| ${model(r)} | ${r.input.networkInput.join('x')} | ${backend(r)} | ${ms(p.step.wall.median)} (${ms(p.step.cpu.median)}) | ${ms(p.forward.wall.median)} (${ms(p.forward.cpu.median)}) | ${ms(t.backward)} | ${ms(p.optimizer.wall.median)} | ${ms(p.inferenceForward?.wall.median)} (${ms(p.inferenceForward?.cpu.median)}) | ${t.stepOverInference.toFixed(2)}x (cpu ${(p.step.cpu.median / (p.inferenceForward?.cpu.median ?? Number.NaN)).toFixed(2)}x) | ${r.memory.peakRssMiB.toFixed(0)} | ${r.machine.loadAverage} |`;
}

function main(): void {
  const args = process.argv.slice(2);
  const files = args[0] === '--run' ? runMatrix(args[1] ?? 'bench-results') : args;
  const results = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as BenchResult);
  const infer = results.filter((r) => r.mode === 'infer' && r.infer);
  const train = results.filter((r) => r.mode === 'train' && r.train);
  if (infer.length) {
    console.log('| model | input | backend | pre ms | network ms | post ms | post share | end-to-end ms | img/s | GFLOP | network GFLOP/s (of peak) | peak conv GFLOP/s | peak RSS MiB | load |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of infer) console.log(inferRow(r));
  }
  if (train.length) {
    console.log('\n| model | batch input | backend | step ms | forward ms | backward ms | optimizer ms | inference forward ms | step / inference | peak RSS MiB | load |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of train) console.log(trainRow(r));
  }
  const m = results[0]?.machine;
  if (m) console.log(`\nmachine: ${m.cpuModel}, ${m.logicalCores} logical cores, ${m.totalMemoryGiB} GiB, Node ${m.node}; ${m.date.slice(0, 10)}`);
}

main();
