// SPDX-License-Identifier: Apache-2.0
/**
 * Component options, declared once.
 *
 * A component declares its options with {@link defineOptions}: the YAML (snake_case) name, the kind of value, the
 * default and a doc line of each. From that one object come
 * - the TypeScript types: {@link ResolvedOptions} (camelCase keys; keys with a default or marked `required` are
 *   always present) is what the constructor receives, {@link OptionsInput} what code may pass when it constructs
 *   the component directly (everything optional except `required`);
 * - the checks of `Registry.build` (unknown keys with the config file and line, kinds, enums, required, nullable)
 *   and the defaults it fills in;
 * - {@link resolveOptions}, the same checks and defaults for a component constructed in code or in a test;
 * - the generated components reference (docs/components.md) and `solo describe`.
 *
 * The option names and meanings are mmdetection's (the `__init__` arguments of the mmdet/mmengine class), so an
 * mmdetection config translates line by line. See docs/registry.md.
 */
import { ConfigError, RegistryError, closestNames, type SourceLocation } from './errors.js';

/** Kind of value of an option; `config` = a nested component config (a map with `type`), built via `ctx.build`. */
export type OptionType = 'number' | 'integer' | 'string' | 'boolean' | 'array' | 'object' | 'config' | 'any';

/** The value an element of an `array` option must have (checked like an option). */
export interface ItemSpec {
  readonly type: OptionType;
  readonly enum?: readonly unknown[];
  readonly nullable?: boolean;
  readonly items?: OptionType | ItemSpec;
}

/** Declared option of a component, in the YAML (snake_case) spelling. */
export interface OptionSpec {
  /** Expected kind of value (absent = any). */
  readonly type?: OptionType;
  /** Default value (used when the key is absent). */
  readonly default?: unknown;
  /** One line: meaning, unit/shape. Shown by `solo describe` and the generated docs. */
  readonly doc: string;
  readonly required?: boolean;
  /** Allowed values. */
  readonly enum?: readonly unknown[];
  /** Accept `null` as a value. */
  readonly nullable?: boolean;
  /** Kind of the elements of an `array` option (checked). */
  readonly items?: OptionType | ItemSpec;
}
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A raw nested component config (a map with `type`), built by the component with `ctx.build`. */
export type ComponentConfig = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// Type-level derivation

type LowerAlnum = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o' | 'p' | 'q' | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z' | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';

/**
 * `snake_case` -> `camelCase`, the type-level twin of {@link snakeToCamel} (`_x` -> `X` for a lower-case letter or
 * digit; an mmengine name with a capital word keeps it: `T_max` -> `TMax`).
 */
export type CamelCase<S extends string> = S extends `${infer H}_${infer C}${infer R}`
  ? C extends LowerAlnum
    ? `${H}${Uppercase<C>}${CamelCase<R>}`
    : `${H}_${CamelCase<`${C}${R}`>}`
  : S;

type BaseValue<T> = T extends 'number' | 'integer'
  ? number
  : T extends 'string'
    ? string
    : T extends 'boolean'
      ? boolean
      : T extends 'array'
        ? unknown[]
        : T extends 'object'
          ? Record<string, unknown>
          : T extends 'config'
            ? ComponentConfig
            : unknown;

type ItemValue<I> = I extends OptionType ? BaseValue<I> : SpecValue<I>;

type DerivedValue<P> = P extends { readonly enum: readonly (infer E)[] }
  ? E
  : P extends { readonly type: 'array'; readonly items: infer I }
    ? ItemValue<I>[]
    : P extends { readonly type: infer T }
      ? BaseValue<T>
      : unknown;

/** The TypeScript value of a declared option (before `undefined` for an absent optional one). */
export type SpecValue<P> =
  | (P extends { readonly __value?: infer V } ? (unknown extends V ? DerivedValue<P> : V) : DerivedValue<P>)
  | (P extends { readonly nullable: true } ? null : never);

type RawPresence<P> = P extends { readonly required: true }
  ? 'required'
  : P extends { readonly default: infer D }
    ? [D] extends [undefined]
      ? 'optional'
      : 'default'
    : 'optional';

/** Whether a declared option is always present after resolution (a spread-in declared option keeps its own). */
type SpecPresence<P> = P extends { readonly __presence?: infer X } ? (unknown extends X ? RawPresence<P> : X) : RawPresence<P>;

/**
 * A declared option as {@link defineOptions} returns it: an {@link OptionSpec} whose value type and presence are
 * carried in phantom (type-only, never set) properties. Covariant in `V`, so a subclass may narrow an option.
 */
export type DeclaredOption<V, Presence extends 'required' | 'default' | 'optional'> = OptionSpec & {
  readonly __value?: V;
  readonly __presence?: Presence;
};

/** The declaration of {@link defineOptions} for the literal specs `S`. */
export type DeclaredOptions<S> = { readonly [K in keyof S]: DeclaredOption<SpecValue<S[K]>, SpecPresence<S[K]>> };

