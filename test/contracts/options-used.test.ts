// SPDX-License-Identifier: Apache-2.0
/**
 * Every option a component declares with `defineOptions` is used: its camelCase name is read (a property access such
 * as `o.saveLast`, or a destructuring) somewhere in the declaring file outside the declaration (or in a file that imports the declaration by name, such as the base
 * class reading a shared declaration), or the declaration limits it to one value (an `enum` of one), or it is
 * listed below with the reason it has no effect here. A key that overrides one of a declaration it spreads
 * (`defineOptions({...soloHeadOptions, loss_mask: {..., default: ...}})`) is checked where that one is declared.
 * An option that is accepted and silently ignored fails.
 * (A source-level check: it reads the files, it does not run the components.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { snakeToCamel } from '@solo-ts/core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Options that are accepted on purpose without an effect, by file and YAML name, with the reason. */
const INERT: Record<string, Record<string, string>> = {
  'packages/backbones/src/resnet.ts': { with_cp: 'gradient checkpointing only trades memory for time; results are the same' },
  'packages/datasets/src/transforms/load-annotations.ts': {
    reduce_zero_label: 'semantic segmentation maps only (with_seg is rejected)',
    ignore_index: 'semantic segmentation maps only (with_seg is rejected)',
    imdecode_backend: 'semantic segmentation maps only (with_seg is rejected)',
    backend_args: 'semantic segmentation maps only (with_seg is rejected)',
  },
  'packages/datasets/src/transforms/flip.ts': { swap_seg_labels: 'semantic segmentation maps only (never loaded)' },
  'packages/datasets/src/coco/coco-dataset.ts': { serialize_data: "mmengine's memory layout of the data list; no effect on the samples" },
  'packages/datasets/src/loader/samplers.ts': { round_up: 'pads to a multiple of the world size; one process' },
  'packages/detectors/src/data-preprocessor.ts': {
    boxtype2tensor: 'boxes are plain arrays here',
    non_blocking: 'no asynchronous host-to-device copies',
  },
  'packages/heads/src/head-options.ts': { train_cfg: "kept on the head as mmdetection does; no SOLO-family head reads training settings (mmdet's neither)" },
  'packages/evaluation/src/coco-metric.ts': { collect_device: 'where distributed results are gathered; one process' },
  'packages/engine/src/components/hooks/checkpoint-hook.ts': {
    save_param_scheduler: 'the schedulers have no state besides the run position, which every checkpoint stores',
  },
  'packages/engine/src/components/hooks/guard-hooks.ts': { interval: 'CheckInvalidLossHook: every iteration is checked (before the update), which covers any interval' },
  'packages/engine/src/components/hooks/runtime-hooks.ts': {
    interval: 'DetVisualizationHook: drawing settings; draw: true is refused',
    score_thr: 'DetVisualizationHook: drawing settings; draw: true is refused',
    wait_time: 'DetVisualizationHook: window settings; show: true is refused',
    test_out_dir: 'DetVisualizationHook: drawing settings; draw: true is refused',
  },
};

/** Packages whose every component declares its options with `defineOptions` (no hand-written `OptionSpecs`). */
const CONVERTED = ['packages/engine/src'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('__')) continue;
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

interface Declaration {
  /** The constant it is assigned to (`export const NAME = defineOptions({...})`), if any. */
  name?: string;
  keys: { key: string; oneValue: boolean }[];
  /** Declarations spread in at the top level (`...NAME`). */
  spreads: string[];
  start: number;
  end: number;
}

