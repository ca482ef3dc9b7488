// SPDX-License-Identifier: Apache-2.0
// The rules that keep the package map (layers.json) must be able to fail: ESLint's import rules on made-up files at
// real paths, and the import extraction of scripts/check-deps.ts.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { importsOf, packageOf } from '../../scripts/check-deps.js';

const eslint = new ESLint({ cwd: resolve(dirname(fileURLToPath(import.meta.url)), '..', '..') });

/** The rule ids ESLint reports for `code` as if it were the file at `filePath` (relative to the repository). */
async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((m) => `${m.line}:${m.ruleId ?? m.message}`);
}

describe('eslint import rules (layers.json)', () => {
  it('a component may import core and ops, not a sibling, a package above it or itself by name', async () => {
    const code = [
      "import { Module } from '@solo-ts/core';",
      "import { Conv2d } from '@solo-ts/ops';",
      "import type { DiceLoss } from '@solo-ts/losses';",
      "import { Runner } from '@solo-ts/engine';",
      "export { SOLOHead } from '@solo-ts/heads';",
      'export const all = [Module, Conv2d, Runner] as unknown as DiceLoss[];',
    ].join('\n');
    expect(await lint('packages/heads/src/example.ts', code)).toEqual(['3:no-restricted-imports', '4:no-restricted-imports', '5:no-restricted-imports']);
  });

  it('no deep imports into a package, no relative path into another package', async () => {
    const code = [
      "import { a } from '@solo-ts/ops/src/nn/conv2d.js';",
      "import { b } from '@solo-ts/core/dist/index.js';",
      "import { c } from '../../ops/src/nn/conv2d.js';",
      "import { d } from './solo-head.js';",
      'export const all = [a, b, c, d];',
    ].join('\n');
    expect(await lint('packages/heads/src/example.ts', code)).toEqual(['1:no-restricted-imports', '2:no-restricted-imports', '3:solo/no-relative-escape']);
    expect(await lint('test/example.test.ts', "export { main } from '../packages/cli/src/main.js';")).toEqual(['1:solo/no-relative-escape']);
  });

  it('tests may import packages beside or below theirs and the test helpers, not a package above', async () => {
    const code = [
      "import { setupTestBackend } from '@solo-ts/testing';",
      "import { DiceLoss } from '@solo-ts/losses';",
      "import { readNpy } from '../../../test/helpers/npy.js';",
      "import { buildDetector } from '@solo-ts/apis';",
      'export const all = [setupTestBackend, DiceLoss, readNpy, buildDetector];',
    ].join('\n');
    expect(await lint('packages/heads/src/example.test.ts', code)).toEqual(['4:no-restricted-imports']);
  });

  it('no `any` and no `export *` in a converted package', async () => {
    expect(await lint('packages/heads/src/example.ts', "export * from './solo-head.js';\nexport const f = (a: any) => a;")).toEqual([
      '1:no-restricted-syntax',
      '2:@typescript-eslint/no-explicit-any',
    ]);
  });

  it('applies to a package of the table that has no directory yet', async () => {
    expect(await lint('packages/backends/src/example.ts', "export { Runner } from '@solo-ts/engine';\nexport { Conv2d } from '@solo-ts/ops';")).toEqual([
      '1:no-restricted-imports',
    ]);
  });
});

describe('check-deps import extraction', () => {
  it('maps specifiers to package names and skips relative paths and Node builtins', () => {
    expect(['@solo-ts/core', '@tensorflow/tfjs-core/dist/x.js', 'yaml', 'tsx/esm/api', './a.js', '../b.js', 'node:fs', 'fs', 'path/posix'].map(packageOf)).toEqual([
      '@solo-ts/core',
      '@tensorflow/tfjs-core',
      'yaml',
      'tsx',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('finds static, type-only, re-exported, dynamic and resolved imports, not comments or strings', () => {
    const text = [
      '// import { x } from "in-a-comment";',
      "import { a } from 'static';",
      "import type { B } from 'type-only';",
      "export { c } from 're-exported';",
      "const d = await import('dynamic');",
      "let e: import('import-type').E;",
      "const f = require.resolve('resolved/package.json');",
      "vi.mock('mocked');",
      "const g = 'just-a-string';",
    ].join('\n');
    expect(importsOf('example.ts', text)).toEqual([
      { spec: 'static', line: 2 },
      { spec: 'type-only', line: 3 },
      { spec: 're-exported', line: 4 },
      { spec: 'dynamic', line: 5 },
      { spec: 'import-type', line: 6 },
      { spec: 'resolved/package.json', line: 7 },
      { spec: 'mocked', line: 8 },
    ]);
  });
});
