// SPDX-License-Identifier: Apache-2.0
/**
 * The `solo` program: global options, the subcommands of `commands/index.ts`, and exit codes.
 *
 * Exit codes: 0 success (and `--help`, `--version`); 1 an error (a `SoloError` prints only its message unless
 * `--debug`; anything else prints its stack as a bug); 2 a usage error (unknown option or command, missing
 * argument).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { registerCommands } from './commands/index.js';
import { CliExit, isDebug, reportError } from './util/errors.js';
import { BACKEND_CHOICES } from '@solo-ts/backends';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The commander program with every command registered (not parsed yet). */
export function createProgram(): Command {
  const program = new Command('solo');
  program
    .description('SOLO / SOLOv2 instance segmentation on TensorFlow.js: train, test, evaluate, convert checkpoints')
    .version(version(), '-V, --version', 'print the solo-ts version')
    .option('--debug', 'print stack traces for errors (also SOLO_DEBUG=1)')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKEND_CHOICES]).default('auto'),
    )
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Run the CLI with `argv` (`process.argv` shape: node, script, args...) and return the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CliExit) return err.exitCode;
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return reportError(err, isDebug(program));
  }
}
