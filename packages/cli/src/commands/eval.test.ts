// SPDX-License-Identifier: Apache-2.0
import { COCO_CONFORMANCE_ROOT } from '../../../../test/helpers/shared-dir.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { isSoloError } from '@solo-ts/core';
import { evalCommand, registerEval } from './eval.js';

const ROOT = `${COCO_CONFORMANCE_ROOT}/eval/`;
const GT = join(ROOT, 'crowd/gt.json');
const DT = join(ROOT, 'crowd/dt.json');
const expected = JSON.parse(readFileSync(join(ROOT, 'crowd/expected.json'), 'utf8')).results;
const dir = mkdtempSync(join(tmpdir(), 'solo-eval-'));

function write(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

/** The error's full text (`SoloError.format()`: location, message, expectation). */
function soloFormat(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isSoloError(e), `expected a SoloError, got ${String(e)}`).toBe(true);
    return (e as { format(): string }).format();
  }
  throw new Error('expected an error');
}

function soloMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isSoloError(e), `expected a SoloError, got ${String(e)}`).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('solo eval', () => {
  it('--json prints one JSON object with stats in pycocotools order and named metrics', () => {
    const out = evalCommand({ gt: GT, dt: DT, iouType: 'segm', json: true, classwise: true });
    expect(out.trim().split('\n').length).toBe(1);
    const r = JSON.parse(out);
    expect(r.stats).toEqual(expected.segm.stats);
    expect(r.metrics.AP).toBe(expected.segm.stats[0]);
    expect(r.metrics.segm_mAP_50).toBe(expected.segm.stats[1]);
    expect(r.classwise.length).toBe(expected.segm.catIds.length);
    const bbox = JSON.parse(evalCommand({ gt: GT, dt: DT, iouType: 'bbox', json: true }));
    expect(bbox.stats).toEqual(expected.bbox.stats);
  });

  it('prints the pycocotools summary and the classwise table', () => {
    const out = evalCommand({ gt: GT, dt: DT, classwise: true });
    const lines = out.split('\n');
    expect(lines[1]).toMatch(/^ Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = 0\.434$/);
    expect(lines[12]).toMatch(/^ Average Recall {5}\(AR\) @\[ IoU=0\.50:0\.95 \| area= large \| maxDets=100 \] = /);
    expect(out).toMatch(/\| category +\| mAP +\|/);
  });

  it('registers `eval` on a commander program', async () => {
    const program = new Command('solo').exitOverride();
    registerEval(program);
    const cmd = program.commands.find((c) => c.name() === 'eval');
    expect(cmd).toBeDefined();
    expect(cmd!.options.map((o) => o.long)).toEqual(['--gt', '--dt', '--iou-type', '--classwise', '--json', '--use-cats']);
  });

  it('bad input: SoloError messages name the file and the annotation', () => {
    expect(soloMessage(() => evalCommand({ gt: join(dir, 'nope.json'), dt: DT }))).toMatch(/--gt .*nope\.json: file not found/);
    const bad = write('bad.json', '{"images": [1,\n  2,, 3]}');
    expect(soloFormat(() => evalCommand({ gt: bad, dt: DT }))).toMatch(/bad\.json:2:5: malformed JSON: unexpected ",", expected a value/);
    const noCats = write('nocats.json', { images: [], annotations: [] });
    expect(soloMessage(() => evalCommand({ gt: noCats, dt: DT }))).toMatch(/nocats\.json: missing key "categories"/);
    const gt = JSON.parse(readFileSync(GT, 'utf8'));
    gt.annotations[1].segmentation = 'polygon?';
    const badSeg = write('badseg.json', gt);
    expect(soloMessage(() => evalCommand({ gt: badSeg, dt: DT }))).toMatch(
      new RegExp(`badseg\\.json: annotation #1 \\(id ${gt.annotations[1].id}\\): segmentation of unknown format`),
    );
    const dt = JSON.parse(readFileSync(DT, 'utf8'));
    dt[2].image_id = 999999;
    const badImg = write('badimg.json', dt);
    expect(soloMessage(() => evalCommand({ gt: GT, dt: badImg }))).toMatch(/badimg\.json: detection #2 \(image_id 999999\): image_id 999999 is not an image/);
    const dt2 = JSON.parse(readFileSync(DT, 'utf8'));
    delete dt2[3].bbox;
    const noBox = write('nobox.json', dt2);
    expect(soloMessage(() => evalCommand({ gt: GT, dt: noBox, iouType: 'bbox' }))).toMatch(/nobox\.json: detection #3 .*"bbox"/);
    expect(soloMessage(() => evalCommand({ gt: GT, dt: DT, iouType: 'keypoints' }))).toMatch(/--iou-type/);
  });
});
