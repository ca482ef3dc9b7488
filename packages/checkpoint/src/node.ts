// SPDX-License-Identifier: Apache-2.0
/**
 * Checkpoint files on disk (Node only: `node:fs`, `node:crypto`, `node:zlib`).
 *
 * Saving is atomic: the file image is written to `<path>.tmp-<pid>-<random>`, fsynced, renamed over `<path>`, and
 * the directory is fsynced; only then is the `last_checkpoint` pointer of that directory replaced (by the same
 * procedure). A crash or a full disk therefore leaves either the old or the new file, never a partial one, and the
 * pointer always names a complete file. On failure the temporary file is removed and a `CheckpointError` says why.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, promises as fsp, readSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CheckpointError } from '@solo-ts/core';
import { readAnyCheckpoint, type AnyCheckpoint } from './any.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData, type HashFactory, type LoadedCheckpoint } from './checkpoint-format.js';
import { pthToCheckpoint, type ConversionSummary, type ConvertOptions } from './convert.js';
import { readPth, type PthObject } from './pth.js';
import type { InflateRaw } from './zip.js';

/** SHA-256 backed by `node:crypto`. */
export const nodeSha256: HashFactory = () => {
  const h = createHash('sha256');
  return {
    update: (b: Uint8Array) => h.update(b),
    hex: () => h.digest('hex'),
  };
};

/**
 * SHA-256 (hex) of a file's bytes, read in 4 MiB pieces (a checkpoint's identity: the ONNX export records it, the
 * export cache is keyed by it). Synchronous: it runs once per command, before any work that could overlap it.
 */
