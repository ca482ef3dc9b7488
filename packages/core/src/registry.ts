// SPDX-License-Identifier: Apache-2.0
/**
 * The component registry: a small facade over an inversify container.
 *
 * Keys are mmdetection's type names (`ResNet`, `FPN`, `SOLOV2Head`, `DiceLoss`, `CocoDataset`, `Resize`, ...),
 * grouped in scopes like mmengine's role-split registries. Each package exposes one `ComponentModule` that lists
 * its components explicitly; loading that module into a `Registry` is how the package registers itself.
 * Third-party packages register namespaced keys (`acme.SparseHead`) the same way.
 *
 * `build(scope, cfg)` removes `type`, finds the entry, validates the options against the component's declared
 * `options` (see `defineOptions` in options.ts; unknown keys are errors reported with the config file and line),
 * applies defaults, converts the snake_case YAML keys to camelCase and constructs the component with a `BuildContext` so it can build its own
 * nested components (a head builds "a loss" from `loss_mask`, never imports `DiceLoss`).
 */
import 'reflect-metadata';
import { Container, ContainerModule } from 'inversify';
import { locationOf } from './config-source.js';
import { RegistryError, closestNames, type SourceLocation } from './errors.js';
import { applyOptionSpecs, describeValue, isDeclaredOptions, snakeToCamel, type OptionSpecs, type ResolvedOptions } from './options.js';

/** Registry scopes (mmengine's registries, by role). */
export const SCOPES = [
  'models',
  'task_utils',
  'datasets',
  'transforms',
  'data_samplers',
  'metrics',
  'hooks',
  'optimizers',
  'optim_wrappers',
  'schedulers',
  'loops',
  'visualizers',
] as const;
export type Scope = (typeof SCOPES)[number];

/** What `build` hands to a component constructor besides its options. */
export interface BuildContext {
  readonly registry: Registry;
  /** Dotted config path of the component being built (for messages), e.g. `model.mask_head`. */
  readonly path: string;
  /** The raw config map the component came from (carries source locations). */
  readonly source?: object;
  /** Build a nested component; `key` is appended to the path for messages. */
  build<T = unknown>(scope: Scope, cfg: unknown, key: string, extra?: Record<string, unknown>): T;
  /** Where a key of this component's config was set. */
  locate(key?: string): SourceLocation | undefined;
}

/**
 * A registrable component class: a static `type` key, its declared `options` and a constructor taking the
 * resolved options (typed by the declaration, see {@link ResolvedOptions}) and a {@link BuildContext}.
 * `class DiceLoss { static readonly options = diceLossOptions; constructor(o: OptionsInput<typeof diceLossOptions>) }`
 * is a `ComponentClass<DiceLoss, typeof diceLossOptions>`.
 */
export interface ComponentClass<T = unknown, S extends OptionSpecs = OptionSpecs> {
  readonly type: string;
  readonly options?: S;
  readonly description?: string;
  new (options: ResolvedOptions<S>, ctx: BuildContext): T;
}

/** A registrable factory function (for components that are not classes). */
export interface ComponentFactory<T = unknown, S extends OptionSpecs = OptionSpecs> {
  readonly type: string;
  readonly options?: S;
  readonly description?: string;
  create(options: ResolvedOptions<S>, ctx: BuildContext): T;
}

/**
 * Any registrable component, as the registry stores it. Its constructor parameter types are not tied to its
 * `options` here (one list holds components with different declarations): `component(scope, C)` checks that
 * tie for a component declared with `defineOptions`, and the registry always checks the values against
 * `options` before it calls the constructor. Components that still declare `static options: OptionSpecs` by
 * hand (the old form, third-party plugins) register the same way.
 */
export type Component<T = unknown> =
  | { readonly type: string; readonly options?: OptionSpecs; readonly description?: string; new (options: never, ctx: never): T }
  | { readonly type: string; readonly options?: OptionSpecs; readonly description?: string; create(options: never, ctx: never): T };

export interface RegistryEntry {
  readonly scope: Scope;
  readonly key: string;
  readonly component: Component;
  /** npm package that registered it. */
  readonly package: string;
  /** True when it replaced an earlier registration on purpose. */
  readonly override: boolean;
}

export interface ComponentRegistration {
  scope: Scope;
  component: Component;
  /** Register under this key instead of `component.type` (aliases). */
  key?: string;
  /** Replace an existing registration with the same key instead of failing. */
  override?: boolean;
}

/**
 * A registration whose constructor is checked against the component's own declaration at compile time:
 * `component('models', DiceLoss)` fails to type-check when `DiceLoss`'s constructor does not accept
 * `ResolvedOptions<typeof DiceLoss.options>`.
 */
