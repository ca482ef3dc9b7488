// SPDX-License-Identifier: Apache-2.0
/// <reference lib="dom" />
/**
 * The page: pick (or pass as `?model=URL&image=URL`) an exported model and an image; the detections are drawn on
 * the canvas and listed, and published as `window.soloResult` (labels, scores, boxes, mask areas) for tests.
 */
import { detect, imageToBgr, loadDetector, type BrowserDetector } from './detect.js';
import { drawDetections } from './draw.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string) => ($('status').textContent = text);
const params = new URLSearchParams(location.search);
const wasmPaths = new URL('./ort/', import.meta.url).href; // dist/ort/ beside the bundle

let det: BrowserDetector | null = null;
let image: ImageBitmap | null = null;

async function run(): Promise<void> {
  if (!det || !image) return;
  status('running...');
  const r = await detect(det, imageToBgr(image));
  const inst = r.instances;
  const n = inst.scores?.length ?? 0;
  const shown = drawDetections($('canvas'), image, inst, det.meta.classes, Number(params.get('thr') ?? 0.3));
  const hw = inst.masks ? inst.masks.height * inst.masks.width : 0;
  const items = [...Array(n).keys()].map((i) => ({
    label: inst.labels?.[i] ?? 0,
    score: inst.scores![i],
    bbox: inst.bboxes ? Array.from(inst.bboxes.subarray(4 * i, 4 * i + 4)) : [],
    area: inst.masks ? inst.masks.data.subarray(i * hw, (i + 1) * hw).reduce((a, v) => a + (v ? 1 : 0), 0) : 0,
  }));
  $('list').textContent = items.filter((x) => x.score >= 0.3).map((x) => `${det!.meta.classes[x.label] ?? x.label} ${x.score.toFixed(3)}`).join('\n');
  status(`${n} instances (${shown} drawn) on ${det.provider}: pre-processing ${r.ms.preprocess.toFixed(0)} ms, network ${r.ms.network.toFixed(0)} ms, post-processing ${r.ms.postprocess.toFixed(0)} ms`);
  (window as unknown as { soloResult: unknown }).soloResult = { provider: det.provider, ortVersion: det.ortVersion, instances: items, ms: r.ms, crossOriginIsolated: globalThis.crossOriginIsolated };
}

async function setModel(bytes: Uint8Array): Promise<void> {
  status('loading the model...');
  det = await loadDetector(bytes, { wasmPaths, provider: (params.get('provider') as 'webgpu' | 'wasm' | null) ?? undefined });
  status(`model loaded (${det.meta.model.type as string}, ${det.meta.classes.length} classes) on ${det.provider}`);
  await run();
}

async function setImage(blob: Blob): Promise<void> {
  image = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  await run();
}

async function main(): Promise<void> {
  $<HTMLInputElement>('model').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) await setModel(new Uint8Array(await f.arrayBuffer())).catch(fail);
  });
  $<HTMLInputElement>('image').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) await setImage(f).catch(fail);
  });
  const m = params.get('model');
  const i = params.get('image');
  if (m) await setModel(new Uint8Array(await (await fetch(m)).arrayBuffer()));
  if (i) await setImage(await (await fetch(i)).blob());
}

function fail(e: unknown): void {
  status(`error: ${(e as Error).message ?? String(e)}`);
  (window as unknown as { soloError: string }).soloError = (e as Error).message ?? String(e);
}

main().catch(fail);
