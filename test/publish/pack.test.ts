// SPDX-License-Identifier: Apache-2.0
/**
 * Publishing end to end: `npm pack` every package (built dist/ + the shipped configs) and the plugin example,
 * install the tarballs into a fresh project outside the monorepo (third-party dependencies from the npm
 * registry, preferring the local cache), and use solo-ts there as a user would:
 *
 * - plain Node resolves every package to dist/ (the `source` condition is opt-in only), and every package imports;
 * - TypeScript (NodeNext) type-checks a consumer file against the published typings;
 * - `solo --help`, `solo print-config` of a shipped config and of the plugin's config (whose `_base_` is
 *   `@solo-ts/configs::demo/...`, i.e. the configs inside the installed @solo-ts/config);
 * - `solo make-shapes`, `solo train` (one tiny epoch) and `solo infer --show` with the plugin's head, the
 *   plugin found by its package name from `custom_imports`;
 * - the plugin example's own tests (contract suites, train + infer), compiled and run against the tarballs.
 *
 * Needs the packages built (`npm test` builds first). Slow (a few minutes); `SOLO_TS_SKIP_PACK=1` skips it
 * locally, `SOLO_TS_KEEP_PACK=1` keeps the temporary project for inspection.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples', 'plugin-head');
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));
const skip = process.env.SOLO_TS_SKIP_PACK === '1';

/** The environment of child processes: no npm lifecycle variables of an outer `npm test`, no config override. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package|command)|^npm_config_(workspace|workspaces|include_workspace_root|prefix|global)/i.test(k)) continue;
    if (k === 'SOLO_TS_CONFIGS' || k === 'INIT_CWD' || k === 'VITEST' || k.startsWith('VITEST_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  env.FORCE_COLOR = '0';
  env.NO_COLOR = '1';
  return env;
}

interface Run {
  status: number | null;
  out: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 240_000): Run {
  const r = spawnSync(cmd, args, { cwd, env: childEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${String(r.error)}` : ''}`;
  return { status: r.status, out };
}

function ok(cmd: string, args: string[], cwd: string, timeoutMs?: number): string {
  const r = run(cmd, args, cwd, timeoutMs);
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` (in ${cwd}) exited with ${r.status}:\n${r.out.slice(-6000)}`);
  return r.out;
}

let tmp = '';
let app = '';
let tarballs: Record<string, string> = {};
const timings: Record<string, number> = {};

function timed<T>(label: string, f: () => T): T {
  const t0 = Date.now();
  try {
    return f();
  } finally {
    timings[label] = (Date.now() - t0) / 1000;
  }
}

function solo(args: string[], timeoutMs?: number): Run {
  return run(process.execPath, [join(app, 'node_modules', '@solo-ts', 'cli', 'bin', 'solo.js'), ...args], app, timeoutMs);
}

describe.skipIf(skip)('packed tarballs in a fresh project', () => {
  beforeAll(() => {
    const unbuilt = PACKAGES.filter((d) => !existsSync(join(ROOT, 'packages', d, 'dist', 'index.js')));
    if (unbuilt.length) throw new Error(`packages without dist/ (${unbuilt.join(', ')}): run \`npm run build\` first (npm test does)`);
    tmp = mkdtempSync(join(tmpdir(), 'solo-ts-pack-'));
    const dest = join(tmp, 'tarballs');
    mkdirSync(dest);
    // Every workspace package (prepack of @solo-ts/config copies configs/ in), then the plugin (prepack: tsc).
    timed('npm pack (workspaces)', () => ok('npm', ['pack', '--workspaces', '--pack-destination', dest, '--loglevel=error'], ROOT));
    timed('npm pack (plugin)', () => ok('npm', ['pack', '--pack-destination', dest, '--loglevel=error'], EXAMPLE));
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    tarballs = Object.fromEntries(PACKAGES.map((d) => [`@solo-ts/${d}`, join(dest, `solo-ts-${d}-${version(join(ROOT, 'packages', d))}.tgz`)]));
    tarballs['@acme/solo-plugin-head'] = join(dest, `acme-solo-plugin-head-${version(EXAMPLE)}.tgz`);
    for (const [name, file] of Object.entries(tarballs)) if (!existsSync(file)) throw new Error(`npm pack did not write ${file} for ${name}`);

    app = join(tmp, 'app');
    mkdirSync(app);
    const installed = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'solo-ts-pack-check',
          private: true,
          type: 'module',
          dependencies: Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`])),
          devDependencies: { vitest: installed('vitest'), typescript: installed('typescript'), '@types/node': installed('@types/node') },
        },
        null,
        2,
      ),
    );
    timed('npm install', () => ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app, 280_000));
    // The tarballs ship src/ for the `source` condition, which only solo-ts's own vitest config requests. Make any
    // consumer that loads it fail loudly: everything below (Node, tsc, the CLI, vitest) must use dist/.
    for (const d of PACKAGES) {
      const f = join(app, 'node_modules', '@solo-ts', d, 'src', 'index.ts');
      writeFileSync(f, `throw new Error('@solo-ts/${d}: src/index.ts was loaded: a consumer resolved the development-only "source" export condition');\n${readFileSync(f, 'utf8')}`);
    }
  }, 420_000);

  afterAll(() => {
    console.log(`pack test timings (s): ${JSON.stringify(timings)}${process.env.SOLO_TS_KEEP_PACK === '1' ? ` (kept ${tmp})` : ''}`);
    if (tmp && process.env.SOLO_TS_KEEP_PACK !== '1') rmSync(tmp, { recursive: true, force: true });
  });

  it('packs every package with dist, sources and README/LICENSE; @solo-ts/config carries the shipped configs', () => {
    expect(Object.keys(tarballs).sort()).toEqual([...PACKAGES.map((d) => `@solo-ts/${d}`), '@acme/solo-plugin-head'].sort());
    const cfgDir = join(app, 'node_modules', '@solo-ts', 'config');
    expect(existsSync(join(cfgDir, 'configs', '_base_', 'default_runtime.yaml'))).toBe(true);
    expect(existsSync(join(cfgDir, 'configs', 'solov2', 'solov2_r50_fpn_1x_coco.yaml'))).toBe(true);
    expect(existsSync(join(cfgDir, 'configs', 'demo'))).toBe(true);
    for (const d of PACKAGES) {
      const dir = join(app, 'node_modules', '@solo-ts', d);
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'src/index.ts', 'README.md', 'LICENSE']) expect(existsSync(join(dir, f)), `@solo-ts/${d}/${f}`).toBe(true);
      expect(existsSync(join(dir, 'dist', '.tsbuildinfo')), `@solo-ts/${d} ships .tsbuildinfo`).toBe(false);
    }
    // the working tree is left as it was (postpack removed the copied configs)
    expect(existsSync(join(ROOT, 'packages', 'config', 'configs'))).toBe(false);
  }, 60_000);

  it('resolves to dist/ for plain Node (source only with --conditions=source) and imports every package', () => {
    const script = `for (const n of ${JSON.stringify(PACKAGES.map((d) => `@solo-ts/${d}`))}) { await import(n); } console.log(import.meta.resolve('@solo-ts/core'));`;
    const plain = ok(process.execPath, ['--input-type=module', '-e', script], app);
    expect(plain).toMatch(/node_modules\/@solo-ts\/core\/dist\/index\.js/);
    const dev = ok(process.execPath, ['--conditions=source', '--input-type=module', '-e', "console.log(import.meta.resolve('@solo-ts/core'))"], app);
    expect(dev).toMatch(/node_modules\/@solo-ts\/core\/src\/index\.ts/);
  }, 60_000);

  it('type-checks a TypeScript consumer against the published typings (NodeNext)', () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      [
        "import { Registry, type MaskHead } from '@solo-ts/core';",
        "import { SOLOV2Head, headsComponents } from '@solo-ts/heads';",
        "import { createDefaultRegistry, defaultRegistryFactory } from '@solo-ts/apis';",
        "import { selectBackend } from '@solo-ts/backends';",
        "import { buildRunnerFromConfig, type BuildRunnerOptions } from '@solo-ts/engine';",
        "import { loadConfig } from '@solo-ts/config';",
        "import { describeMaskHeadContract, type ContractSpec } from '@solo-ts/testing';",
        "import { acmeComponents, SOLOV2BoundaryHead } from '@acme/solo-plugin-head';",
        'const r: Registry = createDefaultRegistry([acmeComponents]).load(headsComponents);',
        "const spec: ContractSpec = { kind: 'mask_head', config: {} };",
        "const runOptions: BuildRunnerOptions = { registry: defaultRegistryFactory, backend: 'wasm', workers: 2 };",
        'export const used: unknown[] = [r, spec, SOLOV2Head, SOLOV2BoundaryHead, loadConfig, describeMaskHeadContract, selectBackend, buildRunnerFromConfig, runOptions];',
        'export type H = MaskHead;',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
    );
    timed('tsc consumer', () => ok(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app));
  }, 120_000);

  it('runs `solo --help` and `solo print-config` on shipped configs', () => {
    const help = solo(['--help']);
    expect(help.status, help.out).toBe(0);
    for (const c of ['print-config', 'train', 'infer', 'make-shapes']) expect(help.out).toContain(c);
    const shipped = solo(['print-config', 'node_modules/@solo-ts/config/configs/solov2/solov2_r50_fpn_1x_coco.yaml', '--plain']);
    expect(shipped.status, shipped.out).toBe(0);
    expect(shipped.out).toContain('type: SOLOV2Head');
    const plugin = solo(['print-config', 'node_modules/@acme/solo-plugin-head/configs/solov2-boundary_shapes.yaml', '--plain']);
    expect(plugin.status, plugin.out).toBe(0);
    expect(plugin.out).toContain('type: acme.SOLOV2BoundaryHead');
    expect(plugin.out).toContain('type: CocoDataset'); // from the @solo-ts/configs::demo base
  }, 60_000);

  it('trains one tiny epoch and infers with the plugin head, the plugin found by package name', () => {
    const shapes = timed('make-shapes', () => solo(['make-shapes', '--out', 'data/shapes', '--num-train', '4', '--num-val', '2', '--size', '160x120', '--seed', '2', '--quiet']));
    expect(shapes.status, shapes.out).toBe(0);
    writeFileSync(
      join(app, 'tiny.yaml'),
      [
        '_base_: node_modules/@acme/solo-plugin-head/configs/solov2-boundary_shapes.yaml',
        'train_dataloader: {batch_size: 4, num_workers: 0, persistent_workers: false}',
        'val_dataloader: {batch_size: 2, num_workers: 0, persistent_workers: false}',
        'test_dataloader: {batch_size: 2, num_workers: 0, persistent_workers: false}',
        'train_cfg: {max_epochs: 1, val_interval: 10}',
        'default_hooks: {checkpoint: {type: CheckpointHook, interval: 1}, logger: {type: LoggerHook, interval: 1}}',
        '',
      ].join('\n'),
    );
    const train = timed('solo train', () => solo(['train', 'tiny.yaml', '--work-dir', 'work']));
    expect(train.status, train.out).toBe(0);
    const ckpt = resolve(app, 'work', readFileSync(join(app, 'work', 'last_checkpoint'), 'utf8').trim());
    const val = JSON.parse(readFileSync(join(app, 'data/shapes/annotations/instances_val.json'), 'utf8')) as { images: Array<{ file_name: string }> };
    const infer = timed('solo infer', () => solo(['infer', 'tiny.yaml', '--checkpoint', ckpt, '--image', join('data/shapes/val', val.images[0].file_name), '--out', 'res.json', '--show', 'vis.png']));
    expect(infer.status, infer.out).toBe(0);
    expect(readFileSync(join(app, 'vis.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 300_000);

  it("passes the plugin example's own tests against the tarballs", () => {
    const dir = join(app, 'plugin-head');
    for (const f of ['src', 'test', 'configs', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'vitest.config.ts']) cpSync(join(EXAMPLE, f), join(dir, f), { recursive: true });
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    timed('plugin tsc', () => {
      ok(process.execPath, [tsc, '-p', 'tsconfig.build.json'], dir);
      ok(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
    });
    const r = timed('plugin vitest', () => run(process.execPath, [join(app, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], dir, 300_000));
    expect(r.status, r.out.slice(-8000)).toBe(0);
    expect(r.out).toMatch(/Tests\s+\d+ passed/);
  }, 400_000);
});
