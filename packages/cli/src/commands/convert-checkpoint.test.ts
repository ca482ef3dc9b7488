// SPDX-License-Identifier: Apache-2.0
import { PARITY_ROOT } from '../../../../test/helpers/shared-dir.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { isSoloError } from '@solo-ts/core';
import { loadCheckpoint } from '@solo-ts/checkpoint';
import { convertCheckpointCommand, registerConvertCheckpoint } from './convert-checkpoint.js';

const SMALL = fileURLToPath(new URL('../../../checkpoint/__fixtures__/small/', import.meta.url));
const PARITY = `${PARITY_ROOT}/solo_r50_fpn_1x_coco/checkpoint.pth`;
const dir = mkdtempSync(join(tmpdir(), 'solo-convert-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('solo convert-checkpoint', () => {
  it.skipIf(!existsSync(PARITY))('converts an mmdetection checkpoint and prints a summary', async () => {
    const out = join(dir, 'solo.safetensors');
    const text = await convertCheckpointCommand(PARITY, out);
    expect(text).toMatch(/tensors: +388 \(float32 335, int64 53\)/);
    expect(text).toMatch(/parameters: 400,876 /);
    const ck = await loadCheckpoint(out);
    expect(ck.tensors.get('backbone.conv1.weight')!.shape).toEqual([4, 3, 7, 7]);
    expect(ck.meta).toMatchObject({ source: 'pth', layout: 'pytorch', wrapper: 'state_dict', meta: { seed: 1102 } });
  });

  it('applies --prefix-map, refuses to overwrite without --force, prints JSON', async () => {
    const out = join(dir, 'w.safetensors');
    const r = JSON.parse(await convertCheckpointCommand(join(SMALL, 'model_wrapper.pth'), out, { prefixMap: ['fc.=head.fc.'], json: true }));
    expect(r).toMatchObject({ tensors: 2, parameters: 8, dtypes: { float32: 2 } });
    expect([...(await loadCheckpoint(out)).tensors.keys()].sort()).toEqual(['head.fc.bias', 'head.fc.weight']);
    await expect(convertCheckpointCommand(join(SMALL, 'model_wrapper.pth'), out)).rejects.toThrowError(/already exists/);
    await convertCheckpointCommand(join(SMALL, 'model_wrapper.pth'), out, { force: true });
  });

  it('reports a missing or broken input as a user error', async () => {
    for (const input of [join(dir, 'nope.pth'), join(SMALL, 'expected.json')]) {
      const err = await convertCheckpointCommand(input, join(dir, 'x.safetensors')).catch((e: unknown) => e);
      expect(isSoloError(err)).toBe(true);
      expect((err as Error).message).toContain(input);
    }
  });

  it('registers on a commander program and runs through it', async () => {
    const program = new Command('solo').exitOverride();
    registerConvertCheckpoint(program);
    const cmd = program.commands.find((c) => c.name() === 'convert-checkpoint')!;
    expect(cmd.options.map((o) => o.long)).toEqual(['--prefix-map', '--force', '--json']);
    const out = join(dir, 'cli.safetensors');
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'solo', 'convert-checkpoint', join(SMALL, 'state_dict.pth'), out, '--prefix-map', '0.=conv.', '--prefix-map', '3.=out.']);
    } finally {
      process.stdout.write = orig;
    }
    expect(writes.join('')).toMatch(/tensors: +8/);
    expect([...(await loadCheckpoint(out)).tensors.keys()].sort()).toEqual(['1.bias', '1.num_batches_tracked', '1.running_mean', '1.running_var', '1.weight', 'conv.weight', 'out.bias', 'out.weight']);
  });
});
