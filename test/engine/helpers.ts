// SPDX-License-Identifier: Apache-2.0
/** Shared set-up of the engine tests: a tiny synthetic dataset (and variants), the tiny config, child runs. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeShapesDataset } from '@solo-ts/datasets';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TINY_CONFIG = path.join(REPO_ROOT, 'test', 'engine', 'fixtures', 'tiny-solov2.yaml');

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `solo-${prefix}-`));
}

/**
 * A tiny shapes dataset (64x48 images): `train` (6 images), `val` (3), plus in the same root
 * `annotations/instances_train_empty.json` (the first two training images without annotations) and
 * `annotations/instances_train_single.json` (one class, `circle`... every instance relabelled to one category).
 */
export async function makeTinyData(dir: string, numTrain = 6, numVal = 3): Promise<string> {
  await makeShapesDataset({ out: dir, numTrain, numVal, imageSize: [64, 48], varySize: false, seed: 7, maxObjects: 3 });
  const ann = JSON.parse(fs.readFileSync(path.join(dir, 'annotations', 'instances_train.json'), 'utf8')) as {
    images: Array<{ id: number }>;
    annotations: Array<{ image_id: number; category_id: number; id: number }>;
    categories: Array<{ id: number; name: string }>;
  };
  const emptyIds = new Set(ann.images.slice(0, 2).map((i) => i.id));
  fs.writeFileSync(path.join(dir, 'annotations', 'instances_train_empty.json'), JSON.stringify({ ...ann, annotations: ann.annotations.filter((a) => !emptyIds.has(a.image_id)) }));
  fs.writeFileSync(
    path.join(dir, 'annotations', 'instances_train_single.json'),
    JSON.stringify({ ...ann, annotations: ann.annotations.map((a) => ({ ...a, category_id: 1 })), categories: [{ id: 1, name: 'shape' }] }),
  );
  return dir;
}

/** `--cfg-options` that point the tiny config at a dataset root. */
export function dataOptions(root: string): string[] {
  const r = root.endsWith('/') ? root : `${root}/`;
  return [
    `train_dataloader.dataset.data_root=${r}`,
    `val_dataloader.dataset.data_root=${r}`,
    `test_dataloader.dataset.data_root=${r}`,
    `val_evaluator.ann_file=${path.join(r, 'annotations', 'instances_val.json')}`,
    `test_evaluator.ann_file=${path.join(r, 'annotations', 'instances_val.json')}`,
  ];
}

/** Start `solo ARGS` from the TypeScript sources in a child process (no build needed). */
export function spawnSolo(args: string[]): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, 'test', 'cli', 'solo-source.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, SOLO_DEBUG: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  return Object.assign(child, { output: () => out });
}

/** Wait for a child to exit; resolves with its exit code and signal. */
export function exited(child: ChildProcess, timeoutMs = 120_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('child process timed out'));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

/** Poll until `cond()` holds (or time out). */
export async function waitFor(cond: () => boolean, timeoutMs = 120_000, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Per-iteration losses of a work dir's runs (all timestamps), by global iteration. */
export function iterationLosses(workDir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of fs.readdirSync(workDir).sort()) {
    const f = path.join(workDir, d, 'vis_data', 'scalars.json');
    if (!fs.existsSync(f)) continue;
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { iter?: number; loss?: number };
      if (typeof r.loss === 'number' && typeof r.iter === 'number') out.set(r.iter, r.loss);
    }
  }
  return out;
}
