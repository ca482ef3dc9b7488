// SPDX-License-Identifier: Apache-2.0
/**
 * examples/browser in headless Chromium (Debian's `chromium`, driven by playwright-core, which downloads no browser):
 * the page, bundled with esbuild and served with the cross-origin isolation headers, loads the Light SOLOv2 R18
 * golden variant of ../shared/parity exported to ONNX and the golden image, runs onnxruntime-web (WebGPU where the
 * browser has it; here, with the GPU disabled, wasm with threads) and the host post-processing; its detections must
 * be Node's (`buildDetector(model.onnx)` + `inferImage`): same count and labels, scores within 1e-4, boxes within
 * one pixel, mask areas within 1%. Skipped with a message when /usr/bin/chromium is absent, except in CI (`CI` set).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { configFromYAML } from '@solo-ts/config';
import { setupTestBackend } from '@solo-ts/testing';
import { buildDetector, exportOnnx, inferImage, type InferResult } from '@solo-ts/apis';
import { parityPath } from '../helpers/npy.js';
import { variantConfig } from '../parity/solo-parity.js';
import { env as ortWebEnv } from 'onnxruntime-web';
import { buildPage, serve } from '../../scripts/browser-example.mjs';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI installs Debian's chromium (.ci/run)`);
if (!HAVE_CHROMIUM) console.warn(`skipping the browser test: ${CHROMIUM} is missing (apt-get install -y --no-install-recommends chromium)`);

const V = 'solov2-light_r18_fpn_ms-3x_coco' as const;
const CLASSES = ['person', 'car', 'bus', 'boat', 'bird', 'cat', 'dog', 'bottle'];
const IMAGE = parityPath('image', 'image.png');

interface PageResult {
  provider: string;
  ortVersion: string;
  crossOriginIsolated: boolean;
  instances: Array<{ label: number; score: number; bbox: number[]; area: number }>;
  ms: Record<string, number>;
}

describe.skipIf(!HAVE_CHROMIUM)('examples/browser in headless Chromium', () => {
  let dir: string;
  let server: Server;
  let context: BrowserContext;
  let node: InferResult;

  beforeAll(async () => {
    await setupTestBackend('cpu');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-browser-'));
    const v = variantConfig(V) as unknown as { model: Record<string, unknown>; test_pipeline: unknown[] };
    const cfg = configFromYAML(JSON.stringify({ model: v.model, test_dataloader: { dataset: { pipeline: v.test_pipeline, metainfo: { classes: CLASSES } } } }), `${V}/config.json`);
    const det = await buildDetector(cfg, { checkpoint: parityPath(V, 'checkpoint.pth') });
    fs.writeFileSync(path.join(dir, 'light.onnx'), exportOnnx(det).bytes);
    det.dispose();
    const ortDet = await buildDetector(path.join(dir, 'light.onnx'));
    node = await inferImage(ortDet, IMAGE);
    ortDet.dispose();
    await buildPage();
    server = await serve({ mounts: { '/files': dir, '/parity': path.dirname(IMAGE) } });
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(null)));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("draws the model's detections, the same as Node's", async () => {
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(String(e)));
    const { port } = server.address() as { port: number };
    await page.goto(`http://127.0.0.1:${port}/?model=/files/light.onnx&image=/parity/image.png`);
    await page.waitForFunction(() => (window as unknown as { soloResult?: unknown; soloError?: unknown }).soloResult ?? (window as unknown as { soloError?: unknown }).soloError, undefined, { timeout: 180_000 });
    const error = await page.evaluate(() => (window as unknown as { soloError?: string }).soloError);
    expect(error, logs.join('\n')).toBeUndefined();
    const r = (await page.evaluate(() => (window as unknown as { soloResult: unknown }).soloResult)) as PageResult;
    console.log(`browser: ${r.instances.length} instances on ${r.provider}; ms ${JSON.stringify(r.ms)}`);
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.ortVersion).toBe(ortWebEnv.versions.web);
    expect(r.provider).toMatch(/^(webgpu|wasm \(\d+ threads?\))$/);
    if (os.availableParallelism() > 1) expect(r.provider).not.toBe('wasm (1 thread)');
    const n = node.instances.scores!.length;
    expect(n).toBe(variantConfig(V).num_predictions);
    expect(r.instances.length).toBe(n);
    const m = node.instances.masks!;
    const hw = m.height * m.width;
    r.instances.forEach((x, i) => {
      expect(x.label).toBe(node.instances.labels![i]);
      expect(Math.abs(x.score - node.instances.scores![i])).toBeLessThanOrEqual(1e-4);
      x.bbox.forEach((b, k) => expect(Math.abs(b - node.instances.bboxes![4 * i + k])).toBeLessThanOrEqual(1));
      const area = m.data.subarray(i * hw, (i + 1) * hw).reduce((a, b) => a + b, 0);
      expect(Math.abs(x.area - area) / Math.max(1, area)).toBeLessThan(0.01);
    });
    // something was drawn on the canvas
    const size = await page.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      return [c.width, c.height];
    });
    expect(size).toEqual([640, 427]);
    await page.close();
  });
});
