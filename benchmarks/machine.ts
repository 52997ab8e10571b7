// A description of the machine a benchmark ran on, written beside every result.

import * as os from 'node:os';
import { performance } from 'node:perf_hooks';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  node: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: loadAverage(),
  };
}

function loadAverage(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/** What every result records at its end: the load average then, and the seconds since `startedMs` (performance.now()). */
export function runEnd(startedMs: number): { loadAverageAfter: number[]; elapsedS: number } {
  return { loadAverageAfter: loadAverage(), elapsedS: Math.round((performance.now() - startedMs) / 100) / 10 };
}
