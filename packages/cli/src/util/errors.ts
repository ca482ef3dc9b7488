// SPDX-License-Identifier: Apache-2.0
/**
 * Error reporting for the `solo` commands.
 *
 * - a `SoloError` (a user error) prints `error: <message, location, expected, hint>` and exits 1, with the
 *   stack trace only under `--debug` (or `SOLO_DEBUG=1`);
 * - anything else is a bug: it prints the stack and asks for a report, and exits 1;
 * - commander's usage errors (unknown option, missing argument) exit 2 (handled in `main.ts`).
 */
import { Command } from 'commander';
import { isSoloError } from '@solo-ts/core';

/** Thrown by `action()` after the error has been reported; `main` turns it into the exit code. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

export const BUG_REPORT_URL = 'https://github.com/solo-ts/solo-ts/issues';

/** Whether stack traces were asked for: `--debug` on the command line (any level) or `SOLO_DEBUG=1`. */
export function isDebug(cmd?: Command): boolean {
  if (process.env.SOLO_DEBUG && process.env.SOLO_DEBUG !== '0') return true;
  for (let c: Command | null | undefined = cmd; c; c = c.parent) {
    if (c.opts().debug === true) return true;
  }
  return false;
}

function causeChain(err: unknown): string {
  let text = '';
  let cause = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const c = cause as { stack?: string; message?: string };
    text += `caused by: ${c.stack ?? c.message ?? String(cause)}\n`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return text;
}

/** Print an error the way the CLI does and return the exit code (always 1). */
export function reportError(err: unknown, debug: boolean, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (isSoloError(err)) {
    write(`error: ${err.format()}\n`);
    if (debug) write(`${err.stack ?? ''}\n${causeChain(err)}`);
    return 1;
  }
  const e = err as { stack?: string; message?: string; name?: string };
  const stack = e?.stack ?? String(err);
  write(`${stack}\n${causeChain(err)}`);
  write(
    `error: unexpected ${e?.name ?? 'error'}: ${e?.message ?? String(err)}\n` +
      `This is a bug in solo-ts, not a problem with your input. Please report it at ${BUG_REPORT_URL}\n` +
      'with the command you ran and the stack trace above.\n',
  );
  return 1;
}

/**
 * Wrap a commander action: errors are reported (see the module comment) and turned into a `CliExit`, which
 * `main` converts to the process exit code. Use it for every command:
 * `program.command('x').action(action(async (arg, opts, cmd) => { ... }))`.
 */
export function action<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => Promise<void> {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CliExit) throw err;
      const cmd = args[args.length - 1];
      throw new CliExit(reportError(err, isDebug(cmd instanceof Command ? cmd : undefined)));
    }
  };
}
