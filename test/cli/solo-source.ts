// SPDX-License-Identifier: Apache-2.0
// Runs the `solo` CLI from TypeScript sources (no build): `node --conditions=source --import tsx test/cli/solo-source.ts ...`.
// The end-to-end tests use it so they do not depend on a fresh `dist/`; `solo-bin.test.ts` checks the built bin.
import { main } from '@solo-ts/cli';

process.exitCode = await main(process.argv);
