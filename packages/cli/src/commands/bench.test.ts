// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgram } from '../main.js';
import { runCli, type CliRun } from '../__fixtures__/run-cli.js';
import { parseShape } from './bench.js';

const DEMO = fileURLToPath(new URL('../../../../configs/demo/solov2-light_r18_shapes.yaml', import.meta.url));

const run = (args: string[]): Promise<CliRun> => runCli(createProgram(), args);

afterEach(() => vi.restoreAllMocks());

describe('solo bench', () => {
  it('--json at a tiny size: one JSON object with every phase, FLOPs and forced candidates', async () => {
    const r = await run(['--backend', 'wasm', 'bench', DEMO, '--runtime', 'tfjs', '--shape', '64x96', '--warmup', '0', '--iters', '2', '--candidates', '12', '--no-peak', '--threads', '1', '--json']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]);
    expect(j.mode).toBe('infer');
    expect(j.randomWeights).toBe(true);
    expect(j.backend.name).toBe('wasm');
    expect(j.input.networkInput).toEqual([1, 64, 96, 3]);
    for (const phase of ['preprocess', 'network', 'predict', 'predictNetwork', 'postprocess', 'postProcessor', 'postCandidates', 'endToEnd']) {
      expect(j.infer.phases[phase].wall.n, phase).toBe(2);
      expect(j.infer.phases[phase].wall.median, phase).toBeGreaterThanOrEqual(0);
    }
    const p = j.infer.phases;
    // end-to-end = pre-processing + predict, predict = its network part + post-processing
    expect(p.endToEnd.wall.median).toBeGreaterThanOrEqual(p.predict.wall.median);
    expect(p.predict.wall.median).toBeGreaterThanOrEqual(p.postprocess.wall.median);
    expect(j.infer.postprocessShare).toBeGreaterThan(0);
    expect(j.infer.postprocessShare).toBeLessThan(1);
    // the calibration makes exactly 12 candidates reach the post-processor
    expect(j.infer.candidates.requested).toBe(12);
    expect(j.infer.candidates.perImage).toBe(12);
    expect(j.flops.network).toBeGreaterThan(1e8);
    expect(j.gflops.network).toBeGreaterThan(0);
    expect(j.gflops.peak).toBeNull();
    expect(j.memory.peakRssMiB).toBeGreaterThan(0);
    expect(j.notes.join(' ')).toMatch(/random weights/);
  });

  it('on ONNX Runtime (the default): the same phases, the network as session.run alone, forced candidates', async () => {
    const r = await run(['--backend', 'wasm', 'bench', DEMO, '--shape', '64x96', '--warmup', '0', '--iters', '2', '--candidates', '12', '--threads', '1', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^runtime: onnxruntime-node \S+ \(cpu, 1 thread\)$/m);
    const j = JSON.parse(r.out);
    expect(j.runtime.name).toBe('onnx');
    expect(j.model).toBe('SOLOv2');
    for (const phase of ['preprocess', 'inputTransfer', 'network', 'predict', 'predictNetwork', 'postprocess', 'postProcessor', 'endToEnd']) expect(j.infer.phases[phase].wall.n, phase).toBe(2);
    const p = j.infer.phases;
    expect(p.predict.wall.median).toBeGreaterThanOrEqual(p.postprocess.wall.median);
    expect(j.infer.candidates.perImage).toBe(12);
    expect(j.flops.network).toBeGreaterThan(1e8);
    expect(j.peak).toBeUndefined();
  });

  it('--mode train --json: step, forward / backward / optimizer and the inference forward', async () => {
    const r = await run(['--backend', 'wasm', 'bench', DEMO, '--mode', 'train', '--shape', '64x96', '--warmup', '0', '--iters', '2', '--no-peak', '--no-flops', '--threads', '1', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.mode).toBe('train');
    for (const phase of ['step', 'forwardBackward', 'optimizer', 'forward', 'inferenceForward']) expect(j.train.phases[phase].wall.n, phase).toBe(2);
    expect(Number.isFinite(j.train.lastLoss)).toBe(true);
    expect(j.train.stepOverInference).toBeGreaterThan(1);
  });

  it('rejects a malformed --shape', async () => {
    expect(() => parseShape('800')).toThrow(/800x1333/);
    const r = await run(['bench', DEMO, '--shape', 'axb']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--shape must look like/);
  });
});