export function component<S extends OptionSpecs>(
  scope: Scope,
  c: ComponentClass<unknown, S> | ComponentFactory<unknown, S>,
  options: { key?: string; override?: boolean } = {},
): ComponentRegistration {
  return { scope, component: c as Component, ...options };
}

/** One package's list of components. Loading it into a registry registers them. */
export class ComponentModule {
  constructor(
    readonly packageName: string,
    readonly registrations: readonly ComponentRegistration[],
    /** Semver range of @solo-ts/core the package supports (plugins declare it). */
    readonly coreRange?: string,
  ) {}
}

function serviceId(scope: Scope, key: string): symbol {
  return Symbol.for(`solo-ts:${scope}:${key}`);
}

/**
 * Call a component's constructor (or factory) with options checked against its declaration. The one place where
 * the stored `Component` (parameters `never`) is seen as taking its resolved options.
 */
function construct(comp: Component, options: Record<string, unknown>, ctx: BuildContext): unknown {
  if (typeof comp === 'function') return new (comp as unknown as ComponentClass<unknown, OptionSpecs>)(options, ctx);
  return (comp as unknown as ComponentFactory<unknown, OptionSpecs>).create(options, ctx);
}

export class Registry {
  private readonly container = new Container();
  private readonly entries = new Map<string, RegistryEntry>();
  private readonly loadedModules = new Set<ComponentModule>();

  /** Load one or more packages' component modules. Loading the same module twice is a no-op. */
  load(...modules: ComponentModule[]): this {
    for (const m of modules) {
      if (this.loadedModules.has(m)) continue;
      const cm = new ContainerModule((opts) => {
        for (const r of m.registrations) this.bindEntry(r, m.packageName, opts);
      });
      this.container.loadSync(cm);
      this.loadedModules.add(m);
    }
    return this;
  }

  /** Register a single component (outside a module). */
  register(scope: Scope, component: Component, options: { key?: string; override?: boolean; package?: string } = {}): this {
    return this.load(new ComponentModule(options.package ?? '<local>', [{ scope, component, key: options.key, override: options.override }]));
  }

  private bindEntry(r: ComponentRegistration, pkg: string, opts: { bind: Container['bind']; rebindSync: Container['rebindSync'] }): void {
    const key = r.key ?? r.component.type;
    if (typeof key !== 'string' || key.length === 0) {
      throw new RegistryError(`package ${pkg} registers a component without a static \`type\` key in scope "${r.scope}"`);
    }
    if (!(SCOPES as readonly string[]).includes(r.scope)) {
      throw new RegistryError(`package ${pkg} registers "${key}" in unknown scope "${r.scope}"`, { expected: `one of ${SCOPES.join(', ')}` });
    }
    const mapKey = `${r.scope}:${key}`;
    const existing = this.entries.get(mapKey);
    const entry: RegistryEntry = { scope: r.scope, key, component: r.component, package: pkg, override: !!r.override };
    if (existing) {
      if (!r.override) {
        throw new RegistryError(
          `duplicate registration of "${key}" in scope "${r.scope}": already registered by ${existing.package}, registered again by ${pkg}`,
          { hint: 'use a namespaced key (e.g. `acme.MyHead`) or register with `override: true` to replace it on purpose' },
        );
      }
      opts.rebindSync<RegistryEntry>(serviceId(r.scope, key)).toConstantValue(entry);
    } else {
      opts.bind<RegistryEntry>(serviceId(r.scope, key)).toConstantValue(entry);
    }
    this.entries.set(mapKey, entry);
  }

  has(scope: Scope, key: string): boolean {
    return this.container.isBound(serviceId(scope, key));
  }

  /** The entry for a key (undefined if absent). */
  get(scope: Scope, key: string): RegistryEntry | undefined {
    if (!this.has(scope, key)) return undefined;
    return this.container.get<RegistryEntry>(serviceId(scope, key));
  }

  /** Keys of a scope (sorted), or every entry when no scope is given. */
  list(scope: Scope): string[];
  list(): RegistryEntry[];
  list(scope?: Scope): string[] | RegistryEntry[] {
    if (scope === undefined) return [...this.entries.values()].sort((a, b) => a.scope.localeCompare(b.scope) || a.key.localeCompare(b.key));
    return [...this.entries.values()].filter((e) => e.scope === scope).map((e) => e.key).sort();
  }

  /** Documentation of one component: description and option specs. */
  describe(scope: Scope, key: string): { key: string; scope: Scope; package: string; description?: string; options?: OptionSpecs } {
    const e = this.get(scope, key);
    if (!e) throw this.unknownError(scope, key, undefined);
    return { key, scope, package: e.package, description: e.component.description, options: e.component.options };
  }