export function fileSha256(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = new Uint8Array(1 << 22);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** DEFLATE inflater backed by `node:zlib`. */
export const nodeInflateRaw: InflateRaw = (data) => zlib.inflateRawSync(data);

/** `zlib.crc32` (Node >= 20.15), else undefined (the pure implementation is used). */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
export const nodeCrc32: ((data: Uint8Array) => number) | undefined = zlibCrc32 ? (d) => zlibCrc32(d) >>> 0 : undefined;

/** Name of the pointer file (as in mmengine's work dirs). */
export const LAST_CHECKPOINT_FILE = 'last_checkpoint';

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

function describeFsError(e: unknown, file: string): string {
  const dir = path.dirname(path.resolve(file));
  switch (errCode(e)) {
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (is ${dir} writable?)`;
    case 'EROFS':
      return 'read-only file system';
    case 'ENOENT':
      return `directory ${dir} does not exist`;
    case 'ENOTDIR':
      return `a component of ${dir} is not a directory`;
    case 'EISDIR':
      return `${file} is a directory`;
    default:
      return (e as Error)?.message ?? String(e);
  }
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    const b = await fsp.readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = errCode(e);
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CheckpointError(`cannot read checkpoint ${file}: ${why}`, { cause: e });
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms / file systems cannot fsync a directory (Windows, some network FS): nothing more to do.
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'].includes(errCode(e) ?? '')) throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes `bytes` to `target` atomically (temp file, fsync, rename, directory fsync). On failure removes the temp
 * file and throws a `CheckpointError` naming `target` and the reason.
 */
export async function atomicWriteFile(target: string, bytes: Uint8Array, what = 'file'): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
      if (bytesWritten <= 0) throw new Error('write made no progress');
      off += bytesWritten;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    const st = await fsp.stat(tmp);
    if (st.size !== bytes.length) throw new Error(`wrote ${st.size} of ${bytes.length} bytes`);
    await fsp.rename(tmp, target);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw new CheckpointError(`cannot write ${what} ${target}: ${describeFsError(e, target)}`, { cause: e });
  }
  try {
    await fsyncDir(path.dirname(path.resolve(target)));
  } catch (e) {
    throw new CheckpointError(`cannot write ${what} ${target}: syncing its directory failed (${describeFsError(e, target)})`, { cause: e });
  }
}

export interface SaveCheckpointOptions {
  /** Also point `<dir>/last_checkpoint` at the new file, after it is safely on disk (default false). */
  updatePointer?: boolean;
}

export interface SaveCheckpointResult {
  /** Absolute path written. */
  path: string;
  /** File size in bytes. */
  bytes: number;
  dataSha256: string;
  headerSha256: string;
}

/** Saves tensors + JSON metadata as one checksummed safetensors file, atomically. */
export async function saveCheckpoint(file: string, ckpt: CheckpointData, options: SaveCheckpointOptions = {}): Promise<SaveCheckpointResult> {
  const abs = path.resolve(file);
  const { bytes, dataSha256, headerSha256 } = encodeCheckpoint(ckpt, nodeSha256);
  await atomicWriteFile(abs, bytes, 'checkpoint');
  if (options.updatePointer) await writeLastCheckpoint(path.dirname(abs), abs);
  return { path: abs, bytes: bytes.length, dataSha256, headerSha256 };
}

/** Loads and verifies a checkpoint written by `saveCheckpoint` (or loads a plain safetensors file). */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  return decodeCheckpoint(await readBytes(file), { name: file, hash: nodeSha256 });
}

/** Points `<workDir>/last_checkpoint` at `file` (stored relative to workDir when inside it), atomically. */
export async function writeLastCheckpoint(workDir: string, file: string): Promise<void> {
  const dir = path.resolve(workDir);
  const abs = path.resolve(dir, file);
  let size = -1;
  try {
    size = (await fsp.stat(abs)).size;
  } catch {
    /* reported below */
  }
  if (size <= 0) throw new CheckpointError(`refusing to point ${path.join(dir, LAST_CHECKPOINT_FILE)} at ${abs}: the file is missing or empty`);
  const rel = path.relative(dir, abs);
  const content = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
  await atomicWriteFile(path.join(dir, LAST_CHECKPOINT_FILE), new TextEncoder().encode(`${content}\n`), 'checkpoint pointer');
}

/** The checkpoint `<workDir>/last_checkpoint` points at (absolute path), or undefined when there is no pointer. */
export async function readLastCheckpoint(workDir: string): Promise<string | undefined> {
  const dir = path.resolve(workDir);
  const pointer = path.join(dir, LAST_CHECKPOINT_FILE);
  let text: string;
  try {
    text = await fsp.readFile(pointer, 'utf8');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw new CheckpointError(`cannot read ${pointer}: ${(e as Error).message}`, { cause: e });
  }
  const target = text.trim();
  if (!target) throw new CheckpointError(`${pointer} is empty`);
  const abs = path.resolve(dir, target);
  try {
    await fsp.access(abs);
  } catch {
    throw new CheckpointError(`${pointer} points to ${abs}, which does not exist`);
  }
  return abs;
}

export interface LoadPthOptions {
  /** Verify zip CRC-32s (default true). */
  verifyCrc?: boolean;
}

/** Reads a PyTorch `.pth` file (zip or legacy format). */
export async function loadPthFile(file: string, options: LoadPthOptions = {}): Promise<PthObject> {
  return readPth(await readBytes(file), { name: file, inflateRaw: nodeInflateRaw, verifyCrc: options.verifyCrc, crc32: nodeCrc32 });
}

/** Loads any checkpoint (`.pth` by content, else safetensors) as `{stateDict, meta, format, layout}`. */
export async function loadAnyCheckpoint(file: string, options: { stripPrefixes?: string[] } = {}): Promise<AnyCheckpoint> {
  return readAnyCheckpoint(await readBytes(file), { name: file, inflateRaw: nodeInflateRaw, crc32: nodeCrc32, hash: nodeSha256, stripPrefixes: options.stripPrefixes });
}

export interface ConvertFileOptions extends ConvertOptions {
  /** Replace an existing output file (default false). */
  overwrite?: boolean;
}

export interface ConvertFileResult extends ConversionSummary {
  /** Absolute output path. */
  outPath: string;
  /** Output file size. */
  fileBytes: number;
}

/** Converts a `.pth` file (mmdetection, torchvision, ...) into a solo-ts checkpoint file (PyTorch layout kept). */
export async function convertPthToSafetensors(inPath: string, outPath: string, options: ConvertFileOptions = {}): Promise<ConvertFileResult> {
  if (!options.overwrite) {
    const exists = await fsp.stat(outPath).then(
      () => true,
      () => false,
    );
    if (exists) throw new CheckpointError(`output ${outPath} already exists`, { hint: 'pass --force (overwrite: true) to replace it' });
  }
  const obj = readPth(await readBytes(inPath), { name: inPath, inflateRaw: nodeInflateRaw, crc32: nodeCrc32 });
  const c = pthToCheckpoint(obj, { ...options, name: inPath });
  const saved = await saveCheckpoint(outPath, { tensors: c.tensors, meta: c.meta });
  return { ...c.summary, outPath: saved.path, fileBytes: saved.bytes };
}
