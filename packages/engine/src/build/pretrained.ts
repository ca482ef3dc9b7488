// SPDX-License-Identifier: Apache-2.0
/**
 * `init_cfg: {type: Pretrained, checkpoint, prefix?}` of a model's components (the backbone's, usually):
 * mmengine's PretrainedInit, run when a training run starts from scratch (not when it resumes or has
 * `load_from`, whose weights replace them anyway).
 *
 * `checkpoint` is a file path, or `torchvision://<name>` / `open-mmlab://<name>` / an http(s) URL, which are
 * looked up (no download) in PyTorch's hub cache: `$TORCH_HOME/hub/checkpoints` or
 * `~/.cache/torch/hub/checkpoints` (`<name>-<hash>.pth` or `<name>.pth`). Tensors are matched by name after
 * removing `prefix.` when given; missing and unexpected ones are reported, as mmengine does (non-strict).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, type Module } from '@solo-ts/core';
import { loadAnyCheckpoint } from '@solo-ts/checkpoint';

interface PretrainedCfg {
  type: 'Pretrained';
  checkpoint: string;
  prefix?: string;
}

function hubDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.TORCH_HOME) dirs.push(path.join(process.env.TORCH_HOME, 'hub', 'checkpoints'));
  dirs.push(path.join(os.homedir(), '.cache', 'torch', 'hub', 'checkpoints'));
  return dirs;
}

/** Local file of a Pretrained `checkpoint` reference, or a `ConfigError` saying where to put it. */
export function resolvePretrained(ref: string): string {
  const m = /^(torchvision|open-mmlab|mmcls|mmpretrain):\/\/(.+)$/.exec(ref) ?? (/^https?:\/\//.test(ref) ? [ref, 'url', path.basename(ref).replace(/\.pth$/, '')] : null);
  if (!m) {
    if (fs.existsSync(ref)) return ref;
    throw new ConfigError(`pretrained checkpoint ${ref} not found`, { hint: 'set init_cfg.checkpoint to an existing .pth / .safetensors file, or init_cfg: null to train from scratch' });
  }
  const name = path.basename(m[2]);
  for (const dir of hubDirs()) {
    if (!fs.existsSync(dir)) continue;
    const files = fs.readdirSync(dir).filter((f) => f === `${name}.pth` || (f.startsWith(`${name}-`) && f.endsWith('.pth')) || f === path.basename(ref));
    if (files.length) return path.join(dir, files.sort()[0]);
  }
  throw new ConfigError(`pretrained weights ${ref} are not in the PyTorch hub cache (${hubDirs().join(', ')}) and solo-ts does not download`, {
    hint: `download the file (torchvision: https://download.pytorch.org/models/<name>-<hash>.pth) into ${hubDirs()[hubDirs().length - 1]}, set init_cfg.checkpoint to a local file, or train from scratch with --cfg-options model.backbone.init_cfg=null`,
  });
}

function pretrainedOf(m: Module): PretrainedCfg | undefined {
  const ic = (m as { initCfg?: unknown }).initCfg;
  const list = Array.isArray(ic) ? ic : ic ? [ic] : [];
  return list.find((c): c is PretrainedCfg => typeof c === 'object' && c !== null && (c as PretrainedCfg).type === 'Pretrained' && typeof (c as PretrainedCfg).checkpoint === 'string');
}

/** Load every component's Pretrained init_cfg; returns the number of components initialised. */
export async function loadPretrainedWeights(model: Module, log: (line: string) => void): Promise<number> {
  let n = 0;
  for (const [prefix, m] of model.namedModules()) {
    const cfg = pretrainedOf(m);
    if (!cfg) continue;
    const file = resolvePretrained(cfg.checkpoint);
    const ck = await loadAnyCheckpoint(file);
    const state = new Map<string, (typeof ck.stateDict extends Map<string, infer T> ? T : never)>();
    for (const [k, v] of ck.stateDict) {
      if (!cfg.prefix) state.set(k, v);
      else if (k.startsWith(`${cfg.prefix}.`)) state.set(k.slice(cfg.prefix.length + 1), v);
    }
    const r = m.loadStateDict(state as never, { strict: false, source: file, torchLayout: true });
    log(`${prefix || 'model'}: loaded ${r.loaded.length} pretrained tensors from ${file}${r.missing.length ? `; ${r.missing.length} not in the file` : ''}${r.unexpected.length ? `; ${r.unexpected.length} unused (${r.unexpected.slice(0, 4).join(', ')}${r.unexpected.length > 4 ? ', ...' : ''})` : ''}${r.mismatched.length ? `; ${r.mismatched.length} with another shape skipped` : ''}`);
    if (r.loaded.length === 0) throw new ConfigError(`no tensor of ${file} matches ${prefix || 'the model'} (init_cfg.prefix?)`);
    n++;
  }
  return n;
}
