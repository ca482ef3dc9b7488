// SPDX-License-Identifier: Apache-2.0
/** Helpers shared by this package's tests (not part of the package build). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SoloError } from '@solo-ts/core';

const FIXTURES = path.dirname(fileURLToPath(import.meta.url));

/** Path of a file under src/__fixtures__. */
export const fx = (...p: string[]): string => path.join(FIXTURES, ...p);

/** The error `fn` throws (fails the test when it returns). */
export function thrown(fn: () => unknown): SoloError {
  try {
    fn();
  } catch (e) {
    return e as SoloError;
  }
  throw new Error('expected an error');
}
