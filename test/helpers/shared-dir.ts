// SPDX-License-Identifier: Apache-2.0
/**
 * Where the golden data lives: the folder holding `parity/` (real mmdetection outputs) and `coco-conformance/`
 * (real pycocotools outputs). It is not part of the repository; it sits beside the checkout as `../shared`
 * (the project's layout), or inside it as `shared/`, or wherever `SOLO_TS_SHARED` points.
 *
 * If it cannot be found the importing test file fails with this message: the golden tests must never pass by
 * being skipped.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/helpers/shared-dir.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function findSharedDir(): string {
  const candidates = [process.env.SOLO_TS_SHARED, resolve(REPO_ROOT, '..', 'shared'), resolve(REPO_ROOT, 'shared')].filter(
    (c): c is string => typeof c === 'string' && c.length > 0,
  );
  for (const c of candidates) {
    if (existsSync(resolve(c, 'parity', 'manifest.json')) && existsSync(resolve(c, 'coco-conformance', 'README.md'))) return c;
  }
  throw new Error(
    `golden data not found: looked for parity/ and coco-conformance/ in ${candidates.join(', ')}. ` +
      'Set SOLO_TS_SHARED to the folder that holds them (the project keeps it beside the checkout as ../shared).',
  );
}

/** Absolute path of the shared golden-data folder. */
export const SHARED_DIR = findSharedDir();
/** `<shared>/parity` */
export const PARITY_ROOT = resolve(SHARED_DIR, 'parity');
/** `<shared>/coco-conformance` */
export const COCO_CONFORMANCE_ROOT = resolve(SHARED_DIR, 'coco-conformance');