/** The top-level keys of each `defineOptions({...})` literal in `text`, and where the literal is. */
export function declarations(text: string): Declaration[] {
  const found: Declaration[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf('defineOptions({', from);
    if (at < 0) break;
    const open = at + 'defineOptions('.length;
    let depth = 0;
    let i = open;
    const keys: Declaration['keys'] = [];
    const spreads: string[] = [];
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
        // a comment (its words may hold quotes): skip to its end
        const close = text[i + 1] === '/' ? text.indexOf('\n', i) : text.indexOf('*/', i + 2) + 1;
        i = close > 0 ? close : text.length;
        continue;
      }
      if (c === "'" || c === '"' || c === '`') {
        const q = c;
        for (i++; i < text.length && text[i] !== q; i++) if (text[i] === '\\') i++;
        continue;
      }
      if (c === '{' || c === '[' || c === '(') depth++;
      else if (c === '}' || c === ']' || c === ')') {
        depth--;
        if (depth === 0) break;
      } else if (depth === 1) {
        const spread = /^\.\.\.([A-Za-z_$][\w$.]*)/.exec(text.slice(i, i + 80));
        if (spread) {
          spreads.push(spread[1]);
          i += spread[0].length - 1;
          continue;
        }
        const m = /^([a-z][a-z0-9_]*)\s*:/.exec(text.slice(i, i + 80));
        if (m && /[\s,{]/.test(text[i - 1])) {
          const rest = text.slice(i, text.indexOf('\n', i));
          keys.push({ key: m[1], oneValue: /enum:\s*\[\s*'[^']*'\s*\]/.test(rest) });
          i += m[1].length - 1;
        }
      }
    }
    const name = /(?:const|let)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*$/.exec(text.slice(Math.max(0, at - 120), at))?.[1];
    found.push({ name, keys, spreads, start: at, end: i });
    from = i;
  }
  return found;
}

/**
 * Whether the option `camel` is read in `text`: a property access (`o.interval`, `this.o.saveLast`) or a
 * destructuring (`const { interval, saveBegin } = this.o`). A field declaration (`readonly interval: number`) or a
 * type member is not a read.
 */
export function isRead(camel: string, text: string): boolean {
  const name = camel.replace(/[$]/g, '\\$&');
  return new RegExp(`\\.${name}\\b`).test(text) || new RegExp(`\\{[^{}]*\\b${name}\\b[^{}]*\\}\\s*=[^=>]`).test(text);
}

const sources = new Map(['packages', 'examples'].flatMap((d) => sourceFiles(join(ROOT, d))).map((f) => [f, readFileSync(f, 'utf8')] as const));
const files = [...sources.keys()].filter((f) => sources.get(f)?.includes('defineOptions({') && !f.endsWith('core/src/options.ts'));

/** Every named declaration: its keys (including those of the declarations it spreads, transitively). */
const byName = new Map<string, Declaration>();
for (const f of files) for (const d of declarations(sources.get(f) ?? '')) if (d.name) byName.set(d.name, d);
function allKeys(name: string, seen = new Set<string>()): Set<string> {
  const d = byName.get(name);
  if (!d || seen.has(name)) return new Set();
  seen.add(name);
  return new Set([...d.keys.map((k) => k.key), ...d.spreads.flatMap((s) => [...allKeys(s, seen)])]);
}
/** The text of the other files that import `name` (they may be where its options are read). */
function importers(name: string, self: string): string {
  const re = new RegExp(`import\\s*(?:type\\s*)?\\{[^}]*\\b${name}\\b[^}]*\\}\\s*from`);
  return [...sources].filter(([f, t]) => f !== self && re.test(t)).map(([, t]) => t).join('\n');
}

describe('declared options are used', () => {
  it('finds the declarations', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(declarations("const o = defineOptions({\n  // it's a comment\n  a_b: { type: 'string', enum: ['x'], doc: 'a {b}' }, /* d: x's */ c: { doc: 'c' } });")[0].keys).toEqual([
      { key: 'a_b', oneValue: true },
      { key: 'c', oneValue: false },
    ]);
    const [child] = declarations("export const childOptions = defineOptions({\n  ...baseOptions,\n  loss: { ...baseOptions.loss, default: 2 },\n});");
    expect(child).toMatchObject({ name: 'childOptions', spreads: ['baseOptions'], keys: [{ key: 'loss', oneValue: false }] });
  });

  it('covers the heads (a shared declaration read by the base class, overrides in each head)', () => {
    const heads = files.map((f) => relative(ROOT, f).split('\\').join('/')).filter((f) => f.startsWith('packages/heads/src/'));
    expect(heads).toEqual(expect.arrayContaining(['packages/heads/src/head-options.ts', 'packages/heads/src/solov2-head.ts', 'packages/heads/src/mask-feat-module.ts']));
    const v2 = allKeys('solov2HeadOptions');
    for (const k of ['num_classes', 'in_channels', 'train_cfg', 'test_cfg', 'loss_mask', 'init_cfg', 'mask_feature_head', 'dcn_cfg']) expect(v2.has(k), k).toBe(true);
  });

  it('finds option reads, not field declarations', () => {
    expect(isRead('saveLast', 'if (this.o.saveLast) x();')).toBe(true);
    expect(isRead('saveBegin', 'const { byEpoch, saveBegin } = this.o;')).toBe(true);
    expect(isRead('interval', 'readonly interval: number;')).toBe(false);
    expect(isRead('interval', 'function f({ interval }: O) {}')).toBe(false);
  });

  it('the engine components declare their options with defineOptions', () => {
    const checked = files.map((f) => relative(ROOT, f).split('\\').join('/'));
    expect(checked).toEqual(expect.arrayContaining(['packages/engine/src/components/hooks/logger-hook.ts', 'packages/engine/src/optim/sgd.ts', 'packages/engine/src/components/visualizers.ts']));
    const handWritten = CONVERTED.flatMap((d) => sourceFiles(join(ROOT, d)))
      .filter((f) => /:\s*OptionSpecs\s*=/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(handWritten, 'hand-written OptionSpecs (declare them with defineOptions)').toEqual([]);
  });

  for (const file of files) {
    const rel = relative(ROOT, file).split('\\').join('/');
    it(rel, () => {
      const text = sources.get(file) ?? '';
      const decls = declarations(text);
      let outside = text;
      for (const d of [...decls].reverse()) outside = outside.slice(0, d.start) + outside.slice(d.end);
      const unused: string[] = [];
      for (const d of decls) {
        const inherited = new Set(d.spreads.flatMap((s) => [...allKeys(s)]));
        const readers = `${outside}\n${d.name ? importers(d.name, file) : ''}`;
        for (const { key, oneValue } of d.keys) {
          if (oneValue || INERT[rel]?.[key] || inherited.has(key)) continue;
          if (!isRead(snakeToCamel(key), readers)) unused.push(key);
        }
      }
      expect(unused, `${rel}: options declared but never read (implement them, reject them with a clear error, or list them in INERT with the reason)`).toEqual([]);
      for (const key of Object.keys(INERT[rel] ?? {})) expect(decls.some((d) => d.keys.some((k) => k.key === key)), `${rel}: INERT lists \`${key}\`, which is not declared`).toBe(true);
    });
  }
});
