// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromYAML, formatConfigWithSources, loadConfig } from './config.js';
import { fx } from './__fixtures__/test-helpers.js';

describe('toYAML / dump', () => {
  it('round-trips the merged shipped config', () => {
    const cfg = loadConfig(fx('shipped', 'uses_shipped.yaml'), { cfgOptions: ["work_dir='a: b, #c'", 'log_level="x\\ny"'] });
    const text = cfg.toYAML();
    expect(text).toContain('train_cfg: {type: EpochBasedTrainLoop, max_epochs: 12, val_interval: 1}');
    expect(text).toContain('      - {type: Resize, scale: [1333, 800], keep_ratio: true}');
    const again = configFromYAML(text);
    expect(again.data).toEqual(cfg.data);
  });

  it('round-trips awkward values', () => {
    const cfg = configFromYAML(
      [
        'model:',
        "  a: {'1': x, 'true': 'true', empty: '', list: [], map: {}, n: null, s: '- dash'}",
        '  nested: [[1, 96], [48, 192]]',
        '  mixed: [{type: A}, 3, [x, {y: 1}]]',
        '  long: [' + Array.from({ length: 40 }, (_, i) => i * 1000).join(', ') + ']',
        '  quoted: ["a, b", "[c]", "d: e", "#f"]',
      ].join('\n'),
    );
    expect(configFromYAML(cfg.toYAML()).data).toEqual(cfg.data);
    expect(configFromYAML(formatConfigWithSources(cfg)).data).toEqual(cfg.data);
  });

  it('dump() writes a loadable file with a header, creating directories', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'solo-dump-'));
    try {
      const cfg = loadConfig(fx('chain', 'child.yaml'));
      const out = path.join(dir, 'work', 'child.yaml');
      cfg.dump(out);
      const text = readFileSync(out, 'utf8');
      expect(text.split('\n')[0]).toMatch(/^# Merged config written by solo-ts from .*child\.yaml$/);
      expect(loadConfig(out).data).toEqual(cfg.data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('formatConfigWithSources', () => {
  it('YAML with a # file:line comment per key', () => {
    const cfg = loadConfig(fx('chain', 'child.yaml'), { cfgOptions: ['train_cfg.max_epochs=3'] });
    const lines = formatConfigWithSources(cfg).split('\n');
    const line = (prefix: string): string => lines.find((l) => l.startsWith(prefix)) ?? '';
    expect(line('    depth: 101')).toMatch(/# .*__fixtures__\/chain\/mid\.yaml:6$/);
    expect(line('    num_grids: [20, 10]')).toMatch(/# .*chain\/child\.yaml:4$/);
    expect(line('    num_classes: 80')).toMatch(/# .*chain\/base_model\.yaml:11$/);
    expect(line('  max_epochs: 3')).toMatch(/# --cfg-options$/);
    expect(line('model:')).toMatch(/# .*child\.yaml:2$/);
    // list items of mappings start on the dash line and carry their key's comment
    expect(line('  - type: MultiStepLR')).toMatch(/child\.yaml:8$/);
  });

  it('a --sources table of leaf keys', () => {
    const cfg = loadConfig(fx('chain', 'child.yaml'));
    const table = formatConfigWithSources(cfg, { table: true });
    const rows = table.split('\n');
    expect(rows[0]).toMatch(/^key\s+value\s+set in$/);
    const depth = rows.find((r) => r.startsWith('model.backbone.depth '));
    expect(depth).toMatch(/^model\.backbone\.depth\s+101\s+.*mid\.yaml:6$/);
    expect(rows.find((r) => r.startsWith('optim_wrapper.optimizer.lr '))).toMatch(/0\.01\s+.*mid\.yaml:3$/);
  });
});
