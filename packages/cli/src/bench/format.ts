// SPDX-License-Identifier: Apache-2.0
/** Human-readable report of a `BenchResult` (what `solo bench` prints without `--json`). */
import { formatFlopTable } from '@solo-ts/ops';
import type { BenchResult } from './bench.js';
import type { PhaseSummary } from './stats.js';

const f0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : 1) : '-');

function phaseRow(label: string, p: PhaseSummary | undefined, total?: number): string | null {
  if (!p) return null;
  const w = p.wall;
  const share = total ? `${((100 * w.median) / total).toFixed(1).padStart(5)}%` : '      ';
  return `  ${label.padEnd(30)} ${f0(w.median).padStart(9)} ${f0(w.p10).padStart(9)} ${f0(w.p90).padStart(9)} ${f0(w.mad).padStart(8)} ${f0(p.cpu.median).padStart(9)} ${share}`;
}

const HEADER = `  ${'phase'.padEnd(30)} ${'median'.padStart(9)} ${'p10'.padStart(9)} ${'p90'.padStart(9)} ${'MAD'.padStart(8)} ${'cpu ms'.padStart(9)}  share`;

/** A row of a phase table: label, phase (left out when absent) and whether to show its share; or a finished line. */
type PhaseTableRow = [label: string, phase: PhaseSummary | undefined, share?: boolean] | string;

/** `title`, the header and a row per phase, shares relative to `ref` (ms). */
function phaseTable(title: string, ref: number, rows: PhaseTableRow[]): string[] {
  const out = [title, HEADER];
  for (const row of rows) {
    const line = typeof row === 'string' ? row : phaseRow(row[0], row[1], row[2] === false ? undefined : ref);
    if (line !== null) out.push(line);
  }
  return out;
}

