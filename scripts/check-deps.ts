// SPDX-License-Identifier: Apache-2.0
/**
 * Every package declares exactly what it imports: `npx tsx scripts/check-deps.ts` (part of `npm run check`).
 *
 * For each workspace package (packages/*), each example (examples/*) and the repository root:
 * - the bare specifiers its library code imports (src/ without tests, bin/) are exactly its `dependencies` +
 *   `peerDependencies`: an undeclared import fails, and so does a declared package that nothing imports, except a
 *   peer that one of its @solo-ts dependencies requires (tfjs-core: npm asks the consumer for it) and an optional
 *   peer (loaded by a computed name, as the native tfjs backends);
 * - what its tests and `__fixtures__` import is covered by `dependencies` + `peerDependencies` +
 *   `devDependencies`, and a devDependency that neither they import (a config's `_base_: '@solo-ts/configs::...'`
 *   uses @solo-ts/config) nor an npm script runs fails;
 * - @solo-ts dependencies follow layers.json (the package map the lint rule reads too): `dependencies` and
 *   `peerDependencies` only name packages the table lets the package import, tests and fixtures import no package
 *   above theirs, and workspace packages are required at their exact version;
 * - the table itself names every workspace package, and its `imports` are acyclic.
 * The root's test/, tools/, scripts/, config files and the packages' scripts/ (benchmarks and fixture makers, not
 * published, run from the root with `npx tsx --conditions source`) count as the root's dev code. Static imports, `export ... from`,
 * `import type`, `import('x')` (expressions and types), `require('x')`, `require.resolve('x')` and `vi.mock('x')`
 * count; `node:` and other Node builtins do not.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { above, readLayers } from './layers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCOPE = '@solo-ts/';

interface Manifest {
  name: string;
  version?: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  /** Installed where they can be (a failed install is skipped): imports of them must cope with their absence. */
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}
interface Use {
  spec: string;
  file: string;
  line: number;
}
interface Unit {
  dir: string;
  manifest: Manifest;
  /** The name in layers.json (workspace packages only). */
  layer?: string;
  lib: Use[];
  dev: Use[];
}

