// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeAdapter, SWIFTSHADER_ICD, swiftshaderRequested } from './webgpu-node.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** selectBackend('webgpu') in a child process with `env` added; its JSON report. */
function selectInChild(env: Record<string, string>): Record<string, unknown> {
  const clean = { ...process.env };
  delete clean['VK_ICD_FILENAMES'];
  delete clean['SOLO_WEBGPU_SWIFTSHADER'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions', 'source', path.join(here, '__fixtures__', 'webgpu-select.ts')],
    { encoding: 'utf8', timeout: 90_000, env: { ...clean, ...env } });
  expect(r.error, String(r.error)).toBeUndefined();
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('webgpu in Node (Dawn)', () => {
  it('SOLO_WEBGPU_SWIFTSHADER: 1 / true ask for SwiftShader; unset, empty, 0, false do not', () => {
    expect(swiftshaderRequested({ SOLO_WEBGPU_SWIFTSHADER: '1' })).toBe(true);
    expect(swiftshaderRequested({ SOLO_WEBGPU_SWIFTSHADER: 'true' })).toBe(true);
    for (const v of [undefined, '', '0', 'false', 'FALSE']) expect(swiftshaderRequested({ SOLO_WEBGPU_SWIFTSHADER: v })).toBe(false);
  });

  it('describes an adapter in one line, flagging software ones', () => {
    expect(describeAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', software: false }))
      .toBe('nvidia hopper, NVIDIA H100 80GB HBM3');
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader', device: 'x', description: 'SwiftShader driver 5.0.0', software: true }))
      .toBe('google swiftshader, SwiftShader driver 5.0.0 — software GPU, for correctness only');
  });

  it('no Vulkan driver: a BACKEND SoloError naming what to install and VK_ICD_FILENAMES', () => {
    const r = selectInChild({ VK_ICD_FILENAMES: path.join(here, 'no-such-icd.json') });
    expect(r).toMatchObject({ ok: false, solo: true, code: 'BACKEND' });
    expect(r.message).toMatch(/no WebGPU adapter found \(VK_ICD_FILENAMES=.*no-such-icd\.json\)/);
    expect(r.hint).toMatch(/libvulkan1/);
    expect(r.hint).toMatch(/VK_ICD_FILENAMES/);
    expect(r.hint).toMatch(/SOLO_WEBGPU_SWIFTSHADER=1/);
  });

  it.skipIf(!existsSync(SWIFTSHADER_ICD))('SOLO_WEBGPU_SWIFTSHADER=1 starts webgpu on SwiftShader and names the adapter', () => {
    const r = selectInChild({ SOLO_WEBGPU_SWIFTSHADER: '1' });
    expect(r).toMatchObject({ ok: true, name: 'webgpu', adapter: { architecture: 'swiftshader', software: true } });
    expect(r.detail).toMatch(/^webgpu \(Dawn, google swiftshader, SwiftShader driver .* — software GPU, for correctness only\)$/);
  });
});
