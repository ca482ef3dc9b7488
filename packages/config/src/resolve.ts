// SPDX-License-Identifier: Apache-2.0
/**
 * Where `_base_` entries point.
 *
 * - `../_base_/datasets/coco_instance.yaml`: relative to the directory of the file that names it
 *   (absolute paths are taken as they are);
 * - `@solo-ts/configs::solov2/solov2_r50_fpn_1x_coco.yaml`: a config shipped with solo-ts (the repository's
 *   top-level `configs/` folder);
 * - `<npm package>::path/in/package.yaml`: a config shipped inside any installed npm package (a plugin's
 *   model zoo), resolved from that package's directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package name under which solo-ts's own model zoo is addressed. */
export const SHIPPED_CONFIGS_PACKAGE = '@solo-ts/configs';

const here = path.dirname(fileURLToPath(import.meta.url));

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function ancestors(start: string): string[] {
  const out: string[] = [];
  let d = path.resolve(start);
  for (;;) {
    out.push(d);
    const parent = path.dirname(d);
    if (parent === d) return out;
    d = parent;
  }
}

/** The directory of an installed npm package, searched in `node_modules` above each start directory. */
export function findPackageDir(pkg: string, startDirs: string[]): string | undefined {
  for (const start of startDirs) {
    for (const d of ancestors(start)) {
      const candidate = path.join(d, 'node_modules', ...pkg.split('/'));
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
  }
  return undefined;
}

function isSoloRepoRoot(dir: string): boolean {
  if (!isDir(path.join(dir, 'configs', '_base_'))) return false;
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; bin?: unknown };
    return pkg.name === 'solo-ts-monorepo' || (typeof pkg.bin === 'object' && pkg.bin !== null && 'solo' in pkg.bin);
  } catch {
    return false;
  }
}

let shippedDirCache: string | undefined;

/**
 * The directory holding solo-ts's shipped configs (the one with `_base_/`). Looked up in order:
 * `$SOLO_TS_CONFIGS`; an installed `@solo-ts/configs` package (its `configs/` folder or its root); the solo-ts
 * repository that contains this package (source checkout, workspaces); the `configs/` folder a published
 * `@solo-ts/config` carries (`<package>/configs`, copied in by `prepack`); the solo-ts repository above the
 * current directory.
 */
export function shippedConfigsDir(): string | undefined {
  const env = process.env.SOLO_TS_CONFIGS;
  if (env && isDir(env)) return path.resolve(env);
  if (shippedDirCache && isDir(shippedDirCache)) return shippedDirCache;
  const candidates: string[] = [];
  const pkgDir = findPackageDir(SHIPPED_CONFIGS_PACKAGE, [here, process.cwd()]);
  if (pkgDir) candidates.push(path.join(pkgDir, 'configs'), pkgDir);
  // a source checkout: the repository that contains this package
  for (const d of ancestors(here)) if (isSoloRepoRoot(d)) candidates.push(path.join(d, 'configs'));
  // a published package: packages/config/{src,dist}/ -> <package>/configs (copied in by `prepack`)
  candidates.push(path.resolve(here, '..', 'configs'));
  for (const d of ancestors(process.cwd())) if (isSoloRepoRoot(d)) candidates.push(path.join(d, 'configs'));
  for (const c of candidates) {
    if (isDir(path.join(c, '_base_'))) {
      shippedDirCache = c;
      return c;
    }
  }
  return undefined;
}

export type BaseRef =
  | { kind: 'file'; file: string }
  | { kind: 'package'; pkg: string; rel: string; file?: string; reason?: string };

/** Resolve one `_base_` entry named in `fromFile` (an absolute path). */
export function resolveBaseRef(ref: string, fromFile: string): BaseRef {
  const sep = ref.indexOf('::');
  if (sep > 0) {
    const pkg = ref.slice(0, sep);
    const rel = ref.slice(sep + 2).replace(/^\/+/, '');
    let root: string | undefined;
    if (pkg === SHIPPED_CONFIGS_PACKAGE) {
      root = shippedConfigsDir();
      if (!root) {
        return {
          kind: 'package',
          pkg,
          rel,
          reason:
            "solo-ts's shipped configs were not found (no `configs/_base_` in an installed @solo-ts/configs, " +
            'next to @solo-ts/config, or in a solo-ts checkout above it); set SOLO_TS_CONFIGS to the folder',
        };
      }
    } else {
      root = findPackageDir(pkg, [path.dirname(fromFile), process.cwd(), here]);
      if (!root) return { kind: 'package', pkg, rel, reason: `npm package \`${pkg}\` is not installed` };
    }
    return { kind: 'package', pkg, rel, file: path.resolve(root, rel) };
  }
  return { kind: 'file', file: path.resolve(path.dirname(fromFile), ref) };
}

/** How a file is named in messages: relative to the current directory when it lies below it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  return file;
}
