// What a test needs to know about OS processes (Linux /proc): whether a pid is alive and which
// processes share a process group. A zombie counts as gone: it runs nothing and holds no port.

import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  pgrp: number;
  /** utime + stime, in clock ticks (USER_HZ, 1/100 s). */
  ticks: number;
}

/** A process's /proc/<pid>/stat, or undefined when it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  return stat(pid);
}

function stat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] as string, pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
}

export function isAlive(pid: number): boolean {
  const s = stat(pid);
  if (s !== undefined) return s.state !== 'Z' && s.state !== 'X';
  if (process.platform === 'linux') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live processes in process group `pgid` (empty where /proc is not available). */
export function processGroup(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s !== undefined && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') members.push(Number(name));
  }
  return members;
}
