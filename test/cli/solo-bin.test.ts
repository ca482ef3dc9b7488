// SPDX-License-Identifier: Apache-2.0
// The built `solo` bin (plain Node, dist/): what `npx solo` runs. `npm test` builds first; when dist/ is
// missing (a fresh checkout running vitest alone) the CLI and its dependencies are built here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, soloBin } from './helpers.js';

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js'))) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/cli'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
  }
}, 600_000);

describe('bin/solo.js', () => {
  it('is the bin of the root package and of @solo-ts/cli, with a node shebang', () => {
    const root = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const cli = JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(root.bin.solo).toBe('packages/cli/bin/solo.js');
    expect(cli.bin.solo).toBe('./bin/solo.js');
    expect(readFileSync(path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'solo.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('--help exits 0', () => {
    const r = soloBin(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('print-config');
  });

  it('print-config runs and finds the shipped configs from dist/', () => {
    const r = soloBin(['print-config', '--json', 'packages/config/src/__fixtures__/shipped/uses_shipped.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).train_dataloader.dataset.type).toBe('CocoDataset');
  });

  it('user errors exit 1 without a stack, usage errors exit 2', () => {
    const r = soloBin(['print-config', 'packages/config/src/__fixtures__/errors/unknown_key.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*unknown_key\.yaml:5:1/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(soloBin(['--bogus']).code).toBe(2);
  });
});
