// CPU time of other processes (Triton and its backend stubs, infergate) from Linux /proc, so that a
// step can say where the machine's two cores went. Processes that are gone count as zero.

import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { procStat } from '../test/support/processes';
import type { CpuWatch } from './serve-jobs';

/** Linux reports utime and stime in clock ticks of 1/100 s on every mainstream kernel build (USER_HZ). */
const TICKS_PER_SECOND = 100;

const stat = procStat;

function groupTicks(pgid: number): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s !== undefined && s.pgrp === pgid) ticks += s.ticks;
  }
  return ticks;
}

function ticksOf(w: CpuWatch): number {
  let ticks = w.group !== undefined ? groupTicks(w.group) : 0;
  for (const pid of w.pids ?? []) ticks += stat(pid)?.ticks ?? 0;
  return ticks;
}

export interface CpuUse {
  /** CPU seconds / wall seconds of each watch: 1 = one core busy throughout. */
  cores: Record<string, number>;
  /** CPU seconds of each watch. */
  seconds: Record<string, number>;
}

/**
 * Starts measuring; the returned function gives each watch's CPU since then, plus this process's
 * own under the name "generator".
 */
export function startCpuWatch(watches: readonly CpuWatch[]): () => CpuUse {
  const t0 = performance.now();
  const before = watches.map(ticksOf);
  const own = process.cpuUsage();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const ownUse = process.cpuUsage(own);
    const used: [string, number][] = watches.map((w, i) => [w.name, (ticksOf(w) - (before[i] as number)) / TICKS_PER_SECOND]);
    used.push(['generator', (ownUse.user + ownUse.system) / 1e6]);
    const cores: Record<string, number> = {};
    const seconds: Record<string, number> = {};
    for (const [name, s] of used) {
      seconds[name] = Math.round(s * 1000) / 1000;
      cores[name] = wall > 0 ? Math.round((s / wall) * 100) / 100 : 0;
    }
    return { cores, seconds };
  };
}
