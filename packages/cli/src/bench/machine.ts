// SPDX-License-Identifier: Apache-2.0
/** The machine a benchmark ran on (for reports): CPU model, logical cores, memory, Node version, load. */
import * as os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  totalMemoryGiB: number;
  platform: string;
  node: string;
  /** 1-minute load average at the start (other processes competing for the cores). */
  loadAverage: number;
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    logicalCores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
    date: new Date().toISOString(),
  };
}
