// SPDX-License-Identifier: Apache-2.0
/**
 * The package map of layers.json, read once for both tools that enforce it: eslint.config.js (import direction,
 * no deep imports) and scripts/check-deps.ts (package.json declares exactly what is imported, as the table allows).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** @typedef {{ owns?: string; imports: string[]; testOnly?: boolean }} LayerEntry */

/**
 * The `packages` table of `<root>/layers.json`.
 * @param {string} root the repository root
 * @returns {Record<string, LayerEntry>}
 */
export function readLayers(root) {
  return JSON.parse(readFileSync(path.join(root, 'layers.json'), 'utf8')).packages;
}

/**
 * Packages that may import `name`, directly or through others (its dependents by the table).
 * @param {Record<string, LayerEntry>} layers
 * @param {string} name
 * @returns {Set<string>}
 */
export function above(layers, name) {
  const out = new Set();
  for (let size = -1; size !== out.size; ) {
    size = out.size;
    for (const [p, { imports }] of Object.entries(layers)) {
      if (imports.some((q) => q === name || out.has(q))) out.add(p);
    }
  }
  return out;
}
