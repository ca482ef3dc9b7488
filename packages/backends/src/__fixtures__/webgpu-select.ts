// SPDX-License-Identifier: Apache-2.0
// Child script for webgpu-node.test.ts: selects webgpu with the Vulkan driver of the environment and prints the
// outcome as one JSON line (Dawn's Vulkan instance lives for the process, so each driver choice needs its own).
import { isSoloError } from '@solo-ts/core';
import { selectBackend } from '../select.js';

try {
  const sel = await selectBackend('webgpu');
  console.log(JSON.stringify({ ok: true, name: sel.name, detail: sel.detail, adapter: sel.adapter }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, solo: isSoloError(e), code: (e as { code?: string }).code, message: (e as Error).message, hint: (e as { hint?: string }).hint }));
}
