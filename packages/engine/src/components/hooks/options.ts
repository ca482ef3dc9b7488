// SPDX-License-Identifier: Apache-2.0
/**
 * Shared pieces of the engine's component declarations: the hooks' `priority` option (mmengine's `Priority` names
 * or a number; each hook declares its own default with {@link priorityOption}), the base of the hooks that have
 * no other option, and the refusal of options solo-ts does not implement (a typed `ConfigError` instead of
 * silently ignoring them).
 */
import { ConfigError, resolveOptions, typed, type OptionSpecs } from '@solo-ts/core';
import { PRIORITY, type HookPriority, type PriorityName } from '../../runner/hooks.js';

/**
 * The `priority` option of a hook, with the hook's own default (`own`). `null` also means the default. The value
 * is a number or a name of mmengine's `Priority` in any case, checked by {@link resolvePriority}.
 */
export function priorityOption<const P extends PriorityName>(own: P) {
  return typed<number | string>()({
    type: 'any',
    nullable: true,
    default: own,
    doc: `calling order among hooks: 0..100 or a name of mmengine's Priority (HIGHEST, VERY_HIGH, HIGH, ABOVE_NORMAL, NORMAL, BELOW_NORMAL, LOW, VERY_LOW, LOWEST); null = the default`,
  });
}

/** A hook class as {@link resolvePriority} reads it: its registry key and its declared `priority` option. */
export interface HookClass {
  readonly type: string;
  readonly options: { readonly priority: { readonly default?: unknown } };
}

/** The configured priority of a hook of class `hook` (`null`/absent: the declared default of its `priority` option). */
export function resolvePriority(hook: HookClass, value: number | string | null | undefined): HookPriority {
  const type = hook.type;
  const v: unknown = value ?? hook.options.priority.default;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.toUpperCase() in PRIORITY) return v.toUpperCase() as PriorityName;
  throw new ConfigError(`${type}: priority must be a number or one of ${Object.keys(PRIORITY).join(', ')}, got ${JSON.stringify(v)}`);
}

/** What a hook whose only option is `priority` is constructed with. */
export type PriorityOnlyOptions = { priority?: number | string | null };

/**
 * Base of the hooks whose only option is `priority` (the subclass declares `static options = defineOptions({
 * priority: priorityOption(...) })`): checks the options against that declaration and resolves the priority.
 */
export abstract class PriorityOnlyHook {
  readonly priority: HookPriority;
  constructor(options: PriorityOnlyOptions = {}) {
    const hook = new.target as unknown as HookClass & { readonly options: OptionSpecs };
    const o = resolveOptions(hook.options, options, hook.type) as PriorityOnlyOptions;
    this.priority = resolvePriority(hook, o.priority);
  }
}

/**
 * Refuse option `key` of `type` unless it has the value solo-ts implements (`supported`; null/undefined count as
 * unset): `why` says what solo-ts does instead.
 */
export function requireValue(type: string, key: string, value: unknown, supported: unknown, why: string): void {
  if (value === null || value === undefined || value === supported) return;
  throw new ConfigError(`${type}.${key}: ${JSON.stringify(value)} is not supported by solo-ts (${why})`);
}
