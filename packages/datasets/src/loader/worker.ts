// SPDX-License-Identifier: Apache-2.0
/**
 * Worker-thread entry of the data loader: builds the dataset from its config (registry with
 * @solo-ts/datasets plus the listed plugin packages) and runs `prepareData` on request. Errors are sent back
 * with their SoloError fields so the main thread can tell bad data (refetch) from bugs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ComponentModule, Registry } from '@solo-ts/core';
import { datasetsComponents } from '../components.js';
import type { DetDataset } from '../coco/coco-dataset.js';
import { sampleRng } from './sample-rng.js';

interface Init {
  datasetCfg: unknown;
  modules: string[];
}
interface Request {
  id: number;
  index: number;
  seedParts: [number, number, number, number, number];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('loader worker started outside a worker thread');
  const { datasetCfg, modules } = workerData as Init;
  let dataset: DetDataset;
  try {
    const registry = new Registry().load(datasetsComponents);
    for (const spec of modules) {
      const m = (await import(spec)) as Record<string, unknown>;
      for (const v of Object.values(m)) if (v instanceof ComponentModule) registry.load(v);
    }
    dataset = registry.build<DetDataset>('datasets', datasetCfg, 'dataset', { onWarning: () => undefined });
  } catch (e) {
    port.postMessage({ type: 'init-error', error: serializeError(e) });
    return;
  }
  port.on('message', (req: Request) => {
    dataset.prepareData(req.index, sampleRng(...req.seedParts)).then(
      (out) => port.postMessage({ type: 'result', id: req.id, out }),
      (e: unknown) => port.postMessage({ type: 'result', id: req.id, error: serializeError(e) }),
    );
  });
  port.postMessage({ type: 'ready' });
}

function serializeError(e: unknown): Record<string, unknown> {
  const err = e as { name?: string; message?: string; stack?: string; isSoloError?: boolean; code?: string; location?: unknown; hint?: string };
  return { name: err?.name, message: err?.message ?? String(e), stack: err?.stack, isSoloError: !!err?.isSoloError, code: err?.code, location: err?.location, hint: err?.hint };
}

void main();
