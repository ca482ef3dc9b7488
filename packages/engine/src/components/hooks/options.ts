// SPDX-License-Identifier: Apache-2.0
/**
 * Shared pieces of the hook components: the `priority` option (mmengine's `Priority` names or a number) and the
 * refusal of options solo-ts does not implement (a typed `ConfigError` instead of silently ignoring them).
 */
import { ConfigError, type OptionSpecs } from '@solo-ts/core';
import { PRIORITY, type HookPriority, type PriorityName } from '../../runner/hooks.js';

export const PRIORITY_OPTION: OptionSpecs = {
  priority: {
    type: 'any',
    nullable: true,
    doc: "calling order among hooks: 0..100 or a name of mmengine's Priority (HIGHEST, VERY_HIGH, HIGH, ABOVE_NORMAL, NORMAL, BELOW_NORMAL, LOW, VERY_LOW, LOWEST); default: the hook's own",
  },
};

/** The configured priority of hook `type`, or its own default. */
export function resolvePriority(type: string, value: unknown, fallback: PriorityName): HookPriority {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.toUpperCase() in PRIORITY) return value.toUpperCase() as PriorityName;
  throw new ConfigError(`${type}: priority must be a number or one of ${Object.keys(PRIORITY).join(', ')}, got ${JSON.stringify(value)}`);
}

/**
 * Refuse option `key` of `type` unless it has the value solo-ts implements (`supported`; null/undefined count as
 * unset): `why` says what solo-ts does instead.
 */
export function requireValue(type: string, key: string, value: unknown, supported: unknown, why: string): void {
  const unset = (v: unknown) => v === null || v === undefined;
  if (unset(value) && unset(supported)) return;
  if (value === supported) return;
  if (unset(value)) return;
  throw new ConfigError(`${type}.${key}: ${JSON.stringify(value)} is not supported by solo-ts (${why})`);
}
