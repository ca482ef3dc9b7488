// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '@solo-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSafetensors } from './safetensors.js';
import { loadAnyCheckpoint, loadCheckpoint, readLastCheckpoint, saveCheckpoint, writeLastCheckpoint, LAST_CHECKPOINT_FILE } from './node.js';
import type { TensorLike } from './tensor.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'solo-ckpt-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tensors(seed: number): Record<string, TensorLike> {
  return {
    'backbone.conv1.weight': { dtype: 'float32', shape: [2, 3, 1, 1], data: Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - seed) },
    'backbone.bn1.num_batches_tracked': { dtype: 'int64', shape: [], data: new BigInt64Array([BigInt(seed)]) },
    'head.half': { dtype: 'float16', shape: [2], data: new Float32Array([0.5, -seed]) },
    'mask.bool': { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
  };
}
const meta = (step: number) => ({ config: { model: { type: 'SOLO' } }, step, epoch: 1, iter: step, optimizer: { lr: 0.01, state: [[1, 2]] }, rng: [1, 2, 3], dataset: { fingerprint: 'abc' } });

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips tensors and metadata and updates last_checkpoint', async () => {
    const file = join(dir, 'epoch_1.safetensors');
    const res = await saveCheckpoint(file, { tensors: tensors(1), meta: meta(10) }, { updatePointer: true });
    expect(res.path).toBe(file);
    expect(res.bytes).toBe(readFileSync(file).length);
    const ck = await loadCheckpoint(file);
    expect(ck.format).toBe('solo-ts');
    expect(ck.meta).toEqual(meta(10));
    expect([...ck.tensors.keys()].sort()).toEqual(Object.keys(tensors(1)).sort());
    for (const [k, t] of Object.entries(tensors(1))) {
      expect(ck.tensors.get(k)!.dtype).toBe(t.dtype);
      expect(ck.tensors.get(k)!.shape).toEqual(t.shape);
      expect(ck.tensors.get(k)!.data).toEqual(t.data);
    }
    expect(readFileSync(join(dir, LAST_CHECKPOINT_FILE), 'utf8')).toBe('epoch_1.safetensors\n');
    expect(await readLastCheckpoint(dir)).toBe(file);
    // any safetensors reader sees the tensors and our metadata keys
    const plain = decodeSafetensors(new Uint8Array(readFileSync(file)));
    expect(plain.metadata?.format).toBe('solo-ts-checkpoint');
    expect(plain.metadata?.data_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(plain.metadata!.meta)).toEqual(meta(10));
    const any = await loadAnyCheckpoint(file);
    expect(any.format).toBe('solo-ts');
    expect(any.stateDict.size).toBe(4);
    expect(readdirSync(dir).sort()).toEqual(['epoch_1.safetensors', LAST_CHECKPOINT_FILE]);
  });

  it('leaves last_checkpoint on the last good file when a save crashes midway', async () => {
    const a = join(dir, 'epoch_1.safetensors');
    await saveCheckpoint(a, { tensors: tensors(1), meta: meta(1) }, { updatePointer: true });
    // a crash while writing epoch_2: only a partial temp file exists (the rename never happened)
    const full = readFileSync(a);
    writeFileSync(join(dir, `epoch_2.safetensors.tmp-12345-deadbeef0000`), full.subarray(0, full.length >> 1));
    expect(await readLastCheckpoint(dir)).toBe(a);
    expect((await loadCheckpoint(a)).meta).toEqual(meta(1));
    await expect(loadCheckpoint(join(dir, 'epoch_2.safetensors'))).rejects.toThrowError(/file not found/);
    // the next save works and moves the pointer
    const b = join(dir, 'epoch_2.safetensors');
    await saveCheckpoint(b, { tensors: tensors(2), meta: meta(2) }, { updatePointer: true });
    expect(await readLastCheckpoint(dir)).toBe(b);
    // overwriting an existing checkpoint replaces it whole
    await saveCheckpoint(a, { tensors: tensors(3), meta: meta(3) });
    expect((await loadCheckpoint(a)).meta).toEqual(meta(3));
    expect(await readLastCheckpoint(dir)).toBe(b);
  });

  it('refuses a truncated file, naming it', async () => {
    const file = join(dir, 'c.safetensors');
    await saveCheckpoint(file, { tensors: tensors(1), meta: meta(1) });
    const size = readFileSync(file).length;
    truncateSync(file, size - 3);
    await expect(loadCheckpoint(file)).rejects.toThrowError(CheckpointError);
    await expect(loadCheckpoint(file)).rejects.toThrowError(new RegExp(`${file.replace(/[.]/g, '\\.')}: file is truncated: expected ${size} bytes, found ${size - 3}`));
    truncateSync(file, 40);
    await expect(loadCheckpoint(file)).rejects.toThrowError(/truncated/);
    truncateSync(file, 0);
    await expect(loadCheckpoint(file)).rejects.toThrowError(/truncated/);
  });

  it('detects a flipped byte in the data (sha256) and in the header', async () => {
    const file = join(dir, 'c.safetensors');
    await saveCheckpoint(file, { tensors: tensors(1), meta: meta(1) });
    const good = new Uint8Array(readFileSync(file));
    const bad = good.slice();
    bad[bad.length - 3] ^= 0x01;
    writeFileSync(file, bad);
    await expect(loadCheckpoint(file)).rejects.toThrowError(/c\.safetensors: tensor data checksum mismatch .* the file is corrupted/);
    // change the recorded step inside the header, keeping the JSON valid
    const text = new TextDecoder('latin1').decode(good);
    const at = text.indexOf('\\"step\\":1');
    expect(at).toBeGreaterThan(0);
    const bad2 = good.slice();
    bad2[at + '\\"step\\":'.length] = '7'.charCodeAt(0);
    writeFileSync(file, bad2);
    await expect(loadCheckpoint(file)).rejects.toThrowError(/header checksum mismatch/);
    // break the JSON itself
    const bad3 = good.slice();
    bad3[8] = 0x5d; // '{' -> ']'
    writeFileSync(file, bad3);
    await expect(loadCheckpoint(file)).rejects.toThrowError(/header is not valid UTF-8 JSON/);
  });

  it('gives a clear error for unwritable destinations and leaves no temp file', async () => {
    const notADir = join(dir, 'plainfile');
    writeFileSync(notADir, 'x');
    await expect(saveCheckpoint(join(notADir, 'c.safetensors'), { tensors: tensors(1) })).rejects.toThrowError(/cannot write checkpoint .*c\.safetensors: a component of .* is not a directory/);
    await expect(saveCheckpoint(join(dir, 'missing', 'c.safetensors'), { tensors: tensors(1) })).rejects.toThrowError(/directory .*missing does not exist/);
    // target is a directory: the rename fails after the temp file was written, which must be cleaned up
    const sub = join(dir, 'adir.safetensors');
    await import('node:fs').then((fs) => fs.mkdirSync(join(sub, 'inner'), { recursive: true }));
    await expect(saveCheckpoint(sub, { tensors: tensors(1) }, { updatePointer: true })).rejects.toThrowError(CheckpointError);
    expect(readdirSync(dir).sort()).toEqual(['adir.safetensors', 'plainfile']);
    if (process.getuid && process.getuid() !== 0) {
      const ro = join(dir, 'ro');
      await import('node:fs').then((fs) => fs.mkdirSync(ro));
      chmodSync(ro, 0o555);
      await expect(saveCheckpoint(join(ro, 'c.safetensors'), { tensors: tensors(1) })).rejects.toThrowError(/permission denied/);
      chmodSync(ro, 0o755);
    }
  });

  it('refuses metadata that is not JSON and writes nothing', async () => {
    await expect(saveCheckpoint(join(dir, 'c.safetensors'), { tensors: tensors(1), meta: { step: 1n } })).rejects.toThrowError(/not JSON-serialisable/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('last_checkpoint pointer', () => {
  it('is undefined without a pointer, and errors when it points nowhere', async () => {
    expect(await readLastCheckpoint(dir)).toBeUndefined();
    writeFileSync(join(dir, LAST_CHECKPOINT_FILE), 'gone.safetensors\n');
    await expect(readLastCheckpoint(dir)).rejects.toThrowError(/points to .*gone\.safetensors, which does not exist/);
    await expect(writeLastCheckpoint(dir, join(dir, 'gone.safetensors'))).rejects.toThrowError(/refusing to point/);
  });

  it('stores absolute paths for files outside the work dir', async () => {
    const other = mkdtempSync(join(tmpdir(), 'solo-ckpt-other-'));
    try {
      const f = join(other, 'x.safetensors');
      await saveCheckpoint(f, { tensors: tensors(1) });
      await writeLastCheckpoint(dir, f);
      expect(readFileSync(join(dir, LAST_CHECKPOINT_FILE), 'utf8').trim()).toBe(f);
      expect(await readLastCheckpoint(dir)).toBe(f);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
