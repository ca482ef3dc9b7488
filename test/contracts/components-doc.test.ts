// SPDX-License-Identifier: Apache-2.0
/** docs/components.md is generated from the registry; this fails when the committed page is out of date. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '@solo-ts/apis';
import { COMPONENTS_DOC, REGENERATE_COMMAND, renderComponentsDoc, yamlFlow } from '../../scripts/gen-components-doc.js';

describe('docs/components.md', () => {
  it('is up to date with the registry', () => {
    const expected = renderComponentsDoc(createDefaultRegistry());
    const current = readFileSync(COMPONENTS_DOC, 'utf8');
    if (current !== expected) {
      const a = current.split('\n');
      const b = expected.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      expect.fail(`docs/components.md is out of date (first difference at line ${i + 1}: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}); run ${REGENERATE_COMMAND}`);
    }
  });

  it('lists every registered component with its options', () => {
    const doc = readFileSync(COMPONENTS_DOC, 'utf8');
    const registry = createDefaultRegistry();
    for (const e of registry.list()) {
      expect(doc).toContain(`### ${e.key}\n`);
      for (const k of Object.keys(e.component.options ?? {})) expect(doc).toContain(`| \`${k}\` |`);
    }
  });

  it('writes defaults as YAML', () => {
    expect(yamlFlow({ type: 'GN', num_groups: 32, requires_grad: true })).toBe('{type: GN, num_groups: 32, requires_grad: true}');
    expect(yamlFlow([[1, 96], 'on_input', null, 'true', "it's"])).toBe("[[1, 96], on_input, null, 'true', 'it''s']");
  });
});
