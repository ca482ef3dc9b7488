// SPDX-License-Identifier: Apache-2.0
/**
 * Config contract of a registered component: its options are declared (each with a doc line; defaults of the
 * declared type), it builds from `{type, ...example}` and from the same config with every default written out,
 * and an unknown key fails with an error that names the key. `defineOptions` of @solo-ts/core checks the
 * declaration when the module loads; this contract also covers components (third-party plugins) that still
 * write `static options: OptionSpecs` by hand.
 */
import { declarationProblems, type OptionSpec, type Registry, type Scope } from '@solo-ts/core';
import { check, ContractViolation } from '../tensors.js';
import { disposeComponent, expectThrows } from './common.js';
import type { ContractCheck, YamlOptions } from './types.js';

export interface ConfigContractOptions {
  registry: Registry;
  scope: Scope;
  key: string;
  /** Options of a buildable example (YAML spelling, without `type`); required options must be here. */
  config?: YamlOptions;
  /** Values the caller of `build` supplies (camelCase), like the registry's `extra`. */
  extra?: Record<string, unknown>;
  /** Why the component cannot be built here (the declaration and unknown-key checks still run). */
  skipBuild?: string;
}

/** The key used to probe unknown-option errors. */
export const UNKNOWN_OPTION_PROBE = 'no_such_option_xyz';

/** The checks of the config contract. */
export function configChecks(o: ConfigContractOptions): ContractCheck[] {
  const { registry, scope, key } = o;
  const entry = registry.get(scope, key);
  const label = `${scope}:${key}`;
  const specs = () => {
    check(entry, `${label} is not registered`);
    const s = entry.component.options;
    check(s && typeof s === 'object', `${label} declares no static \`options\`: without them the registry cannot reject misspelt keys (declare \`static readonly options = defineOptions({...})\` from @solo-ts/core, or defineOptions({}) when it takes none)`);
    return s;
  };
  const missingRequired = (s: Record<string, OptionSpec>): string[] =>
    Object.entries(s)
      .filter(([k, spec]) => spec.required && o.config?.[k] === undefined)
      .map(([k]) => k)
      .filter((k) => !o.extra || !(k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) in o.extra));
  const checks: ContractCheck[] = [
    {
      name: 'options are declared with a doc line; defaults have the declared type',
      run: () => {
        const [problem] = declarationProblems(specs());
        check(problem === undefined, `${label}: ${problem}`);
      },
    },
    {
      name: 'an unknown option is an error naming the key',
      run: async () => {
        specs();
        await expectThrows(`${label} with an unknown option`, () => registry.build(scope, { type: key, ...o.config, [UNKNOWN_OPTION_PROBE]: 1 }, `contract.${key}`, o.extra), new RegExp(UNKNOWN_OPTION_PROBE));
      },
    },
  ];
  if (o.skipBuild) return checks;
  checks.push(
    {
      name: 'builds from {type, ...example config}',
      run: () => {
        const s = specs();
        const missing = missingRequired(s);
        if (missing.length) {
          throw new ContractViolation(
            `${label} has required options (${missing.join(', ')}) that no example config provides: give the component a static \`contract = {config: {...}}\` (or an entry in the project's spec map) with a small buildable config`,
          );
        }
        const built = registry.build(scope, { type: key, ...o.config }, `contract.${key}`, o.extra);
        check(built !== undefined && built !== null, `${label} built nothing`);
        disposeComponent(built);
      },
    },
    {
      name: 'builds with every default written out explicitly (defaults round-trip through validation)',
      run: () => {
        const s = specs();
        if (missingRequired(s).length) return; // reported by the check above
        const full: YamlOptions = {};
        for (const [k, spec] of Object.entries(s)) if (spec.default !== undefined) full[k] = JSON.parse(JSON.stringify(spec.default));
        Object.assign(full, o.config);
        const built = registry.build(scope, { type: key, ...full }, `contract.${key}`, o.extra);
        disposeComponent(built);
      },
    },
  );
  return checks;
}
