// SPDX-License-Identifier: Apache-2.0
/**
 * WebGPU for tfjs: in Node through Dawn (the npm package `webgpu`, a prebuilt `dawn.node` that drives the GPU through
 * Vulkan), in browsers through the browser's `navigator.gpu`.
 *
 * `openWebgpu(options)` makes `navigator.gpu` exist (Node: Dawn's `create()` plus its `globals`, the `GPU*` classes
 * and constants that `@tensorflow/tfjs-backend-webgpu` uses), asks for an adapter the way tfjs will
 * (`high-performance`) and returns its vendor / architecture / device / description for the start-up log. No
 * adapter is a `SoloError` (code `BACKEND`) naming what to install and which environment variable selects a Vulkan
 * driver.
 *
 * Vulkan driver choice: the system's Vulkan loader picks the installed ICDs (NVIDIA's driver, Mesa's RADV for AMD, ...)
 * unless `VK_ICD_FILENAMES` names one. `swiftshader: true` (or `SOLO_WEBGPU_SWIFTSHADER=1`) points
 * `VK_ICD_FILENAMES` at the SwiftShader software Vulkan driver shipped in Debian's `chromium` package when it is not
 * set already: a CPU implementation for correctness tests, never chosen on its own. (Mesa's lavapipe is refused by
 * Dawn: it lacks `shaderUniformBufferArrayDynamicIndexing`.)
 */
import { existsSync } from 'node:fs';
import { SoloError } from '@solo-ts/core';

/** SwiftShader's Vulkan ICD manifest in Debian's `chromium` package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** What the WebGPU adapter says about itself (empty strings where the implementation does not tell). */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True when the adapter is a software (CPU) implementation, e.g. SwiftShader. */
  software: boolean;
}

export interface OpenWebgpuOptions {
  /** Use SwiftShader (software Vulkan) when `VK_ICD_FILENAMES` is unset; default `SOLO_WEBGPU_SWIFTSHADER=1`. */
  swiftshader?: boolean;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
}

export const NO_ADAPTER_HINT =
  'WebGPU in Node runs on Vulkan: install the GPU driver with its Vulkan ICD and the Vulkan loader (Debian/Ubuntu: ' +
  'libvulkan1; NVIDIA: the proprietary driver, whose ICD is /usr/share/vulkan/icd.d/nvidia_icd.json; AMD/Intel: ' +
  'mesa-vulkan-drivers). VK_ICD_FILENAMES=/path/to/icd.json selects one driver; `vulkaninfo --summary` lists them. ' +
  'Software GPU for tests: apt-get install chromium, then SOLO_WEBGPU_SWIFTSHADER=1 (SwiftShader; slow). ' +
  'Or use --backend wasm.';

/** Whether `SOLO_WEBGPU_SWIFTSHADER` asks for the software Vulkan driver. */
export function swiftshaderRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['SOLO_WEBGPU_SWIFTSHADER'];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Points `VK_ICD_FILENAMES` at SwiftShader unless it is set; returns the ICD in effect (undefined: system default). */
function chooseVulkanDriver(swiftshader: boolean): string | undefined {
  const current = process.env['VK_ICD_FILENAMES'];
  if (!swiftshader || (current !== undefined && current !== '')) return current || undefined;
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new SoloError(`SwiftShader was requested but ${SWIFTSHADER_ICD} does not exist`, {
      code: 'BACKEND',
      expected: "Debian's chromium package (it ships SwiftShader's Vulkan driver)",
      hint: 'apt-get install --no-install-recommends chromium libvulkan1, or set VK_ICD_FILENAMES to another Vulkan ICD',
    });
  }
  process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  return SWIFTSHADER_ICD;
}

let nodeGpu: GpuLike | undefined;

/** Installs Dawn's `navigator.gpu` and `GPU*` globals in Node (once). */
async function installDawn(swiftshader: boolean): Promise<GpuLike> {
  if (nodeGpu) return nodeGpu;
  chooseVulkanDriver(swiftshader);
  let dawn: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (error) {
    throw new SoloError(`backend 'webgpu' in Node needs the \`webgpu\` package (Dawn): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, {
      code: 'BACKEND',
      hint: 'npm install webgpu@0.6.2 (an optional dependency of @solo-ts/backends; prebuilt for linux-x64, macOS, Windows)',
      cause: error,
    });
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  const gpu = dawn.create([]);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  nodeGpu = gpu;
  return gpu;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Makes `navigator.gpu` available (Node: Dawn) and returns the adapter tfjs will get; throws a `SoloError` when
 * there is none. Call before importing `@tensorflow/tfjs-backend-webgpu` (it registers itself only where
 * `navigator.gpu` exists).
 */
export async function openWebgpu(options: OpenWebgpuOptions = {}): Promise<WebgpuAdapterInfo> {
  const swiftshader = options.swiftshader ?? (isNode && swiftshaderRequested());
  let gpu: GpuLike | undefined;
  if (isNode) {
    gpu = await installDawn(swiftshader);
  } else {
    gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
    if (!gpu) {
      throw new SoloError('this browser has no WebGPU (navigator.gpu is undefined)', {
        code: 'BACKEND', hint: 'use a browser with WebGPU enabled, or --backend wasm',
      });
    }
  }
  let adapter: AdapterLike | null = null;
  let cause: unknown;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    cause = e;
  }
  if (!adapter) {
    const icd = isNode ? process.env['VK_ICD_FILENAMES'] : undefined;
    throw new SoloError(`no WebGPU adapter found${icd ? ` (VK_ICD_FILENAMES=${icd})` : ''}${cause ? `: ${String(cause)}` : ''}`, {
      code: 'BACKEND', hint: isNode ? NO_ADAPTER_HINT : 'enable WebGPU in the browser, or use --backend wasm', cause,
    });
  }
  const info = adapter.info ?? {};
  const description = str(info['description']);
  const vendor = str(info['vendor']);
  const software = adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${vendor} ${description} ${str(info['architecture'])}`);
  return { vendor, architecture: str(info['architecture']), device: str(info['device']), description, software };
}

/** One line for the start-up log, e.g. `nvidia hopper, NVIDIA H100 80GB HBM3`. */
export function describeAdapter(a: WebgpuAdapterInfo): string {
  const parts = [[a.vendor, a.architecture].filter(Boolean).join(' '), a.description || a.device].filter(Boolean);
  return `${parts.join(', ') || 'unnamed adapter'}${a.software ? ' — software GPU, for correctness only' : ''}`;
}
