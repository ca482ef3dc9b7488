// SPDX-License-Identifier: Apache-2.0
/**
 * JSON-lines scalar log (`<work_dir>/<timestamp>/vis_data/scalars.json`, one object per line, as mmengine's
 * LocalVisBackend writes it): `{"lr": 0.01, "loss": 1.2, ..., "epoch": 1, "iter": 50, "step": 50}`.
 * Lines are appended and flushed as they are written, so a killed run keeps everything logged so far.
 */
import fs from 'node:fs';
import path from 'node:path';

export class ScalarLog {
  private fd: number;
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }
  write(record: Record<string, number | string>): void {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
  }
  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Reads a JSON-lines scalar log; malformed lines (e.g. a line cut by a crash) are skipped. */
export function readScalarLog(file: string): Array<Record<string, number | string>> {
  const out: Array<Record<string, number | string>> = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, number | string>);
    } catch {
      /* a partially written last line */
    }
  }
  return out;
}
