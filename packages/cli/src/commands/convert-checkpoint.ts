// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER written by the CLI skeleton so the command list type-checks; the `convert-checkpoint` command
// is being written by another engineer and replaces this whole file. It registers nothing.
import type { Command } from 'commander';

export function registerConvertCheckpoint(_program: Command): void {}
