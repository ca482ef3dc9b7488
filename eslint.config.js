// SPDX-License-Identifier: Apache-2.0
// ESLint flat config. The import rules come from the package map in layers.json (the one table, also read by
// scripts/check-deps.ts): for each workspace package, ESLint's own `no-restricted-imports` gets the @solo-ts/* names the
// package may not import (the wrong direction, or a sibling component) and the deep imports it may not make
// (`@solo-ts/x/src/...`, `@solo-ts/x/dist/...`). These rules match import specifiers, so they need no module resolution
// and no build, and a package listed in the table but not (yet) on disk costs nothing. Relative paths that leave their
// package are caught by `solo/no-relative-escape` below.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { above as dependentsOf, readLayers } from './scripts/layers.mjs';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const LAYERS = { packages: readLayers(ROOT) };
const NAMES = Object.keys(LAYERS.packages);
const TEST_FILES = ['**/*.test.ts', '**/__fixtures__/**/*.ts'];
// A package's scripts/ (benchmarks, run from the repository root) may use any package by its name, like the root's.
const PACKAGE_SCRIPTS = 'packages/*/scripts/**';

/** Packages that may import `name`, directly or through others (its dependents by the table). */
const above = (name) => dependentsOf(LAYERS.packages, name);

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const DEEP = {
  regex: '^@solo-ts/[^/]+/(?!package\\.json$)',
  message: 'Import the package entry (@solo-ts/<name>), not its internals; export what you need from its index.ts.',
};

/** `no-restricted-imports` forbidding deep imports, every @solo-ts package outside `allowed` and, if given, `self`. */
function restrict(allowed, why, self) {
  const skip = self ? [...allowed, self] : allowed;
  const ok = skip.length ? `(?!(${skip.map(escape).join('|')})(/|$))` : '';
  const patterns = [DEEP, { regex: `^@solo-ts/${ok}[^/]+`, message: why }];
  if (self) {
    patterns.push({ regex: `^@solo-ts/${escape(self)}(/|$)`, message: 'A package imports its own modules by relative path, not by its name.' });
  }
  return ['error', { patterns }];
}

const list = (xs) => (xs.length ? xs.map((x) => `@solo-ts/${x}`).join(', ') : 'no @solo-ts package');


const layering = NAMES.flatMap((name) => {
  const { imports } = LAYERS.packages[name];
  const up = above(name);
  const testMay = NAMES.filter((n) => n === name || !up.has(n) || LAYERS.packages[n].testOnly);
  return [
    {
      name: `solo/layers/${name}`,
      files: [`packages/${name}/**/*.ts`],
      ignores: [...TEST_FILES, PACKAGE_SCRIPTS],
      rules: {
        'no-restricted-imports': restrict(
          imports,
          `@solo-ts/${name} may import ${list(imports)} (layers.json): this import goes the wrong way or across components.`,
          name,
        ),
      },
    },
    {
      name: `solo/layers/${name}/tests`,
      files: TEST_FILES.map((g) => `packages/${name}/${g}`),
      rules: {
        'no-restricted-imports': restrict(testMay, `Tests of @solo-ts/${name} may not import a package above it (layers.json).`),
      },
    },
  ];
});

/** The directory an import may not leave: its package (packages/x, examples/x), else the repository root. */
function unitOf(file) {
  const rel = path.relative(ROOT, file).split(path.sep);
  return (rel[0] === 'packages' || rel[0] === 'examples') && rel.length > 2 ? path.join(ROOT, rel[0], rel[1]) : ROOT;
}
const inside = (p, dir) => p === dir || p.startsWith(dir + path.sep);

const noRelativeEscape = {
  meta: {
    type: 'problem',
    docs: { description: 'A relative import stays inside its package (tests may also use the repository\'s test/helpers).' },
    schema: [],
    messages: {
      escape: "'{{spec}}' reaches from {{from}} into {{to}}: import a package by its name (@solo-ts/<name>), never by path.",
    },
  },
  create(context) {
    const file = context.physicalFilename;
    const unit = unitOf(file);
    const isTest = /\.test\.ts$|[/\\]__fixtures__[/\\]/.test(file);
    const helpers = path.join(ROOT, 'test', 'helpers');
    const check = (source) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source.value);
      if (unit === ROOT) {
        if (!inside(target, path.join(ROOT, 'packages')) && !inside(target, path.join(ROOT, 'examples'))) return;
      } else if (inside(target, unit) || (isTest && inside(target, helpers))) return;
      const where = (p) => path.relative(ROOT, p) || 'the repository root';
      context.report({ node: source, messageId: 'escape', data: { spec: source.value, from: where(unit), to: where(unitOf(target)) } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    };
  },
};

export default defineConfig(
  globalIgnores(['**/dist/**', '**/node_modules/**', 'work_dirs/**', 'coverage/**', '**/*.d.ts']),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    plugins: { solo: { rules: { 'no-relative-escape': noRelativeEscape } } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'solo/no-relative-escape': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `training ? m.train() : m.eval()` and `a && f()` are statements here
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // the registry hands itself to build contexts under this name
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['registry'] }],
      'no-regex-spaces': 'off',
      // everything outside packages/: only the public entries of the packages
      'no-restricted-imports': ['error', { patterns: [DEEP] }],
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration[exported=null]', message: 'List the exports by name: `export { a, type B } from ...` (the public API stays explicit).' },
      ],
    },
  },
  {
    files: [...TEST_FILES, 'test/**/*.ts'],
    rules: { 'no-control-regex': 'off' }, // tests match terminal escapes (progress bars)
  },
  ...layering,
);