const rel = (p: string): string => path.relative(ROOT, p) || '.';
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]]));

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`; undefined for relative, absolute and builtin specifiers. */
export function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || /^[a-z]+:/i.test(spec)) return undefined;
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return BUILTINS.has(name) ? undefined : name;
}

/** The module specifiers a source file refers to, with their lines. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): { spec: string; line: number }[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const out: { spec: string; line: number }[] = [];
  const add = (node: ts.Node | undefined): void => {
    if (node && ts.isStringLiteralLike(node)) out.push({ spec: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const isRequireLike = (e: ts.Expression): boolean =>
    (ts.isIdentifier(e) && /require/i.test(e.text)) ||
    (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'createRequire' && /import\.meta\.url/.test(e.arguments[0]?.getText() ?? ''));
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const first = node.arguments[0];
      if (callee.kind === ts.SyntaxKind.ImportKeyword) add(first);
      else if (ts.isIdentifier(callee) && callee.text === 'require') add(first);
      else if (ts.isPropertyAccessExpression(callee)) {
        const method = callee.name.text;
        if (method === 'resolve' && isRequireLike(callee.expression)) add(first);
        if (/^(mock|doMock|importActual|importMock)$/.test(method) && ts.isIdentifier(callee.expression) && callee.expression.text === 'vi') add(first);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const isDevFile = (file: string): boolean => /\.test\.[cm]?[jt]s$/.test(file) || /(^|[/\\])(__fixtures__|test)[/\\]/.test(file);

function uses(files: string[]): Use[] {
  return files.flatMap((file) =>
    importsOf(file).flatMap(({ spec, line }) => {
      const name = packageOf(spec);
      return name ? [{ spec: name, file, line }] : [];
    }),
  );
}

/** `_base_: '@solo-ts/configs::...'` in a config file uses the configs shipped in @solo-ts/config. */
function configUses(dir: string): Use[] {
  const out: Use[] = [];
  const files = (d: string): string[] =>
    existsSync(d) ? readdirSync(d).flatMap((e) => (statSync(path.join(d, e)).isDirectory() ? files(path.join(d, e)) : [path.join(d, e)])) : [];
  for (const file of files(path.join(dir, 'configs')).filter((f) => /\.(ya?ml|py|json)$/.test(f))) {
    readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
      if (text.includes('@solo-ts/configs::')) out.push({ spec: '@solo-ts/config', file, line: i + 1 });
    });
  }
  return out;
}

function loadUnit(dir: string, layer?: string): Unit {
  const manifest = readJson<Manifest>(path.join(dir, 'package.json'));
  const files = ['src', 'bin', 'test', '__fixtures__'].flatMap((d) => walk(path.join(dir, d)));
  for (const f of readdirSync(dir)) if (/\.config\.[cm]?[jt]s$/.test(f)) files.push(path.join(dir, f));
  const lib = files.filter((f) => !isDevFile(path.relative(dir, f)) && !/\.config\.[cm]?[jt]s$/.test(f));
  return { dir, manifest, layer, lib: uses(lib), dev: [...uses(files.filter((f) => !lib.includes(f))), ...configUses(dir)] };
}

function loadRoot(): Unit {
  const manifest = readJson<Manifest>(path.join(ROOT, 'package.json'));
  const files = ['test', 'tools', 'scripts'].flatMap((d) => walk(path.join(ROOT, d)));
  for (const d of readdirSync(path.join(ROOT, 'packages'))) files.push(...walk(path.join(ROOT, 'packages', d, 'scripts')));
  for (const f of readdirSync(ROOT)) if (/\.config\.[cm]?[jt]s$/.test(f)) files.push(path.join(ROOT, f));
  return { dir: ROOT, manifest, lib: [], dev: uses(files) };
}

/** The executables of an installed package (to tell whether an npm script runs a devDependency). */
function binsOf(name: string, dir: string): string[] {
  for (const base of [dir, ROOT]) {
    const file = path.join(base, 'node_modules', name, 'package.json');
    if (!existsSync(file)) continue;
    const bin = readJson<{ bin?: string | Record<string, string> }>(file).bin;
    return typeof bin === 'string' ? [name.split('/').pop()!] : Object.keys(bin ?? {});
  }
  return [];
}


export function check(): string[] {
  const problems: string[] = [];
  const layers = readLayers(ROOT);

  // the table: known names, no cycles, test-only packages imported by tests only
  for (const [name, { imports }] of Object.entries(layers)) {
    for (const q of imports) if (!layers[q]) problems.push(`layers.json: "${name}" imports "${q}", which is not in the table`);
    if (above(layers, name).has(name)) problems.push(`layers.json: "${name}" is part of an import cycle`);
    for (const q of imports) if (layers[q]?.testOnly) problems.push(`layers.json: "${name}" imports the test-only package "${q}"`);
  }

  const pkgDirs = readdirSync(path.join(ROOT, 'packages'))
    .map((d) => path.join(ROOT, 'packages', d))
    .filter((d) => existsSync(path.join(d, 'package.json')));
  const workspace = new Map<string, string>(); // name -> version
  const manifests = new Map<string, Manifest>();
  const units: Unit[] = [];
  for (const dir of pkgDirs) {
    const short = path.basename(dir);
    const unit = loadUnit(dir, short);
    workspace.set(unit.manifest.name, unit.manifest.version ?? '');
    manifests.set(unit.manifest.name, unit.manifest);
    if (unit.manifest.name !== SCOPE + short) problems.push(`${rel(dir)}/package.json: name "${unit.manifest.name}", expected "${SCOPE}${short}"`);
    if (!layers[short]) problems.push(`layers.json: add the package "${short}" (${rel(dir)}) with what it may import`);
    units.push(unit);
  }
  const examples = path.join(ROOT, 'examples');
  if (existsSync(examples)) {
    for (const d of readdirSync(examples)) if (existsSync(path.join(examples, d, 'package.json'))) units.push(loadUnit(path.join(examples, d)));
  }
  units.push(loadRoot());

  // the version to suggest for a missing declaration: the workspace's, else the one most used in the repository
  const versions = new Map<string, Map<string, number>>();
  for (const { manifest: m } of units) {
    for (const deps of [m.dependencies, m.optionalDependencies, m.peerDependencies, m.devDependencies]) {
      for (const [n, v] of Object.entries(deps ?? {})) {
        const counts = versions.get(n) ?? new Map<string, number>();
        counts.set(v, (counts.get(v) ?? 0) + 1);
        versions.set(n, counts);
      }
    }
  }
  const suggest = (name: string): string => {
    const v = workspace.get(name) ?? [...(versions.get(name) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1])[0]?.[0];
    return v ? `"${name}": "${v}"` : `"${name}"`;
  };

  for (const unit of units) {
    const m = unit.manifest;
    const where = `${m.name} (${rel(path.join(unit.dir, 'package.json'))})`;
    const out: string[] = [];
    const deps = new Set(Object.keys({ ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies }));
    const dev = new Set(Object.keys(m.devDependencies ?? {}));
    const self = m.name;
    const first = (list: Use[]): Map<string, Use> => {
      const byName = new Map<string, Use>();
      for (const u of list) if (!byName.has(u.spec)) byName.set(u.spec, u);
      return byName;
    };
    const lib = first(unit.lib);
    const devUses = first(unit.dev);
    const at = (u: Use): string => `${rel(u.file)}:${u.line}`;

    for (const [name, u] of lib) {
      if (name === self) continue; // a self-import by name; the lint rule forbids it in library code
      if (!deps.has(name)) out.push(`${at(u)}: imports "${name}", which is not declared: add ${suggest(name)} to dependencies (or peerDependencies)`);
    }
    // peers that a workspace dependency requires of its consumers
    const passedOn = new Set(Object.keys(m.dependencies ?? {}).flatMap((d) => Object.keys(manifests.get(d)?.peerDependencies ?? {})));
    for (const name of deps) {
      const peer = m.peerDependencies?.[name] !== undefined && !m.dependencies?.[name];
      const justifiedPeer = peer && (m.peerDependenciesMeta?.[name]?.optional || passedOn.has(name));
      if (!lib.has(name) && !justifiedPeer) {
        const onlyDev = devUses.has(name) ? ' (only its tests use it: move it to devDependencies)' : '';
        out.push(`"${name}" is declared in ${m.dependencies?.[name] ? 'dependencies' : m.optionalDependencies?.[name] ? 'optionalDependencies' : 'peerDependencies'} but its library code does not import it: remove it${onlyDev}`);
      }
    }
    for (const [name, u] of devUses) {
      if (name !== self && !deps.has(name) && !dev.has(name)) out.push(`${at(u)}: imports "${name}", which is not declared: add ${suggest(name)} to devDependencies`);
    }
    const scripts = Object.values(m.scripts ?? {}).join('\n');
    for (const name of dev) {
      if (m.dependencies?.[name]) out.push(`"${name}" is in devDependencies and in dependencies: keep one`);
      else if (m.peerDependencies?.[name]) continue; // a peer installed for the package's own tests
      else if (devUses.has(name)) continue;
      else if (name.startsWith('@types/')) continue; // types of a package or of Node, not imported by name
      else if (binsOf(name, unit.dir).some((b) => new RegExp(`(^|[\\s&|;(])(npx )?${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`, 'm').test(scripts))) continue;
      else out.push(`"${name}" is in devDependencies but no test, script or npm script uses it: remove it`);
    }

    // workspace packages: exact versions, and the layering of layers.json
    for (const [field, list] of [['dependencies', m.dependencies], ['peerDependencies', m.peerDependencies], ['devDependencies', m.devDependencies]] as const) {
      for (const [name, v] of Object.entries(list ?? {})) {
        const wv = workspace.get(name);
        if (wv !== undefined && v !== wv) out.push(`${field}: "${name}": "${v}" should be the workspace version "${wv}"`);
      }
    }
    if (unit.layer && layers[unit.layer]) {
      const allowed = new Set(layers[unit.layer].imports.map((n) => SCOPE + n));
      const up = above(layers, unit.layer);
      for (const name of deps) {
        if (name.startsWith(SCOPE) && !allowed.has(name)) {
          out.push(`"${name}" in dependencies goes against layers.json: @solo-ts/${unit.layer} may import ${[...allowed].join(', ') || 'no @solo-ts package'}`);
        }
      }
      for (const u of unit.dev) {
        const short = u.spec.slice(SCOPE.length);
        if (u.spec.startsWith(SCOPE) && up.has(short) && !layers[short]?.testOnly) {
          out.push(`${at(u)}: a test of @solo-ts/${unit.layer} imports "${u.spec}", which is above it in layers.json`);
        }
      }
    }
    if (out.length) problems.push(`${where}:\n${out.map((s) => `  ${s}`).join('\n')}`);
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = check();
  if (problems.length) {
    console.error(`check-deps: package.json files do not match the imports (${problems.length} package(s) or table entries):\n`);
    console.error(problems.join('\n'));
    process.exitCode = 1;
  } else {
    console.log('check-deps: every package declares exactly what it imports, as layers.json allows');
  }
}
