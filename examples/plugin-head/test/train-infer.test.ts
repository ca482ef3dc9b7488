// SPDX-License-Identifier: Apache-2.0
/**
 * End to end through the `solo` command, as a user of this plugin would run it: make a tiny shapes dataset,
 * train `configs/solov2-boundary_shapes.yaml` (the shipped demo config with this plugin's head) for one short
 * epoch, then `solo infer` with the checkpoint, writing results and a picture.
 *
 * The CLI imports the plugin by the path of its built entry (dist/index.js: `npm test` builds first); installed
 * from npm, the config's `custom_imports: [@acme/solo-plugin-head]` finds the package by name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HERE = dirname(new URL(import.meta.url).pathname);
const PLUGIN_ROOT = resolve(HERE, '..');
const ENTRY = join(PLUGIN_ROOT, 'dist', 'index.js');
const SOLO = join(dirname(createRequire(import.meta.url).resolve('@solo-ts/cli/package.json')), 'bin', 'solo.js');

let dir: string;

function solo(args: string[], timeoutMs = 240_000): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SOLO, ...args], { cwd: dir, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

beforeAll(() => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: build the plugin first (npm run build)`);
  dir = mkdtempSync(join(tmpdir(), 'acme-plugin-'));
  // A user config on top of the plugin's: the plugin by path, a few small images, one short epoch.
  writeFileSync(
    join(dir, 'boundary_tiny.yaml'),
    [
      `_base_: ${JSON.stringify(join(PLUGIN_ROOT, 'configs', 'solov2-boundary_shapes.yaml'))}`,
      `custom_imports: {imports: [${JSON.stringify(ENTRY)}], allow_failed_imports: false}`,
      'train_dataloader: {batch_size: 4, num_workers: 0, persistent_workers: false}',
      'val_dataloader: {batch_size: 2, num_workers: 0, persistent_workers: false}',
      'test_dataloader: {batch_size: 2, num_workers: 0, persistent_workers: false}',
      'train_cfg: {max_epochs: 1, val_interval: 1}',
      'default_hooks: {checkpoint: {type: CheckpointHook, interval: 1}, logger: {type: LoggerHook, interval: 1}}',
      'randomness: {seed: 0}',
      '',
    ].join('\n'),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('solo train + solo infer with acme.SOLOV2BoundaryHead', () => {
  it('makes a tiny dataset', () => {
    const r = solo(['make-shapes', '--out', 'data/shapes', '--num-train', '8', '--num-val', '2', '--size', '160x120', '--seed', '1', '--quiet']);
    expect(r.status, r.out).toBe(0);
    expect(existsSync(join(dir, 'data/shapes/annotations/instances_train.json'))).toBe(true);
  });

  it('trains the plugin head for one epoch (2 iterations) and saves a checkpoint', () => {
    const r = solo(['train', 'boundary_tiny.yaml', '--work-dir', 'work']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/loss_mask/);
    expect(existsSync(join(dir, 'work', 'last_checkpoint')), r.out).toBe(true);
  });

  it('runs solo infer with the trained checkpoint: results and a picture', () => {
    const ckpt = readFileSync(join(dir, 'work', 'last_checkpoint'), 'utf8').trim();
    const val = JSON.parse(readFileSync(join(dir, 'data/shapes/annotations/instances_val.json'), 'utf8')) as { images: Array<{ file_name: string }> };
    const image = join('data/shapes/val', val.images[0].file_name);
    const r = solo(['infer', 'boundary_tiny.yaml', '--checkpoint', resolve(dir, 'work', ckpt), '--image', image, '--out', 'res.json', '--show', 'vis.png']);
    expect(r.status, r.out).toBe(0);
    const png = readFileSync(join(dir, 'vis.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(existsSync(join(dir, 'res.json'))).toBe(true);
    JSON.parse(readFileSync(join(dir, 'res.json'), 'utf8'));
  });
});
