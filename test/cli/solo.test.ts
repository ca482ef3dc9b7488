// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the `solo` CLI (run from sources, see helpers.ts): help, print-config, errors, exit codes.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { soloFromSource as solo } from './helpers.js';

const RUNTIME = 'configs/_base_/default_runtime.yaml';
const SCHEDULE = 'configs/_base_/schedules/schedule_1x.yaml';
const FIXTURES = 'packages/config/src/__fixtures__';
const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

describe('solo --help / --version', () => {
  it('lists the commands and global options, exit 0', () => {
    const r = solo(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: solo \[options\] \[command\]/);
    expect(r.stdout).toContain('print-config');
    expect(r.stdout).toContain('--debug');
    expect(r.stdout).toContain('--backend <name>');
    expect(r.stderr).toBe('');
  });

  it('print-config --help, exit 0', () => {
    const r = solo(['print-config', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--cfg-options <key=value...>');
    expect(r.stdout).toContain('--sources');
  });

  it('--version prints the package version', () => {
    const r = solo(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('solo print-config', () => {
  it('prints the merged YAML with a # file:line comment per key', () => {
    const r = solo(['print-config', RUNTIME]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^default_scope: mmdet\s+# configs\/_base_\/default_runtime\.yaml:3$/);
    expect(lines.find((l) => l.startsWith('    interval: 50'))).toMatch(/# configs\/_base_\/default_runtime\.yaml:7$/);
    expect(parse(r.stdout)).toEqual(JSON.parse(solo(['print-config', '--json', RUNTIME]).stdout));
  });

  it('applies --cfg-options and marks their source', () => {
    const r = solo(['print-config', SCHEDULE, '--cfg-options', 'train_cfg.max_epochs=2', 'param_scheduler.1.milestones=[1]']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}max_epochs: 2\s+# --cfg-options$/m);
    expect(r.stdout).toMatch(/^ {4}milestones: \[1\]\s+# --cfg-options$/m);
    expect(r.stdout).toMatch(/^ {2}val_interval: 1\s+# configs\/_base_\/schedules\/schedule_1x\.yaml:3$/m);
  });

  it('--sources prints a key/value/source table; --json the data; --plain YAML without comments', () => {
    const t = solo(['print-config', SCHEDULE, '--sources']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^key\s+value\s+set in$/m);
    expect(t.stdout).toMatch(/^optim_wrapper\.optimizer\.lr\s+0\.02\s+configs\/_base_\/schedules\/schedule_1x\.yaml:15$/m);
    const j = solo(['print-config', '--json', SCHEDULE]);
    expect(JSON.parse(j.stdout).train_cfg).toEqual({ type: 'EpochBasedTrainLoop', max_epochs: 12, val_interval: 1 });
    const p = solo(['print-config', '--plain', SCHEDULE]);
    expect(p.stdout).not.toContain('#');
    expect(parse(p.stdout)).toEqual(JSON.parse(j.stdout));
    expect(solo(['print-config', '--json', '--sources', SCHEDULE]).code).toBe(1);
  });
});

describe('errors and exit codes', () => {
  it('a config error prints file:line and a hint, no stack trace, exit 1', () => {
    const r = solo(['print-config', `${FIXTURES}/errors/unknown_key.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: ${FIXTURES}/errors/unknown_key.yaml:5:1 (key \`optim_wraper\`): unknown top-level key \`optim_wraper\`\n` +
        '  hint: did you mean `optim_wrapper`? (prefix private helper keys with `_`)\n',
    );
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('--debug (before or after the command) and SOLO_DEBUG=1 add the stack trace', () => {
    for (const r of [
      solo(['--debug', 'print-config', `${FIXTURES}/errors/unknown_key.yaml`]),
      solo(['print-config', `${FIXTURES}/errors/unknown_key.yaml`, '--debug']),
      solo(['print-config', `${FIXTURES}/errors/unknown_key.yaml`], { SOLO_DEBUG: '1' }),
    ]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: .*unknown_key\.yaml:5:1/);
      expect(r.stderr).toContain('ConfigError: unknown top-level key');
      expect(r.stderr).toMatch(STACK_LINE);
    }
  });

  it('YAML syntax errors, missing bases and bad --cfg-options are user errors (exit 1)', () => {
    const syntax = solo(['print-config', `${FIXTURES}/errors/syntax.yaml`]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(/^error: .*errors\/syntax\.yaml:4:1: invalid YAML: /);
    const base = solo(['print-config', `${FIXTURES}/errors/missing_base.yaml`]);
    expect(base.stderr).toMatch(/^error: .*errors\/missing_base\.yaml:4:5: base config `\.\.\/chain\/base_shedule\.yaml` not found/);
    const opt = solo(['print-config', SCHEDULE, '--cfg-options', 'train_cfg.max_epochs.x=1']);
    expect(opt.code).toBe(1);
    expect(opt.stderr).toContain('error: --cfg-options `train_cfg.max_epochs.x=1`: `train_cfg.max_epochs` is 12');
    const missing = solo(['print-config', 'nothere.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: config file not found: nothere.yaml\n');
  });

  it('usage errors exit 2', () => {
    const unknownOption = solo(['print-config', RUNTIME, '--bogus']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("error: unknown option '--bogus'");
    const missingArg = solo(['print-config']);
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toContain("error: missing required argument 'config'");
    const unknownCommand = solo(['print-confg']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'print-confg'");
    expect(unknownCommand.stderr).toContain('print-config');
    const badBackend = solo(['--backend', 'gpu', 'print-config', RUNTIME]);
    expect(badBackend.code).toBe(2);
  });
});
