#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The `solo` command. The implementation is TypeScript compiled to ../dist (`npm run build` in a checkout).
let cli;
try {
  cli = await import('../dist/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write(
      `error: cannot load solo-ts: ${String(err.message).split('\n')[0]}\n` +
        '  hint: in a source checkout, run `npm run build` first\n',
    );
    process.exit(1);
  }
  throw err;
}
process.exitCode = await cli.main(process.argv);
