// SPDX-License-Identifier: Apache-2.0
// A full disk, simulated: writes to temp files fail with ENOSPC once `diskFull` is set.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const state = vi.hoisted(() => ({ diskFull: false, failAfterBytes: 0, onlyPaths: '.tmp-' }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const open: typeof fs.promises.open = async (...args: Parameters<typeof fs.promises.open>) => {
    const fh = await fs.promises.open(...args);
    if (!state.diskFull || !String(args[0]).includes(state.onlyPaths)) return fh;
    let written = 0;
    return new Proxy(fh, {
      get(target, prop, receiver) {
        if (prop === 'write') {
          return async (buf: Uint8Array, off: number, len: number) => {
            const room = state.failAfterBytes - written;
            if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            const r = await target.write(buf, off, Math.min(len, room));
            written += r.bytesWritten;
            return r;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
  return { ...fs, default: fs, promises: { ...fs.promises, open } };
});

const { loadCheckpoint, readLastCheckpoint, saveCheckpoint } = await import('./node.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'solo-ckpt-full-'));
  state.diskFull = false;
  state.onlyPaths = '.tmp-';
});
afterEach(() => {
  state.diskFull = false;
  rmSync(dir, { recursive: true, force: true });
});

describe('saveCheckpoint on a full disk', () => {
  it('fails clearly, removes the temp file, keeps the old checkpoint and pointer', async () => {
    const t = (v: number) => ({ w: { dtype: 'float32' as const, shape: [1000], data: new Float32Array(1000).fill(v) } });
    const a = join(dir, 'epoch_1.safetensors');
    await saveCheckpoint(a, { tensors: t(1), meta: { epoch: 1 } }, { updatePointer: true });
    state.diskFull = true;
    state.failAfterBytes = 1500; // part of the file fits, then ENOSPC
    await expect(saveCheckpoint(join(dir, 'epoch_2.safetensors'), { tensors: t(2), meta: { epoch: 2 } }, { updatePointer: true })).rejects.toThrowError(
      /cannot write checkpoint .*epoch_2\.safetensors: no space left on device/,
    );
    // overwriting the existing file fails the same way and leaves it intact
    await expect(saveCheckpoint(a, { tensors: t(3), meta: { epoch: 3 } })).rejects.toThrowError(/no space left on device/);
    state.diskFull = false;
    expect(readdirSync(dir).sort()).toEqual(['epoch_1.safetensors', 'last_checkpoint']);
    expect(await readLastCheckpoint(dir)).toBe(a);
    const ck = await loadCheckpoint(a);
    expect(ck.meta).toEqual({ epoch: 1 });
    expect((ck.tensors.get('w')!.data as Float32Array)[999]).toBe(1);
  });

  it('does not move the pointer when writing the pointer itself fails', async () => {
    const t = { w: { dtype: 'float32' as const, shape: [4], data: new Float32Array(4) } };
    const a = join(dir, 'a.safetensors');
    await saveCheckpoint(a, { tensors: t }, { updatePointer: true });
    state.diskFull = true;
    state.onlyPaths = 'last_checkpoint.tmp-'; // the checkpoint itself fits, the pointer's temp file does not
    state.failAfterBytes = 0;
    const b = join(dir, 'b.safetensors');
    await expect(saveCheckpoint(b, { tensors: t }, { updatePointer: true })).rejects.toThrowError(/cannot write checkpoint pointer .*last_checkpoint: no space left/);
    state.diskFull = false;
    expect(await readLastCheckpoint(dir)).toBe(a);
    expect(readdirSync(dir).sort()).toEqual(['a.safetensors', 'b.safetensors', 'last_checkpoint']);
    expect((await loadCheckpoint(b)).tensors.size).toBe(1);
  });
});
