// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureShapesDataset, shapesDatasetMismatch } from './shapes-run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('ensureShapesDataset', () => {
  const settings = { numTrain: 3, numVal: 2, imageSize: [64, 48] as [number, number], seed: 5, maxObjects: 2, minSize: 12, maxSizeFrac: 0.5 };

  it('makes the dataset once, keeps it while the settings match, remakes it when they differ', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-shapes-'));
    dirs.push(dir);
    const lines: string[] = [];
    expect(await ensureShapesDataset(dir, settings, (l) => lines.push(l))).toBe(true);
    const train = path.join(dir, 'annotations', 'instances_train.json');
    const val = path.join(dir, 'annotations', 'instances_val.json');
    const info = JSON.parse(fs.readFileSync(train, 'utf8')).info;
    expect(info).toMatchObject({ seed: 5, image_size: [64, 48], num_images: 3, max_objects: 2, min_size: 12, max_size_frac: 0.5 });
    expect(shapesDatasetMismatch(train, val, settings)).toBeUndefined();
    expect(await ensureShapesDataset(dir, settings, (l) => lines.push(l))).toBe(false);

    expect(shapesDatasetMismatch(train, val, { ...settings, minSize: 16 })).toBe('instances_train.json: min_size 12, expected 16');
    expect(shapesDatasetMismatch(train, val, { ...settings, numVal: 4 })).toBe('instances_val.json: 2 images, expected 4');
    lines.length = 0;
    expect(await ensureShapesDataset(dir, { ...settings, minSize: 16 }, (l) => lines.push(l))).toBe(true);
    expect(lines[0]).toMatch(/holds a different synthetic dataset \(instances_train.json: min_size 12, expected 16\)/);
    expect(JSON.parse(fs.readFileSync(train, 'utf8')).info.min_size).toBe(16);
  }, 60_000);

  it('takes a dataset that was not made by make-shapes as it is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo-shapes-'));
    dirs.push(dir);
    const f = path.join(dir, 'a.json');
    fs.writeFileSync(f, JSON.stringify({ info: { description: 'my data' }, images: [], annotations: [], categories: [] }));
    expect(shapesDatasetMismatch(f, f, settings)).toBeUndefined();
    fs.writeFileSync(f, '{broken');
    expect(shapesDatasetMismatch(f, f, settings)).toMatch(/cannot be read as JSON/);
  });
});