export function formatBenchReport(r: BenchResult, options: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`solo bench: ${r.config}${r.checkpoint ? ` (checkpoint ${r.checkpoint})` : ' (random weights)'}`);
  out.push(`model ${r.model}; ${r.runtime?.name === 'onnx' ? `runtime ${r.runtime.detail}, post-processing on tfjs ${r.backend.detail}` : `backend ${r.backend.detail}`}; mode ${r.mode}; batch ${r.input.batch}; ${r.warmup} warm-up + ${r.iters} timed iterations${r.bnFolded ? `; ${r.bnFolded} BatchNorms folded into convs` : ''}`);
  out.push(`machine: ${m.cpuModel}, ${m.logicalCores} logical cores, ${m.totalMemoryGiB} GiB, ${m.platform}, Node ${m.node}, load ${m.loadAverage}, ${m.date}`);
  const src = r.input.source === 'image' ? `image ${r.input.image}` : 'synthetic image';
  out.push(`input: ${src} ${r.input.imageShape.join('x')} -> network input ${r.input.networkInput.join('x')} (NHWC)`);
  out.push('');
  if (r.infer) {
    const p = r.infer.phases;
    out.push(
      ...phaseTable('inference, ms per image (wall clock; cpu ms = process CPU time, all threads):', p.endToEnd.wall.median, [
        ['pre-processing', p.preprocess],
        ...(r.runtime?.name === 'onnx' ? [['input read-back (NCHW)', p.inputTransfer, false] as PhaseTableRow] : []),
        [r.runtime?.name === 'onnx' ? 'network (session.run)' : 'network (forwardTensor)', p.network, false],
        ['predict', p.predict],
        ['  network part', p.predictNetwork],
        ['  post-processing', p.postprocess],
        ['    scores + candidate masks', p.postCandidates],
        ['    Matrix NMS + resize', p.postProcessor],
        ['end-to-end', p.endToEnd],
      ]),
    );
    out.push(`  ${r.infer.imagesPerSecond.toFixed(2)} images/s; post-processing ${(100 * r.infer.postprocessShare).toFixed(1)}% of end-to-end`);
    const sa = r.infer.standalone;
    if (sa) out.push(`  network vs a plain onnxruntime-node session on the same graph, ${sa.pairs} alternating pairs: ${f0(sa.soloTs.wall.median)} vs ${f0(sa.plain.wall.median)} ms (${sa.ratio.toFixed(3)}x)`);
    const c = r.infer.candidates;
    out.push(
      `  candidates per image: ${c.perImage}${c.requested !== null ? ` (forced ${c.requested}: score_thr ${c.scoreThr?.toPrecision(4)}, filter_thr off)` : c.scoreThr !== null ? ` (score_thr ${c.scoreThr})` : ''}; instances out per image: ${c.outputsPerImage}`,
    );
  }
  if (r.train) {
    const p = r.train.phases;
    out.push(
      ...phaseTable('training, ms per batch (wall clock; cpu ms = process CPU time, all threads):', p.step.wall.median, [
        ['step (trainStep)', p.step],
        ['  data preprocessor', p.stepPreprocess],
        ['  forward + backward', p.forwardBackward],
        ['  optimizer (clip + SGD)', p.optimizer],
        ['forward only (loss mode)', p.forward],
        `  ${'backward (fwd+bwd - fwd)'.padEnd(30)} ${f0(r.train.backward).padStart(9)}`,
        ['inference forward, same batch', p.inferenceForward],
      ]),
    );
    out.push(`  ${r.train.imagesPerSecond.toFixed(2)} images/s; step / inference forward = ${r.train.stepOverInference.toFixed(2)}x; last loss ${r.train.lastLoss.toFixed(4)}`);
  }
  out.push('');
  if (r.flops) {
    const kinds = Object.entries(r.flops.byKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${(v / 1e9).toFixed(2)}`).join(', ');
    out.push(`network FLOPs per image: ${(r.flops.network / 1e9).toFixed(2)} GFLOP (${kinds}; multiply-add = 2 FLOPs)`);
  }
  if (r.peak) {
    out.push(`peak conv ${r.peak.input.join('x')} * ${r.peak.filter.join('x')}: ${r.peak.gflops.toFixed(1)} GFLOP/s (median ${r.peak.ms.median.toFixed(0)} ms; ${r.peak.gflopsPerCpuSecond.toFixed(1)} GFLOP per CPU second)`);
  }
  if (r.gflops) {
    const g = r.gflops;
    const frac = g.fractionOfPeak !== null ? ` = ${(100 * g.fractionOfPeak).toFixed(0)}% of the peak conv` : '';
    const fracCpu = g.fractionOfPeakCpu !== null ? ` = ${(100 * g.fractionOfPeakCpu).toFixed(0)}% of the peak conv's` : '';
    out.push(`network achieved: ${g.network.toFixed(1)} GFLOP/s${frac}; ${g.networkPerCpuSecond.toFixed(1)} GFLOP per CPU second${fracCpu}`);
  }
  const mem = r.memory;
  out.push(`memory: peak RSS ${mem.peakRssMiB.toFixed(0)} MiB; tensors ${(mem.tensorBytes / 2 ** 20).toFixed(1)} MiB in ${mem.numTensors} tensors after the run${mem.peakTensorBytesForward !== null ? `; peak tensor memory during a forward ${(mem.peakTensorBytesForward / 2 ** 20).toFixed(0)} MiB` : ''}`);
  if (options.verbose && r.flops?.layers) {
    out.push('');
    out.push('FLOPs per layer (one forward of the batch):');
    const total = r.flops.layers.reduce((s, l) => s + l.flops, 0);
    out.push(formatFlopTable({ total, byKind: r.flops.byKind, layers: r.flops.layers, kernels: 0, kernelTimes: [], peakBytes: 0 }));
  }
  const kernelTable = (title: string, times: Array<{ name: string; ms: number; calls: number }>): void => {
    out.push('');
    out.push(title);
    const tot = times.reduce((s, k) => s + k.ms, 0);
    for (const k of times.slice(0, 20)) out.push(`  ${k.name.padEnd(28)} ${k.ms.toFixed(1).padStart(10)} ms ${((100 * k.ms) / tot).toFixed(1).padStart(5)}% ${String(k.calls).padStart(6)} calls`);
  };
  if (options.verbose && r.kernelTimes) kernelTable('kernel times of one profiled forward (tf.profile; profiling adds overhead):', r.kernelTimes);
  if (options.verbose && r.trainKernelTimes) kernelTable('kernel times of one profiled training step (tf.profile; JS time outside kernels not included):', r.trainKernelTimes);
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n')}\n`;
}
