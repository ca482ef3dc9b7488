// SPDX-License-Identifier: Apache-2.0
import { Command } from 'commander';
import { ConfigError } from '@solo-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from './commands/index.js';
import { main } from './main.js';
import { CliExit, action, reportError } from './util/errors.js';
import { globalOptions } from './util/global.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function capture(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  return { out, err };
}

describe('reportError', () => {
  it('formats a SoloError without a stack unless debug', () => {
    const e = new ConfigError('bad value', { location: { file: 'a.yaml', line: 3, column: 5, key: 'model.x' }, hint: 'try 1' });
    const lines: string[] = [];
    expect(reportError(e, false, (s) => lines.push(s))).toBe(1);
    expect(lines.join('')).toBe('error: a.yaml:3:5 (key `model.x`): bad value\n  hint: try 1\n');
    lines.length = 0;
    reportError(e, true, (s) => lines.push(s));
    expect(lines.join('')).toMatch(/^error: a\.yaml:3:5[^]*ConfigError: bad value\n\s+at /);
  });

  it('prints the stack of an unexpected error and calls it a bug', () => {
    const lines: string[] = [];
    expect(reportError(new TypeError('x is undefined'), false, (s) => lines.push(s))).toBe(1);
    const text = lines.join('');
    expect(text).toMatch(/^TypeError: x is undefined\n\s+at /);
    expect(text).toContain('error: unexpected TypeError: x is undefined');
    expect(text).toContain('This is a bug in solo-ts');
  });
});

describe('action() and main()', () => {
  it('turns errors into CliExit(1) after reporting them', async () => {
    const { err } = capture();
    const program = new Command('t').option('--debug').exitOverride();
    program.command('boom').action(
      action(() => {
        throw new RangeError('index 7');
      }),
    );
    await expect(program.parseAsync(['boom'], { from: 'user' })).rejects.toBeInstanceOf(CliExit);
    expect(err.join('')).toContain('error: unexpected RangeError: index 7');
  });

  it('main returns 0 / 1 / 2 and never exits the process', async () => {
    const exit = vi.spyOn(process, 'exit');
    const { out, err } = capture();
    expect(await main(['node', 'solo', 'print-config', '--json', 'configs/_base_/default_runtime.yaml'])).toBe(0);
    expect(JSON.parse(out.join('')).log_level).toBe('INFO');
    expect(await main(['node', 'solo', 'print-config', 'packages/config/src/__fixtures__/errors/cycle_a.yaml'])).toBe(1);
    expect(err.join('')).toContain('circular _base_ inheritance');
    expect(await main(['node', 'solo', 'print-config'])).toBe(2);
    expect(await main(['node', 'solo', '--help'])).toBe(0);
    expect(exit).not.toHaveBeenCalled();
  });

  it('registers every command in the list, and global options reach commands', async () => {
    expect(COMMANDS.length).toBeGreaterThanOrEqual(3);
    let seen: unknown;
    const program = new Command('t').option('--debug').option('--backend <b>', '', 'auto').exitOverride();
    program.command('x').action((_opts: unknown, cmd: Command) => {
      seen = globalOptions(cmd);
    });
    await program.parseAsync(['x', '--backend', 'wasm'], { from: 'user' });
    expect(seen).toEqual({ debug: false, backend: 'wasm' });
  });
});
