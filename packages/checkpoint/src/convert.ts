// SPDX-License-Identifier: Apache-2.0
/**
 * Converting a PyTorch checkpoint (mmdetection, torchvision, ...) to the solo-ts checkpoint format.
 *
 * Tensors keep their PyTorch names (after removing `module.` and applying the prefix map), dtypes and layout
 * (NCHW / OIHW: models transpose on load). The metadata is
 * `{source: 'pth', layout: 'pytorch', sourceFile, wrapper, skipped, meta}` where `meta` is the checkpoint's own
 * `meta` made JSON-safe (`toJSONSafe`).
 */
import { encodeCheckpoint, type HashFactory } from './checkpoint-format.js';
import type { PthObject } from './pth.js';
import { applyPrefixMap, extractStateDict, summarizeStateDict, toJSONSafe, type PrefixMap, type StateDictSummary } from './state-dict.js';
import { DTYPE_INFO, type TorchDType, type TorchTensor } from './tensor.js';

export interface ConvertOptions {
  /** Prefix renames applied after `stripPrefixes`, first match wins. */
  prefixMap?: PrefixMap;
  /** Prefixes removed from keys (default `['module.']`). */
  stripPrefixes?: string[];
  /** Source name for messages; its base name is recorded as `sourceFile`. */
  name?: string;
}

/** The metadata stored in a converted checkpoint. */
export interface PthConversionMeta {
  source: 'pth';
  layout: 'pytorch';
  sourceFile?: string;
  /** Key the state dict was under (`state_dict`, `model`, ...), absent for a plain state dict. */
  wrapper?: string;
  /** Non-tensor entries of the state dict that were left out. */
  skipped: string[];
  /** The `.pth` file's own `meta`, JSON-safe; null when it had none. */
  meta: unknown;
}

export interface ConversionSummary extends StateDictSummary {
  skipped: string[];
}

export interface ConvertedCheckpoint {
  tensors: Map<string, TorchTensor>;
  meta: PthConversionMeta;
  summary: ConversionSummary;
}

/** Extracts, renames and describes the state dict of an unpickled `.pth`. */
export function pthToCheckpoint(obj: PthObject, options: ConvertOptions = {}): ConvertedCheckpoint {
  const ex = extractStateDict(obj, { name: options.name, stripPrefixes: options.stripPrefixes });
  const tensors = applyPrefixMap(ex.stateDict, options.prefixMap ?? []);
  const base = options.name ? options.name.split(/[\\/]/).pop() : undefined;
  const meta: PthConversionMeta = {
    source: 'pth',
    layout: 'pytorch',
    ...(base ? { sourceFile: base } : {}),
    ...(ex.wrapper ? { wrapper: ex.wrapper } : {}),
    skipped: ex.skipped,
    meta: ex.meta === undefined ? null : toJSONSafe(ex.meta),
  };
  const summary = { ...summarizeStateDict(tensors, (d) => DTYPE_INFO[d as TorchDType].itemsize), skipped: ex.skipped };
  return { tensors, meta, summary };
}

/** `.pth` object -> solo-ts checkpoint file image (in memory). */
export function encodePthAsCheckpoint(obj: PthObject, options: ConvertOptions = {}, hash?: HashFactory): { bytes: Uint8Array; summary: ConversionSummary } {
  const c = pthToCheckpoint(obj, options);
  const { bytes } = encodeCheckpoint({ tensors: c.tensors, meta: c.meta }, hash);
  return { bytes, summary: c.summary };
}