type ValueOf<P> = P extends { readonly __value?: infer V } ? V : unknown;
type IsOptional<P> = P extends { readonly __presence?: infer X } ? ([X] extends ['optional'] ? true : false) : false;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * What a component receives: camelCase keys, defaults filled in (keys with a default or `required` are present).
 * For an undeclared `OptionSpecs` (the old form), `Record<string, unknown>`.
 */
export type ResolvedOptions<S extends OptionSpecs> = Simplify<
  { -readonly [K in keyof S as IsOptional<S[K]> extends true ? never : CamelCase<K & string>]: ValueOf<S[K]> } & {
    -readonly [K in keyof S as IsOptional<S[K]> extends true ? CamelCase<K & string> : never]?: ValueOf<S[K]>;
  }
>;

type IsRequired<P> = P extends { readonly __presence?: infer X } ? ([X] extends ['required'] ? true : false) : false;

/** What code may pass when it constructs a component directly: `required` keys, any of the others. */
export type OptionsInput<S extends OptionSpecs> = Simplify<
  { -readonly [K in keyof S as IsRequired<S[K]> extends true ? CamelCase<K & string> : never]: ValueOf<S[K]> } & {
    -readonly [K in keyof S as IsRequired<S[K]> extends true ? never : CamelCase<K & string>]?: ValueOf<S[K]> | undefined;
  }
>;

// ---------------------------------------------------------------------------------------------------------------
// Declaring

const declared = new WeakSet<object>();

/**
 * Declare a component's options once. Write the specs literally (the types come from `type`, `enum`, `items`,
 * `nullable`, `required` and `default`):
 *
 * ```ts
 * export const diceLossOptions = defineOptions({
 *   use_sigmoid: { type: 'boolean', default: true, doc: 'use sigmoid activation' },
 *   reduction: { type: 'string', default: 'mean', enum: ['none', 'mean', 'sum'], doc: 'default reduction' },
 * });
 * type DiceLossOptions = ResolvedOptions<typeof diceLossOptions>; // { useSigmoid: boolean; reduction: 'none' | 'mean' | 'sum' }
 * ```
 *
 * The declaration is checked when the module loads: snake_case names ({@link isOptionName}), a doc line each,
 * defaults of the declared kind (and among `enum`), no default on a `required` option. Returns the same (frozen)
 * object.
 */
export function defineOptions<const S extends Record<string, OptionSpec>>(specs: S): DeclaredOptions<S> {
  const [problem] = declarationProblems(specs);
  if (problem) throw new RegistryError(problem);
  Object.freeze(specs);
  declared.add(specs);
  return specs as unknown as DeclaredOptions<S>;
}

/**
 * What is wrong with a declaration of options, one message per problem (none: a good declaration): names in the
 * YAML spelling, a doc line each, no default on a required option, defaults of the declared kind (enum included).
 * `defineOptions` refuses the first; the contract suite of @solo-ts/testing reports them for hand-written specs.
 */
export function declarationProblems(specs: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (const [k, spec] of Object.entries(specs)) {
    const where = `option \`${k}\``;
    if (!isOptionName(k)) out.push(`${where} is not snake_case (options are declared in the YAML spelling)`);
    if (typeof spec.doc !== 'string' || spec.doc.trim() === '') out.push(`${where} has no doc line`);
    if (spec.required && spec.default !== undefined) out.push(`${where} is required and has a default`);
    if (spec.default !== undefined) {
      const problem = checkValue(spec, spec.default);
      if (problem) out.push(`the default of ${where}${problem.path ? ` (element ${problem.path})` : ''} ${problem.message}`);
    }
  }
  return out;
}

/**
 * Whether `name` is an option name in the YAML spelling: snake_case (`loss_weight`), where a word may also be a
 * single capital letter as in mmengine's and PyTorch's scheduler options (`T_max`, `T_0`; camelCase `TMax`).
 * camelCase names (`lossWeight`, `TMax`) are not: they are the TypeScript spelling.
 */
export function isOptionName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !/[A-Z][A-Za-z0-9]|[a-z0-9][A-Z]/.test(name);
}

/** True for a declaration made with {@link defineOptions} (not the old hand-written `OptionSpecs`). */
export function isDeclaredOptions(specs: unknown): boolean {
  return typeof specs === 'object' && specs !== null && declared.has(specs);
}

/**
 * Give an option a TypeScript value type that its kind cannot express (a union such as `number | number[]`, the
 * shape of an `object`), for options whose shape the component checks itself:
 * `prob: typed<number | number[]>()({ type: 'any', required: true, doc: '...' })`.
 * The registry still checks the declared `type`; `nullable` still adds `null`.
 */
export function typed<V>(): <const P extends OptionSpec>(spec: P) => P & { readonly __value?: V } {
  return (spec) => spec;
}

