// SPDX-License-Identifier: Apache-2.0
/** Spawning the `solo` CLI in end-to-end tests. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SoloRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(nodeArgs: string[], args: string[], env: Record<string, string> = {}): SoloRun {
  const r = spawnSync(process.execPath, [...nodeArgs, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, SOLO_DEBUG: '', NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `solo ...args` from the TypeScript sources (tsx, `source` export condition): needs no build. */
export function soloFromSource(args: string[], env?: Record<string, string>): SoloRun {
  return run(['--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, 'test', 'cli', 'solo-source.ts')], args, env);
}

/** `node packages/cli/bin/solo.js ...args`: the built CLI, as users run it. */
export function soloBin(args: string[], env?: Record<string, string>): SoloRun {
  return run([path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'solo.js')], args, env);
}
