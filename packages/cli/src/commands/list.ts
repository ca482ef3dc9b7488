// SPDX-License-Identifier: Apache-2.0
/**
 * `solo list [SCOPE] [--json]` and `solo describe SCOPE KEY [--json]`: the registered components (every
 * solo-ts package's, the engine's, and those of plugins named with `--plugin`), and one component's options with
 * their types, defaults and documentation.
 */
import type { Command } from 'commander';
import { SCOPES, SoloError, closestNames, type OptionSpec, type Scope } from '@solo-ts/core';
import { createDefaultRegistry } from '@solo-ts/apis';
import { componentModulesIn } from '@solo-ts/engine';
import { action } from '../util/errors.js';

interface ListOptions {
  json?: boolean;
  plugin?: string[];
}

async function registryWithPlugins(plugins: string[] | undefined) {
  const registry = createDefaultRegistry();
  for (const p of plugins ?? []) {
    let mod: unknown;
    try {
      mod = await import(p);
    } catch (e) {
      throw new SoloError(`cannot import plugin ${p}: ${(e as Error).message}`, { code: 'ARGUMENT' });
    }
    const modules = componentModulesIn(mod);
    if (!modules.length) throw new SoloError(`plugin ${p} exports no ComponentModule`, { code: 'ARGUMENT' });
    registry.load(...modules);
  }
  return registry;
}

function checkScope(scope: string): Scope {
  if (!(SCOPES as readonly string[]).includes(scope)) {
    const near = closestNames(scope, SCOPES);
    throw new SoloError(`unknown scope "${scope}"`, { code: 'ARGUMENT', expected: `one of ${SCOPES.join(', ')}`, hint: near.length ? `did you mean ${near.join(' or ')}?` : undefined });
  }
  return scope as Scope;
}

export async function listCommand(scope: string | undefined, opts: ListOptions): Promise<string> {
  const registry = await registryWithPlugins(opts.plugin);
  const entries = registry.list().filter((e) => scope === undefined || e.scope === checkScope(scope));
  if (opts.json) return `${JSON.stringify(entries.map((e) => ({ scope: e.scope, key: e.key, package: e.package, description: e.component.description ?? null })))}\n`;
  const lines: string[] = [];
  let current = '';
  const w = Math.max(...entries.map((e) => e.key.length), 4);
  for (const e of entries) {
    if (e.scope !== current) {
      current = e.scope;
      lines.push(`${lines.length ? '\n' : ''}${current}:`);
    }
    lines.push(`  ${e.key.padEnd(w)}  ${e.package.padEnd(20)}  ${e.component.description ?? ''}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

function fmtDefault(spec: OptionSpec): string {
  if (spec.required) return 'required';
  return spec.default === undefined ? '-' : JSON.stringify(spec.default);
}

export async function describeCommand(scope: string, key: string, opts: ListOptions): Promise<string> {
  const registry = await registryWithPlugins(opts.plugin);
  const d = registry.describe(checkScope(scope), key);
  if (opts.json) return `${JSON.stringify(d)}\n`;
  const lines = [`${d.key} (scope ${d.scope}, package ${d.package})`];
  if (d.description) lines.push(`  ${d.description}`);
  const specs = Object.entries(d.options ?? {});
  if (!specs.length) lines.push('  options: not declared (any)');
  else {
    lines.push('  options:');
    const w = Math.max(...specs.map(([k]) => k.length));
    for (const [k, s] of specs) {
      const type = `${s.type ?? 'any'}${s.nullable ? '|null' : ''}${s.enum ? ` (${s.enum.map((x) => JSON.stringify(x)).join('|')})` : ''}`;
      lines.push(`    ${k.padEnd(w)}  ${type}  default ${fmtDefault(s)}\n    ${' '.repeat(w)}  ${s.doc}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the registered components (all scopes, or one)')
    .argument('[scope]', `one of ${SCOPES.join(', ')}`)
    .option('--plugin <module...>', 'also load these plugin packages')
    .option('--json', 'print JSON')
    .action(action(async (scope: string | undefined, opts: ListOptions) => process.stdout.write(await listCommand(scope, opts))));
  program
    .command('describe')
    .description("describe a component: its options with types, defaults and documentation")
    .argument('<scope>', `one of ${SCOPES.join(', ')}`)
    .argument('<key>', 'registry key, e.g. SOLOV2Head')
    .option('--plugin <module...>', 'also load these plugin packages')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  solo describe models SOLOV2Head\n  solo describe hooks CheckpointHook')
    .action(action(async (scope: string, key: string, opts: ListOptions) => process.stdout.write(await describeCommand(scope, key, opts))));
}