// ---------------------------------------------------------------------------------------------------------------
// Checking

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`;
}

function kindOk(type: OptionType | undefined, v: unknown): boolean {
  switch (type) {
    case undefined:
    case 'any':
      return true;
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
    case 'config':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

function expectedText(spec: ItemSpec | OptionSpec): string {
  const t = spec.type === 'config' ? 'a component config map' : `a ${spec.type}`;
  return `${t}${spec.nullable ? ' or null' : ''}`;
}

/** What is wrong with a value (relative key path, e.g. `[2]`, and the message), or undefined when it fits. */
export interface OptionProblem {
  path: string;
  message: string;
}

/** Check one value against a declared option (kind, nullable, enum, array items). */
export function checkValue(spec: OptionSpec | ItemSpec, v: unknown): OptionProblem | undefined {
  if (v === null) {
    if (spec.nullable || spec.type === 'any' || spec.type === undefined) return undefined;
    return { path: '', message: `must be ${expectedText(spec)}, got null` };
  }
  if (!kindOk(spec.type, v)) return { path: '', message: `must be ${expectedText(spec)}, got ${describeValue(v)}` };
  if (spec.enum && !spec.enum.includes(v)) {
    return { path: '', message: `must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}` };
  }
  if (spec.items !== undefined && Array.isArray(v)) {
    const item: ItemSpec = typeof spec.items === 'string' ? { type: spec.items } : spec.items;
    for (let i = 0; i < v.length; i++) {
      const p = checkValue(item, v[i]);
      if (p) return { path: `[${i}]${p.path}`, message: p.message };
    }
  }
  return undefined;
}

function clone<T>(v: T): T {
  return v !== null && typeof v === 'object' ? (JSON.parse(JSON.stringify(v)) as T) : v;
}

/** How the checks report a problem (the registry adds the config file and line; code gets a ConfigError). */
export interface OptionErrorSink {
  unknown(key: string, hint: string): Error;
  /** `key`: the YAML name of the option; `message` names the element when an array item is wrong. */
  invalid(key: string, message: string): Error;
  missing(key: string, spec: OptionSpec): Error;
}

function knownHint(where: string, key: string, names: string[]): string {
  const close = closestNames(key, names);
  return close.length ? `did you mean ${close.map((c) => `\`${c}\``).join(' or ')}? (${where} options: ${names.join(', ')})` : `${where} options: ${names.join(', ')}`;
}

/**
 * The shared core of `Registry.build` and {@link resolveOptions}: checks camelCase `values` against `specs` and
 * returns them with defaults filled in (each default a fresh copy). Absent and `undefined` values take the default.
 * `yamlKeys` maps the camelCase keys that came from a config back to their YAML spelling for messages.
 * Keys that are not declared are errors unless `passThrough` lists them (values a caller supplies, like `extra`);
 * the values of `unchecked` keys are taken as they are (the registry's `extra` for an old-form declaration).
 */
export function applyOptionSpecs(
  specs: OptionSpecs,
  values: Readonly<Record<string, unknown>>,
  where: string,
  errors: OptionErrorSink,
  passThrough: ReadonlySet<string> = new Set(),
  unchecked: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const byCamel = new Map<string, string>();
  for (const k of Object.keys(specs)) byCamel.set(snakeToCamel(k), k);
  const out: Record<string, unknown> = {};
  for (const [ck, v] of Object.entries(values)) {
    const k = byCamel.get(ck);
    if (k === undefined) {
      if (passThrough.has(ck)) {
        out[ck] = v;
        continue;
      }
      throw errors.unknown(ck, knownHint(where, ck, Object.keys(specs)));
    }
    if (v === undefined) continue;
    if (unchecked.has(ck)) {
      out[ck] = v;
      continue;
    }
    const p = checkValue(specs[k], v);
    if (p) throw errors.invalid(k, `option \`${k}${p.path}\` of ${where} ${p.message}`);
    out[ck] = v;
  }
  for (const [k, spec] of Object.entries(specs)) {
    const ck = snakeToCamel(k);
    if (out[ck] !== undefined) continue;
    if (spec.required) throw errors.missing(k, spec);
    if (spec.default !== undefined) out[ck] = clone(spec.default);
  }
  return out;
}

/**
 * The options of a component constructed in code (or a test), with the registry's checks and defaults:
 * `new DiceLoss({eps: 1e-4})` resolves `{eps: 1e-4}` against `DiceLoss.options`. Options that `Registry.build`
 * already resolved come back unchanged (the defaults are the same ones). Errors are {@link ConfigError}s naming
 * `where` (the component) and the option's YAML spelling.
 */
export function resolveOptions<S extends OptionSpecs>(specs: S, input: OptionsInput<S> | ResolvedOptions<S> | undefined, where: string, location?: SourceLocation): ResolvedOptions<S> {
  const values = (input ?? {}) as Readonly<Record<string, unknown>>;
  const out = applyOptionSpecs(specs, values, where, {
    unknown: (key, hint) => new ConfigError(`unknown option \`${key}\` for ${where}`, { location, hint }),
    invalid: (_key, message) => new ConfigError(message, { location }),
    missing: (key, spec) => new ConfigError(`${where} needs option \`${key}\` (${spec.doc})`, { location }),
  });
  return out as ResolvedOptions<S>;
}
