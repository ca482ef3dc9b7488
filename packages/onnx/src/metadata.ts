// SPDX-License-Identifier: Apache-2.0
/**
 * The solo-ts metadata of an exported model: one `metadata_props` entry, key `solo_ts`, holding JSON with what
 * running the `.onnx` file alone needs (the model config to rebuild the head's post-processing, test_cfg, classes,
 * category ids, normalisation and padding, the test pipeline) and the names of the raw outputs.
 */
import { SoloError, type ArrayTensor, type MaskHeadRawOutputs } from '@solo-ts/core';
import { decodeOnnx } from './serialize.js';

/** The `metadata_props` key. */
export const METADATA_KEY = 'solo_ts';
/** `format` of the metadata. */
export const METADATA_FORMAT = 'solo-ts-onnx';
/** The metadata version this package writes and reads. */
export const METADATA_VERSION = 1;

/** The data preprocessor settings the graph input was made with. */
export interface OnnxDataPreprocessorMeta {
  mean: number[];
  std: number[];
  bgr_to_rgb: boolean;
  pad_size_divisor: number;
  pad_value: number;
}

/** The `solo_ts` metadata (JSON). */
export interface SoloOnnxMetadata {
  format: typeof METADATA_FORMAT;
  version: number;
  /** The config's `model` section as plain JSON (rebuilds the head for `predictByFeat` through the registry). */
  model: Record<string, unknown>;
  /** The model's test_cfg (null when the config has none). */
  test_cfg: Record<string, unknown> | null;
  /** Class name per label. */
  classes: string[];
  /** COCO category id per label. */
  cat_ids: number[];
  data_preprocessor: OnnxDataPreprocessorMeta;
  /** The config's test pipeline as JSON (image loading included, as written in the config). */
  test_pipeline: unknown[];
  /** sha256 (hex) of the checkpoint file the weights came from; null when exported from initialised weights. */
  checkpoint_sha256: string | null;
  /** Raw outputs: field -> number of levels (outputs `<field>_<level>`), or null for one output named `<field>`. */
  outputs: Record<string, number | null>;
  /** Default-domain opset of the graph. */
  opset: number;
  /** Version of solo-ts that wrote the file. */
  solo_ts_version: string;
  /**
   * The config's plugin imports (`custom_imports.imports`; package names, `./` entries made absolute), loaded before
   * the head is rebuilt so that a plugin head's post-processing runs from the `.onnx` alone. Absent: none.
   */
  custom_imports?: { imports: string[] };
}

/** The graph output names of a metadata `outputs` map, in order (`<field>` or `<field>_<level>`). */
export function outputNames(outputs: Record<string, number | null>): string[] {
  return Object.entries(outputs).flatMap(([f, n]) => (n === null ? [f] : Array.from({ length: n }, (_, l) => `${f}_${l}`)));
}

/**
 * The graph outputs of a run (by output name: `<field>` / `<field>_<level>`) as the head's raw outputs, the input
 * of `predictByFeat`: one array per single field, a list per per-level field. `get(name)` returns an output as an
 * NCHW array (e.g. `{data: t.data, shape: t.dims}` of an onnxruntime tensor); a missing one is an error.
 */
export function rawOutputsFromNamed(outputs: Record<string, number | null>, get: (name: string) => ArrayTensor | undefined, source = 'the model'): MaskHeadRawOutputs {
  const one = (name: string): ArrayTensor => {
    const a = get(name);
    if (!a) throw new SoloError(`${source}: the run has no output \`${name}\``, { code: 'SHAPE', expected: `outputs ${outputNames(outputs).join(', ')}` });
    return a;
  };
  const raw: Record<string, ArrayTensor | ArrayTensor[]> = {};
  for (const [field, n] of Object.entries(outputs)) raw[field] = n === null ? one(field) : Array.from({ length: n }, (_, l) => one(`${field}_${l}`));
  return raw;
}

function fail(source: string, what: string): never {
  throw new SoloError(`${source}: invalid solo-ts metadata: ${what}`, { code: 'FILE', hint: 're-export the model with `solo export`' });
}

