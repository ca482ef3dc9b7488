// SPDX-License-Identifier: Apache-2.0
/**
 * `exportOnnx(det)`: the detector's network (backbone, neck, head: the eval-mode forward up to the raw outputs
 * `predictByFeat` takes) as ONNX bytes, written from the module tree (each module's `toOnnx`), with the solo-ts
 * metadata that makes the file enough to run the model (docs/onnx.md).
 *
 * Contract: input `input`, float32 `[batch, 3, height, width]` (the data preprocessor's output: normalised, channel
 * order converted, padded to the pad divisor), NCHW; outputs the head's raw outputs, `<field>` for one array and
 * `<field>_<level>` for a per-level list, NCHW; batch, height and width are dynamic.
 */
import fs from 'node:fs';
import { SoloError } from '@solo-ts/core';
import { fileSha256 } from '@solo-ts/checkpoint';
import { pluginImports } from '@solo-ts/config';
import { DEFORM_CONV_OPSET, DeformConvBase, MIN_OPSET, OnnxGraph, type OnnxValue } from '@solo-ts/ops';
import { METADATA_FORMAT, METADATA_KEY, METADATA_VERSION, serializeOnnx, type SoloOnnxMetadata } from '@solo-ts/onnx';
import type { DetDataPreprocessor } from '@solo-ts/detectors';
import type { Detector } from './detector.js';
import { testPipelineCfg } from './detector.js';

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Default-domain opset (default 17, or 19 when the model has deformable convolutions: DeformConv). */
  opset?: number;
  /** sha256 (hex) of the checkpoint, when already known (default: hashed from `det.checkpoint`, null without one). */
  checkpointSha256?: string | null;
  /** Called with a short line per phase. */
  onProgress?: (line: string) => void;
}

/** What {@link exportOnnx} returns. */
export interface ExportedOnnx {
  /** The `.onnx` file. */
  bytes: Uint8Array;
  /** Its solo-ts metadata (also stored in the file). */
  metadata: SoloOnnxMetadata;
  /** Graph size. */
  nodes: number;
  parameters: number;
}

interface Exportable {
  toOnnx(g: OnnxGraph, input: OnnxValue): Record<string, OnnxValue | OnnxValue[]>;
  dataPreprocessor?: DetDataPreprocessor;
}

let version: string | undefined;
/** The solo-ts version (this package's), recorded in the metadata and part of the export cache key; read once. */
export function solotsVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}

function plainJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v ?? null)) as T;
}

/** The detector as an ONNX model (see the module doc for the contract). */
export function exportOnnx(det: Detector, o: ExportOnnxOptions = {}): ExportedOnnx {
  const model = det.model as unknown as Exportable & typeof det.model;
  if (typeof model.toOnnx !== 'function') throw new SoloError(`ONNX export: the detector (${det.model.constructor.name}) has no toOnnx(g, input) method`, { code: 'CONFIG' });
  const hasDcn = [...det.model.namedModules()].some(([, m]) => m instanceof DeformConvBase);
  const opset = o.opset ?? (hasDcn ? DEFORM_CONV_OPSET : MIN_OPSET);
  if (!Number.isInteger(opset) || opset < MIN_OPSET) throw new SoloError(`ONNX export: opset ${opset} is not supported`, { code: 'ARGUMENT', expected: `an integer >= ${MIN_OPSET}` });
  const progress = o.onProgress ?? (() => {});
  const wasTraining = det.model.training;
  det.model.eval();
  let graph: OnnxGraph;
  let fields: Record<string, OnnxValue | OnnxValue[]>;
  try {
    graph = new OnnxGraph({ opset, name: String(det.cfg.get<Record<string, unknown>>('model')?.type ?? 'solo_ts') });
    const input = graph.input('input', 'float32', ['batch', 3, 'height', 'width']);
    progress(`writing the graph (opset ${opset})`);
    fields = model.toOnnx(graph, input);
  } finally {
    if (wasTraining) det.model.train(true);
  }
  const outputs: Record<string, number | null> = {};
  for (const [field, v] of Object.entries(fields)) {
    if (Array.isArray(v)) {
      v.forEach((val, l) => graph.output(`${field}_${l}`, val, 'float32', ['batch', null, null, null]));
      outputs[field] = v.length;
    } else {
      graph.output(field, v, 'float32', ['batch', null, null, null]);
      outputs[field] = null;
    }
  }
  let sha = o.checkpointSha256;
  if (sha === undefined) {
    if (det.checkpoint) progress(`hashing ${det.checkpoint}`);
    sha = det.checkpoint ? fileSha256(det.checkpoint) : null;
  }
  const plugins = pluginImports(det.cfg).map((p) => p.module);
  const dp = model.dataPreprocessor;
  const metadata: SoloOnnxMetadata = {
    format: METADATA_FORMAT,
    version: METADATA_VERSION,
    model: plainJson(det.cfg.get<Record<string, unknown>>('model') ?? {}),
    test_cfg: plainJson(det.cfg.get<Record<string, unknown>>('model.test_cfg') ?? null),
    classes: [...det.classes],
    cat_ids: [...det.catIds],
    data_preprocessor: {
      mean: dp?.mean ? [...dp.mean] : [0, 0, 0],
      std: dp?.std ? [...dp.std] : [1, 1, 1],
      bgr_to_rgb: dp?.channelConversion ?? false,
      pad_size_divisor: dp?.padSizeDivisor ?? 1,
      pad_value: dp?.padValue ?? 0,
    },
    test_pipeline: plainJson(testPipelineCfg(det.cfg, true)),
    checkpoint_sha256: sha,
    outputs,
    opset,
    solo_ts_version: solotsVersion(),
    ...(plugins.length ? { custom_imports: { imports: plugins } } : {}),
  };
  progress(`serializing ${graph.nodes.length} nodes, ${graph.initializers.length} initializers`);
  const bytes = serializeOnnx(graph, { metadata: { [METADATA_KEY]: JSON.stringify(metadata) }, producerName: 'solo-ts', producerVersion: metadata.solo_ts_version });
  const parameters = graph.initializers.reduce((s, t) => s + (t.dtype === 'float32' ? t.data.length : 0), 0);
  return { bytes, metadata, nodes: graph.nodes.length, parameters };
}
