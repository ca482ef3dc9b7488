// SPDX-License-Identifier: Apache-2.0
/**
 * Static checks of every package manifest (fast; the tarball end-to-end test is pack.test.ts):
 * exports (types + import + the development-only `source` condition), files, one version for all (lerna fixed
 * mode), internal dependencies pinned to it, tfjs-core as a peer, the native backends as optional peers, and
 * every bare import of the sources declared as a dependency or peer.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const lerna = JSON.parse(readFileSync(join(ROOT, 'lerna.json'), 'utf8')) as { version: string };
const dirs = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));

interface Manifest {
  name: string;
  version: string;
  type?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports: Record<string, Record<string, string> | string>;
  files: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  publishConfig?: { access?: string };
  license?: string;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) {
      if (f !== '__fixtures__') sources(p, out);
    } else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Package names imported (statically, or by dynamic import of a string literal) by the non-test sources. */
function importedPackages(dir: string): Map<string, string> {
  const used = new Map<string, string>();
  for (const f of sources(join(ROOT, 'packages', dir, 'src'))) {
    const text = readFileSync(f, 'utf8');
    const re = /^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (const m of text.matchAll(re)) {
      const s = m[1] ?? m[2] ?? m[3];
      if (s.startsWith('.') || s.startsWith('node:') || builtinModules.includes(s.split('/')[0])) continue;
      const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0];
      if (!used.has(name)) used.set(name, f.slice(ROOT.length + 1));
    }
  }
  return used;
}

const TFJS_CORE = '@tensorflow/tfjs-core';
const NATIVE_BACKENDS = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

describe.each(dirs)('packages/%s/package.json', (dir) => {
  const m = manifest(dir);

  it('is an ESM package at the release version, public, Apache-2.0', () => {
    expect(m.name).toBe(`@solo-ts/${dir}`);
    expect(m.version).toBe(lerna.version);
    expect(m.type).toBe('module');
    expect(m.license).toBe('Apache-2.0');
    expect(m.publishConfig?.access).toBe('public');
    for (const f of ['README.md', 'LICENSE', 'src/index.ts', 'tsconfig.json']) expect(existsSync(join(ROOT, 'packages', dir, f)), f).toBe(true);
  });

  it('exports types + import for plain consumers, `source` only as a development condition', () => {
    const dot = m.exports['.'] as Record<string, string>;
    expect(Object.keys(dot)).toEqual(['source', 'types', 'import', 'default']);
    expect(dot.source).toBe('./src/index.ts');
    expect(dot.types).toBe('./dist/index.d.ts');
    expect(dot.import).toBe('./dist/index.js');
    expect(m.main).toBe('./dist/index.js');
    expect(m.types).toBe('./dist/index.d.ts');
    for (const [sub, target] of Object.entries(m.exports)) {
      if (typeof target === 'string') continue;
      expect(target.types, `${sub} types`).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(target.import, `${sub} import`).toMatch(/^\.\/dist\/.*\.js$/);
      expect(existsSync(join(ROOT, 'packages', dir, target.source)), `${sub} source ${target.source}`).toBe(true);
    }
  });

  it('ships dist, sources, README and LICENSE, without tests, fixtures or build info', () => {
    for (const f of ['dist', 'src', 'README.md', 'LICENSE', '!src/**/*.test.ts', '!src/**/__fixtures__', '!dist/**/*.test.*', '!**/*.tsbuildinfo']) expect(m.files).toContain(f);
    if (m.bin) for (const b of Object.values(m.bin)) expect(m.files.some((f) => b.replace(/^\.\//, '').startsWith(f))).toBe(true);
  });

  it('pins internal dependencies to the release version and keeps tfjs-core a peer', () => {
    for (const [name, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
      if (name.startsWith('@solo-ts/')) expect(range, name).toBe(lerna.version);
    }
    expect(Object.keys(m.dependencies ?? {})).not.toContain(TFJS_CORE);
    for (const b of NATIVE_BACKENDS) {
      expect(Object.keys(m.dependencies ?? {})).not.toContain(b);
      if (m.peerDependencies?.[b]) expect(m.peerDependenciesMeta?.[b]?.optional, `${b} must be an optional peer`).toBe(true);
    }
  });

  it('declares every package its sources import (dependency or peer)', () => {
    const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys((m as { optionalDependencies?: Record<string, string> }).optionalDependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    const used = importedPackages(dir);
    const missing = [...used].filter(([n]) => !declared.has(n) && n !== m.name).map(([n, f]) => `${n} (imported by ${f})`);
    expect(missing).toEqual([]);
    if (used.has(TFJS_CORE) || m.dependencies?.['@solo-ts/core']) expect(m.peerDependencies?.[TFJS_CORE], 'tfjs-core peer').toBeDefined();
  });
});

describe('backends and cli', () => {
  it.each(['backends', 'cli'])('%s offers the native TensorFlow backends as optional peers', (dir) => {
    const m = manifest(dir);
    for (const b of NATIVE_BACKENDS) {
      expect(m.peerDependencies?.[b], b).toBeDefined();
      expect(m.peerDependenciesMeta?.[b]?.optional, b).toBe(true);
    }
  });
});

describe('lerna.json', () => {
  it('versions every package together (fixed mode)', () => {
    expect(lerna.version).toMatch(/^\d+\.\d+\.\d+/);
    const l = JSON.parse(readFileSync(join(ROOT, 'lerna.json'), 'utf8')) as { packages: string[] };
    expect(l.packages).toEqual(['packages/*']);
  });
});

describe('examples/plugin-head (a third-party package)', () => {
  const p = JSON.parse(readFileSync(join(ROOT, 'examples', 'plugin-head', 'package.json'), 'utf8')) as Manifest;
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };

  it('is not a workspace and depends on the published @solo-ts packages of the current release by version', () => {
    expect(root.workspaces.some((w) => w.startsWith('examples'))).toBe(false);
    const deps = { ...p.dependencies, ...p.devDependencies, ...p.peerDependencies };
    const solo = Object.entries(deps).filter(([n]) => n.startsWith('@solo-ts/'));
    expect(solo.length).toBeGreaterThan(0);
    for (const [n, range] of solo) expect(range, `${n} (bump the example with each release)`).toBe(lerna.version);
    expect(Object.keys(p.dependencies ?? {})).not.toContain(TFJS_CORE);
    expect(p.peerDependencies?.[TFJS_CORE]).toBeDefined();
  });

  it('exports built code only (no source condition) and ships its configs', () => {
    const dot = p.exports['.'] as Record<string, string>;
    expect(dot.source).toBeUndefined();
    expect(dot.import).toBe('./dist/index.js');
    expect(p.files).toContain('configs');
    expect(existsSync(join(ROOT, 'examples', 'plugin-head', 'configs', 'solov2-boundary_shapes.yaml'))).toBe(true);
  });
});