const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Check a parsed `solo_ts` JSON value; returns it typed. */
export function validateMetadata(m: unknown, source = 'the model'): SoloOnnxMetadata {
  if (!m || typeof m !== 'object' || Array.isArray(m)) fail(source, 'not a JSON object');
  const o = m as Record<string, unknown>;
  if (o.format !== METADATA_FORMAT) fail(source, `format is ${JSON.stringify(o.format)}, expected "${METADATA_FORMAT}"`);
  if (o.version !== METADATA_VERSION) {
    throw new SoloError(`${source}: solo-ts ONNX metadata version ${JSON.stringify(o.version)} is not supported (this solo-ts reads version ${METADATA_VERSION})`, {
      code: 'FILE',
      hint: 're-export the model with this version of solo-ts (`solo export`)',
    });
  }
  if (!o.model || typeof o.model !== 'object' || typeof (o.model as { mask_head?: unknown }).mask_head !== 'object') fail(source, '`model` must be the model config with a mask_head');
  if (o.test_cfg !== null && (typeof o.test_cfg !== 'object' || Array.isArray(o.test_cfg))) fail(source, '`test_cfg` must be an object or null');
  if (!Array.isArray(o.classes) || !o.classes.every((c) => typeof c === 'string')) fail(source, '`classes` must be a list of names');
  if (!isNumArray(o.cat_ids) || o.cat_ids.length !== o.classes.length) fail(source, '`cat_ids` must be one number per class');
  const dp = o.data_preprocessor as Record<string, unknown> | undefined;
  if (!dp || !isNumArray(dp.mean) || !isNumArray(dp.std) || typeof dp.bgr_to_rgb !== 'boolean' || typeof dp.pad_size_divisor !== 'number' || typeof dp.pad_value !== 'number') {
    fail(source, '`data_preprocessor` needs mean, std, bgr_to_rgb, pad_size_divisor and pad_value');
  }
  if (!Array.isArray(o.test_pipeline)) fail(source, '`test_pipeline` must be a list');
  if (o.checkpoint_sha256 !== null && typeof o.checkpoint_sha256 !== 'string') fail(source, '`checkpoint_sha256` must be a string or null');
  const outs = o.outputs as Record<string, unknown> | undefined;
  if (!outs || typeof outs !== 'object' || !Object.values(outs).every((n) => n === null || (Number.isInteger(n) && (n as number) > 0)) || !Object.keys(outs).length) {
    fail(source, '`outputs` must map each raw output to its number of levels or null');
  }
  if (!Number.isInteger(o.opset)) fail(source, '`opset` must be an integer');
  if (typeof o.solo_ts_version !== 'string') fail(source, '`solo_ts_version` must be a string');
  const ci = o.custom_imports as { imports?: unknown } | undefined;
  if (ci !== undefined && (!ci || !Array.isArray(ci.imports) || !ci.imports.every((s) => typeof s === 'string'))) fail(source, '`custom_imports` must be {imports: [module names]}');
  return o as unknown as SoloOnnxMetadata;
}

/**
 * The solo-ts metadata of `.onnx` bytes, validated: clear errors for bytes that are not ONNX (or truncated), an
 * ONNX model without solo-ts metadata (exported by another tool), unreadable JSON, or an unsupported version.
 */
export function readOnnxMetadata(bytes: Uint8Array, source = 'the model'): SoloOnnxMetadata {
  const model = decodeOnnx(bytes, source);
  const entry = (model.metadataProps ?? []).find((p) => p.key === METADATA_KEY);
  if (!entry) {
    throw new SoloError(`${source} is an ONNX model without solo-ts metadata (metadata_props "${METADATA_KEY}"): it was not exported by solo-ts`, {
      code: 'FILE',
      hint: 'export the model with `solo export CONFIG --checkpoint CKPT --out model.onnx`',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value ?? '');
  } catch (e) {
    throw new SoloError(`${source}: the solo-ts metadata is not valid JSON: ${(e as Error).message}`, { code: 'FILE', cause: e });
  }
  return validateMetadata(parsed, source);
}
