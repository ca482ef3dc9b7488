// SPDX-License-Identifier: Apache-2.0
/**
 * Scalar series from a training log for `solo plot-log`: a JSON-lines scalar file (`vis_data/scalars.json`,
 * solo-ts's and mmengine's), a TensorBoard event file (`events.out.tfevents.*`, ours or torch's SummaryWriter),
 * or a work/log directory (the newest of those inside it). Series are keyed by name; TensorBoard tags lose a
 * `train/` or `val/` prefix so the same `--keys` work for both kinds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SoloError } from '@solo-ts/core';
import { readScalarLog } from './scalar-log.js';
import { readScalarEvents } from './tensorboard.js';

export type SeriesMap = Map<string, Array<[number, number]>>;

function newest(files: string[]): string | undefined {
  return files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}

function walk(dir: string, depth = 4): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...walk(p, depth - 1));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The log file a path designates (a file, or the newest scalars.json / event file under a directory). */
export function resolveLogFile(p: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new SoloError(`log not found: ${p}`, { code: 'FILE' });
  }
  if (st.isFile()) return p;
  const files = walk(p);
  const found = newest(files.filter((f) => path.basename(f) === 'scalars.json')) ?? newest(files.filter((f) => path.basename(f).startsWith('events.out.tfevents')));
  if (!found) throw new SoloError(`no scalars.json or TensorBoard event file under ${p}`, { code: 'FILE' });
  return found;
}

/** Read every numeric series of a log; x is `step` (else `iter`) for JSON lines, the event step for TensorBoard. */
export function readLogSeries(p: string): { file: string; series: SeriesMap } {
  const file = resolveLogFile(p);
  const series: SeriesMap = new Map();
  const add = (k: string, x: number, y: number) => {
    if (!Number.isFinite(x)) return;
    let s = series.get(k);
    if (!s) series.set(k, (s = []));
    s.push([x, y]);
  };
  const head = fs.readFileSync(file).subarray(0, 1);
  if (head.length && head[0] === 0x7b /* { */) {
    for (const rec of readScalarLog(file)) {
      const x = Number(rec.step ?? rec.iter);
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'number' && !['step', 'iter', 'epoch'].includes(k)) add(k, x, v);
    }
  } else {
    let events;
    try {
      events = readScalarEvents(file);
    } catch (e) {
      throw new SoloError(`${file} is neither a JSON-lines scalar log nor a TensorBoard event file: ${(e as Error).message}`, { code: 'FILE' });
    }
    for (const e of events) add(e.tag.replace(/^(train|val|test)\//, ''), e.step, e.value);
  }
  return { file, series };
}
