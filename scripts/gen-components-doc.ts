// SPDX-License-Identifier: Apache-2.0
/**
 * Generates docs/components.md from the registry: every registered component of every scope with its package,
 * description and options (type, default, doc line). `test/contracts/components-doc.test.ts` fails when the
 * committed file differs from what this produces, so the page cannot drift from the code.
 *
 *   npx tsx --conditions source scripts/gen-components-doc.ts          # write docs/components.md
 *   npx tsx --conditions source scripts/gen-components-doc.ts --check  # exit 1 if it is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SCOPES, type ItemSpec, type OptionSpec, type Registry } from '@solo-ts/core';
import { createDefaultRegistry } from '@solo-ts/apis';

export const COMPONENTS_DOC = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'components.md');
export const REGENERATE_COMMAND = 'npx tsx --conditions source scripts/gen-components-doc.ts';

const PLAIN = /^[A-Za-z_./][A-Za-z0-9_./-]*$/;
const RESERVED = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', '~']);

/** A value in YAML flow style, as a user would write it in a config. */
export function yamlFlow(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.has(v.toLowerCase()) ? v : `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(yamlFlow).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${yamlFlow(x)}`).join(', ')}}`;
  return String(v);
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The kind of an option as the declaration states it: `array of integer`, `string: a \| b`, `... or null`. */
function typeOf(spec: OptionSpec | ItemSpec): string {
  let t = spec.type === 'config' ? 'component config' : spec.type === undefined || spec.type === 'any' ? 'any' : spec.type;
  if (spec.type === 'array' && spec.items !== undefined) t += ` of ${typeOf(typeof spec.items === 'string' ? { type: spec.items } : spec.items)}`;
  if (spec.enum) t += `: ${spec.enum.map((e) => yamlFlow(e)).join(' | ')}`; // cell() escapes the pipes
  if (spec.nullable && spec.type !== 'any') t += ' or null';
  return t;
}

function anchor(scope: string, key: string): string {
  return `${scope}-${key}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** The markdown of docs/components.md for `registry`. */
export function renderComponentsDoc(registry: Registry): string {
  // Code-point order (not localeCompare, whose order depends on the machine's locale).
  const entries = [...registry.list()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: string[] = [
    '# Components',
    '',
    `<!-- Generated from the registry by scripts/gen-components-doc.ts: do not edit. Regenerate with \`${REGENERATE_COMMAND}\`. -->`,
    '',
    'Every component the solo-ts packages register, by registry scope, with the options a config may set',
    '(YAML spelling). Options without a default are optional unless marked **required**; values the',
    'detector passes down (a head\'s `in_channels`, `train_cfg`, `test_cfg`) need not be written. Unknown',
    'options are errors. `solo print-config CONFIG` shows a merged config; [registry.md](registry.md) explains',
    'scopes and keys, [plugins.md](plugins.md) how to add components.',
    '',
  ];
  const scopes = SCOPES.filter((s) => entries.some((e) => e.scope === s));
  out.push('| scope | components |', '|---|---|');
  for (const s of scopes) {
    const keys = entries.filter((e) => e.scope === s).map((e) => `[${e.key}](#${anchor(s, e.key)})`);
    out.push(`| \`${s}\` | ${keys.join(', ')} |`);
  }
  out.push('');
  for (const s of scopes) {
    out.push(`## Scope \`${s}\``, '');
    for (const e of entries.filter((x) => x.scope === s)) {
      out.push(`<a id="${anchor(s, e.key)}"></a>`, '', `### ${e.key}`, '');
      const desc = e.component.description;
      out.push(`${desc ? `${desc.charAt(0).toUpperCase()}${desc.slice(1)}${/[.!?]$/.test(desc) ? '' : '.'} ` : ''}Package \`${e.package}\`.`, '');
      const options = e.component.options;
      if (!options) {
        out.push('Options are not declared (not validated).', '');
        continue;
      }
      const names = Object.keys(options);
      if (names.length === 0) {
        out.push('No options.', '');
        continue;
      }
      out.push('| option | type | default | description |', '|---|---|---|---|');
      for (const k of names) {
        const spec = options[k];
        const dflt = spec.required ? '**required**' : spec.default === undefined ? '' : `\`${cell(yamlFlow(spec.default))}\``;
        out.push(`| \`${k}\` | ${cell(typeOf(spec))} | ${dflt} | ${cell(spec.doc)} |`);
      }
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

async function main(): Promise<void> {
  const text = renderComponentsDoc(createDefaultRegistry());
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(COMPONENTS_DOC, 'utf8');
    } catch {
      /* missing */
    }
    if (current !== text) {
      console.error(`docs/components.md is out of date: run ${REGENERATE_COMMAND}`);
      process.exit(1);
    }
    console.log('docs/components.md is up to date');
    return;
  }
  writeFileSync(COMPONENTS_DOC, text);
  console.log(`wrote ${COMPONENTS_DOC}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
