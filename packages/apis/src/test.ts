// SPDX-License-Identifier: Apache-2.0
/**
 * `testModel(config, {checkpoint})`: mmdetection's `tools/test.py`. Runs the test loader through the model, scores
 * the predictions with `test_evaluator` (CocoMetric: mask AP identical to pycocotools), and optionally writes the
 * COCO results JSON (`out`) and one picture per image with the predictions drawn (`showDir`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CocoResult } from '@solo-ts/cocoapi';
import { SoloError } from '@solo-ts/core';
import { loadConfig, type Config } from '@solo-ts/config';
import { buildDataLoader, decodeImage, type DataLoaderCfg } from '@solo-ts/datasets';
import type { BackendChoice } from '@solo-ts/backends';
import { buildEvaluator, evaluateModel, LoaderAdapter, type EvaluateResult, type Evaluator } from '@solo-ts/engine';
import { buildDetector, toCocoResults, filterInstances, pictureStyle, type Detector, type RuntimeChoice } from './detector.js';
import { drawInstances } from './draw.js';

export interface TestOptions {
  checkpoint?: string;
  cfgOptions?: string[] | Record<string, unknown>;
  backend?: BackendChoice | null;
  threads?: number;
  /** Runtime of the network (`buildDetector`'s `runtime`; default tfjs). A `.onnx` checkpoint runs on ONNX Runtime. */
  runtime?: RuntimeChoice;
  executionProviders?: Array<string | Record<string, unknown>>;
  /** Called once with the line naming the runtime (and threads) that runs. */
  onRuntime?: (line: string) => void;
  /** Write the COCO results (all images, all instances) to this JSON file. */
  out?: string;
  /** Draw predictions (score >= showScoreThr) into this directory, one PNG per image. */
  showDir?: string;
  showScoreThr?: number;
  /** Score with test_evaluator (default true; false only predicts, e.g. to draw pictures). */
  evaluate?: boolean;
  /** Evaluate only the first N images (quick checks; the metric then covers only those). */
  maxImages?: number;
  /** An already built detector (skips building and weight loading). */
  detector?: Detector;
  /** Progress output (default stderr). */
  progress?: { write(text: string): void; isTTY: boolean } | null;
  log?: (line: string) => void;
}

export interface TestResult extends EvaluateResult {
  resultsFile?: string;
  numResults: number;
}

export async function testModel(config: Config | string, o: TestOptions = {}): Promise<TestResult> {
  const cfg = typeof config === 'string' ? loadConfig(config, { cfgOptions: o.cfgOptions }) : config;
  const det = o.detector ?? (await buildDetector(cfg, { checkpoint: o.checkpoint, backend: o.backend, threads: o.threads, onWarning: o.log, runtime: o.runtime, executionProviders: o.executionProviders }));
  o.onRuntime?.(det.runtimeDetail);
  const dlCfg = cfg.get<DataLoaderCfg>('test_dataloader');
  if (!dlCfg) throw new SoloError(`${cfg.filename} has no test_dataloader`, { code: 'CONFIG' });
  const loader = new LoaderAdapter(buildDataLoader(dlCfg, { registry: det.registry, path: 'test_dataloader', seed: 0, onWarning: o.log }));
  try {
    const ds = loader.loader.dataset as { annFile?: string; metainfo: { classes: string[]; catIds: number[] } };
    let evaluator: Evaluator | undefined;
    const tev = cfg.get('test_evaluator');
    if (tev && o.evaluate !== false) {
      evaluator = buildEvaluator(tev, { registry: det.registry, path: 'test_evaluator', dataset: ds });
      evaluator.onLog = o.log;
    }
    const catIds = ds.metainfo.catIds?.length ? ds.metainfo.catIds : det.catIds;
    const classes = ds.metainfo.classes ?? det.classes;
    const results: CocoResult[] = [];
    if (o.showDir) fs.mkdirSync(o.showDir, { recursive: true });
    const style = o.showDir ? pictureStyle(det) : {};
    const batchSize = dlCfg.batch_size ?? 1;
    const r = await evaluateModel(det.model, loader, evaluator, {
      label: 'test',
      progress: o.progress,
      maxBatches: o.maxImages !== undefined ? Math.ceil(o.maxImages / batchSize) : undefined,
      onBatch: async (samples) => {
        for (const s of samples) {
          const inst = s.predInstances!;
          if (o.out) results.push(...toCocoResults(inst, s.metainfo.imgId, catIds));
          if (o.showDir && s.metainfo.imgPath) {
            const img = await decodeImage(fs.readFileSync(s.metainfo.imgPath));
            const png = await drawInstances({ ...img, channelOrder: 'bgr' }, filterInstances(inst, o.showScoreThr ?? 0.3), { ...style, classes, palette: (ds.metainfo as { palette?: [number, number, number][] }).palette });
            fs.writeFileSync(path.join(o.showDir, `${path.basename(s.metainfo.imgPath).replace(/\.[^.]+$/, '')}.png`), png);
          }
        }
      },
    });
    let resultsFile: string | undefined;
    if (o.out) {
      resultsFile = path.resolve(o.out);
      fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
      fs.writeFileSync(resultsFile, JSON.stringify(results));
    }
    return { ...r, resultsFile, numResults: results.length };
  } finally {
    await loader.close();
    if (!o.detector) det.dispose();
  }
}
