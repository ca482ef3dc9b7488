// SPDX-License-Identifier: Apache-2.0
/** Test helper of the CLI tests (not part of the package build): run a commander program, capturing its output. */
import { type Command, CommanderError } from 'commander';
import { vi } from 'vitest';
import { CliExit } from '../util/errors.js';

export interface CliRun {
  /** 0, a `CliExit`'s exit code, or 2 for a commander usage error */
  code: number;
  out: string;
  err: string;
}

/** Parse `args` (without `node solo`) with `program`, capturing stdout and stderr; other errors propagate. */
export async function runCli(program: Command, args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  let code = 0;
  try {
    await program.parseAsync(['node', 'solo', ...args]);
  } catch (e) {
    if (e instanceof CliExit) code = e.exitCode;
    else if (e instanceof CommanderError) code = 2;
    else throw e;
  } finally {
    vi.restoreAllMocks();
  }
  return { code, out, err };
}