  private unknownError(scope: Scope, key: string, location: SourceLocation | undefined): RegistryError {
    const known = this.list(scope);
    const close = closestNames(key, known);
    const elsewhere = SCOPES.filter((s) => s !== scope && this.has(s, key));
    let hint = close.length ? `closest known keys: ${close.join(', ')}` : `known keys in scope "${scope}": ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''}`;
    if (elsewhere.length) hint += `; "${key}" exists in scope ${elsewhere.map((s) => `"${s}"`).join(', ')}`;
    if (key.includes('.')) hint += `; namespaced keys come from plugins: list the package under \`custom_imports.imports\``;
    return new RegistryError(`unknown type "${key}" in registry scope "${scope}"`, { location, hint });
  }

  /**
   * Build a component from a config map `{type, ...options}`.
   * @param path dotted config path used in messages (e.g. `model.backbone`).
   * @param extra options supplied by the caller (camelCase) that the config does not set, e.g. `inChannels`
   *   computed from the upstream feature specs. Config values win over `extra`.
   */
  build<T = unknown>(scope: Scope, cfg: unknown, path: string = scope, extra: Record<string, unknown> = {}): T {
    if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
      throw new RegistryError(`\`${path}\` must be a map with a \`type\` key, got ${describeValue(cfg)}`, { location: locationOf(cfg) ?? { file: '<config>', key: path } });
    }
    const node = cfg as Record<string, unknown>;
    const type = node.type;
    if (typeof type !== 'string') {
      throw new RegistryError(`\`${path}\` has no \`type\` key (a string naming the component)`, { location: locationOf(node) ?? { file: '<config>', key: path } });
    }
    const entry = this.get(scope, type);
    if (!entry) throw this.unknownError(scope, type, locationOf(node, 'type') ?? { file: '<config>', key: `${path}.type` });
    const comp = entry.component;
    const specs = comp.options;
    const yaml: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'type' || k.startsWith('_')) continue;
      if (specs && !Object.prototype.hasOwnProperty.call(specs, k)) {
        const close = closestNames(k, Object.keys(specs));
        throw new RegistryError(`unknown option \`${k}\` for ${type}`, {
          location: locationOf(node, k) ?? { file: '<config>', key: `${path}.${k}` },
          hint: close.length ? `did you mean ${close.map((c) => `\`${c}\``).join(' or ')}? (${type} options: ${Object.keys(specs).join(', ')})` : `${type} options: ${Object.keys(specs).join(', ')}`,
        });
      }
      yaml[snakeToCamel(k)] = v;
    }
    let options: Record<string, unknown>;
    if (!specs) {
      options = { ...extra, ...yaml };
    } else {
      // `extra` values the config does not set; declared ones are checked like config values (a declaration made
      // with defineOptions), undeclared ones (e.g. FPN's `inFeatures`) pass through to the constructor.
      const declared = isDeclaredOptions(specs);
      const fromExtra = Object.fromEntries(Object.entries(extra).filter(([k]) => yaml[k] === undefined));
      const extraKeys = new Set(Object.keys(fromExtra));
      options = applyOptionSpecs(
        specs,
        { ...fromExtra, ...yaml },
        type,
        {
          unknown: (key, hint) => new RegistryError(`unknown option \`${key}\` for ${type}`, { location: locationOf(node) ?? { file: '<config>', key: path }, hint }),
          invalid: (key, message) => new RegistryError(message, { location: locationOf(node, key) ?? { file: '<config>', key: `${path}.${key}` } }),
          missing: (key, spec) => new RegistryError(`${type} needs option \`${key}\` (${spec.doc})`, { location: locationOf(node) ?? { file: '<config>', key: path } }),
        },
        extraKeys,
        declared ? new Set() : extraKeys,
      );
    }
    const ctx = this.context(path, node);
    try {
      return construct(comp, options, ctx) as T;
    } catch (e) {
      if (e instanceof Error && (e as { isSoloError?: boolean }).isSoloError && !(e as { location?: unknown }).location) {
        Object.defineProperty(e, 'location', { value: locationOf(node) ?? { file: '<config>', key: path } });
      }
      throw e;
    }
  }

  /** A build context rooted at `path` (for code that builds components outside `build`). */
  context(path: string, source?: object): BuildContext {
    const registry = this;
    return {
      registry,
      path,
      source,
      build<U>(scope: Scope, cfg: unknown, key: string, extra?: Record<string, unknown>): U {
        return registry.build<U>(scope, cfg, path ? `${path}.${key}` : key, extra);
      },
      locate(key?: string) {
        return locationOf(source, key);
      },
    };
  }
}
