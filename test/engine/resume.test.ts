// SPDX-License-Identifier: Apache-2.0
/**
 * Interrupting and resuming `solo train` in child processes on the cpu backend:
 * - SIGKILL after a checkpoint, then `--resume`: the following per-iteration losses equal an uninterrupted run's
 *   exactly (same data order and augmentation from (seed, epoch, index), restored momentum buffers, scheduler
 *   position and RNG);
 * - SIGTERM (wasm backend): the run finishes its iteration, saves a checkpoint, points last_checkpoint at it and exits 143.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CONFIG, dataOptions, exited, iterationLosses, makeTinyData, spawnSolo, tmpDir, waitFor } from './helpers.js';

let root: string;
let scratch: string;

beforeAll(async () => {
  root = await makeTinyData(tmpDir('data'));
  scratch = tmpDir('resume');
}, 120_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** 6 training images, batch 2: 3 iterations per epoch; 2 epochs = 4 iterations with `indices: 4`. Checkpoint every 2 iterations. */
function trainArgs(workDir: string, extra: string[] = [], backend = ['--backend', 'cpu']): string[] {
  return [...backend, 'train', TINY_CONFIG, '--work-dir', workDir, '--no-validate', '--cfg-options', ...dataOptions(root), 'train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=4', ...extra];
}

describe('kill and resume (cpu, child processes)', () => {
  it('after SIGKILL, --resume continues with exactly the losses of an uninterrupted run', async () => {
    const a = path.join(scratch, 'a');
    const b = path.join(scratch, 'b');
    const full = spawnSolo(trainArgs(a));
    const killed = spawnSolo(trainArgs(b));
    // kill b as soon as its first checkpoint is complete (last_checkpoint is written after the file)
    await waitFor(() => fs.existsSync(path.join(b, 'last_checkpoint')));
    killed.kill('SIGKILL');
    const kb = await exited(killed);
    expect(kb.signal).toBe('SIGKILL');
    const ra = await exited(full);
    expect(ra.code, full.output()).toBe(0);
    const resumedFrom = fs.readFileSync(path.join(b, 'last_checkpoint'), 'utf8').trim();
    const resumed = spawnSolo(trainArgs(b, []).concat(['--resume']));
    const rb = await exited(resumed);
    expect(rb.code, resumed.output()).toBe(0);
    expect(resumed.output()).toContain(`Resumed from ${path.join(b, resumedFrom)}`);
    const la = iterationLosses(a);
    const lb = iterationLosses(b);
    expect([...la.keys()]).toEqual([1, 2, 3, 4]);
    const startIter = Number(/iter_(\d+)/.exec(resumedFrom)![1]);
    expect(startIter).toBeGreaterThanOrEqual(2);
    expect(startIter).toBeLessThan(4);
    for (let i = 1; i <= 4; i++) expect(lb.get(i), `iteration ${i}`).toBe(la.get(i));
  });

  it('SIGTERM saves a checkpoint, updates last_checkpoint and exits 143', async () => {
    const c = path.join(scratch, 'c');
    const child = spawnSolo(trainArgs(c, ['train_cfg.max_epochs=1000', 'default_hooks.checkpoint.interval=-1'], ['--backend', 'wasm']).concat(['--threads', '1']));
    await waitFor(() => /Epoch\(train\) \[1\/1000\]\[1\/2\]/.test(child.output()));
    child.kill('SIGTERM');
    const r = await exited(child);
    expect(r.code, child.output()).toBe(143);
    const pointer = fs.readFileSync(path.join(c, 'last_checkpoint'), 'utf8').trim();
    expect(pointer).toMatch(/^iter_\d+\.safetensors$/);
    expect(fs.statSync(path.join(c, pointer)).size).toBeGreaterThan(1000);
    expect(child.output()).toMatch(/SIGTERM received: finishing the current iteration/);
    expect(child.output()).toMatch(/interrupted by SIGTERM/);
    expect(child.output()).toMatch(/resume with --resume/);
  });
});
