// SPDX-License-Identifier: Apache-2.0
import { PARITY_ROOT } from '../../../../test/helpers/shared-dir.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSoloError } from '@solo-ts/core';
import { readOnnxMetadata } from '@solo-ts/onnx';
import { exportCommand } from './export.js';

const V = `${PARITY_ROOT}/solov2-light_r18_fpn_ms-3x_coco`;
const dir = mkdtempSync(join(tmpdir(), 'solo-export-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The golden variant's resolved model and test pipeline as a config file. */
function variantConfigFile(): string {
  const c = JSON.parse(readFileSync(`${V}/config.json`, 'utf8')) as { model: unknown; test_pipeline: unknown };
  const file = join(dir, 'v2light.yaml');
  writeFileSync(file, JSON.stringify({ model: c.model, test_dataloader: { dataset: { pipeline: c.test_pipeline } } }));
  return file;
}

describe.skipIf(!existsSync(V))('solo export', () => {
  it('writes an .onnx file with the solo-ts metadata and says what it wrote', async () => {
    const out = join(dir, 'm.onnx');
    const lines: string[] = [];
    const r = await exportCommand(variantConfigFile(), { checkpoint: `${V}/checkpoint.pth`, out }, 'cpu', (l) => lines.push(l));
    expect(r.opset).toBe(17);
    expect(r.outputs).toEqual(['mlvlKernelPreds_0..4', 'mlvlClsPreds_0..4', 'maskFeats']);
    expect(lines.some((l) => l.startsWith('writing the graph'))).toBe(true);
    const meta = readOnnxMetadata(readFileSync(out), out);
    expect(meta.outputs).toEqual({ mlvlKernelPreds: 5, mlvlClsPreds: 5, maskFeats: null });
    expect(meta.model.type).toBe('SOLOv2');
  });

  it('refuses to overwrite without --force, and a bad --opset, as user errors', async () => {
    const cfg = variantConfigFile();
    const out = join(dir, 'exists.onnx');
    writeFileSync(out, 'x');
    for (const [opts, msg] of [
      [{ checkpoint: `${V}/checkpoint.pth`, out }, /exists/],
      [{ checkpoint: `${V}/checkpoint.pth`, out: join(dir, 'o.onnx'), opset: '12' }, /opset 12 is not supported/],
      [{ checkpoint: `${V}/checkpoint.pth`, out: join(dir, 'o.onnx'), opset: 'x' }, /--opset must be an integer/],
      [{ checkpoint: join(dir, 'nope.pth'), out: join(dir, 'o.onnx') }, /nope\.pth/],
    ] as const) {
      const err = await exportCommand(cfg, opts, 'cpu', () => {}).catch((e: unknown) => e);
      expect(isSoloError(err), String(err)).toBe(true);
      expect((err as Error).message).toMatch(msg);
    }
    expect(existsSync(join(dir, 'o.onnx'))).toBe(false);
  });
});
