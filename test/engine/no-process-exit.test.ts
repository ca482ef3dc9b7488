// SPDX-License-Identifier: Apache-2.0
/**
 * Library code never ends the process: errors are thrown (typed SoloErrors) or exit codes returned, and only the
 * CLI entry (packages/cli/src/main.ts, bin/) maps them to the process exit code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

function sources(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ts$/.test(f) && !/\.test\.ts$/.test(f)).map((f) => path.join(dir, f));
}

describe('library code', () => {
  it('never calls process.exit (only the CLI entry point may)', () => {
    const offenders: string[] = [];
    const packages = path.join(REPO_ROOT, 'packages');
    for (const pkg of fs.readdirSync(packages)) {
      const src = path.join(packages, pkg, 'src');
      if (!fs.existsSync(src)) continue;
      for (const file of sources(src)) {
        const rel = path.relative(REPO_ROOT, file);
        if (rel === path.join('packages', 'cli', 'src', 'main.ts')) continue;
        fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
          if (/\bprocess\.exit\s*\(/.test(line.replace(/\/\/.*$/, ''))) offenders.push(`${rel}:${i + 1}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});
