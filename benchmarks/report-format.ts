// Formatting shared by the scenarios' Markdown reports.

import type { MachineInfo } from './machine';
import type { ModeReport } from './modes/protocol';

/** The two lines every report starts with: the command that made it, and the machine it ran on. */
export function runLines(command: string, elapsedS: number, m: MachineInfo, loadAverageAfter: readonly number[]): string[] {
  return [
    `Command: \`${command}\` (${elapsedS} s)`,
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; ` +
      `load average ${m.loadAverage.join(' ')} before, ${loadAverageAfter.join(' ')} after.`,
  ];
}

/** A mode's highest rate under the objective, with the rate that failed above it. */
export function fmtRate(r: ModeReport): string {
  if (r.crash !== undefined) return 'runner failed';
  if (r.mode === 'baseline') return 'not searched';
  if (r.maxRateAtSlo === null) return `none (fails at ${r.lowestFailingRate}/s)`;
  return r.lowestFailingRate === null ? `≥ ${r.maxRateAtSlo}/s (no failure found)` : `${r.maxRateAtSlo}/s (fails at ${r.lowestFailingRate}/s)`;
}

/** A number with its unit, or an en dash when there is none. */
export function fmt(x: number | null | undefined, unit = ''): string {
  return x === null || x === undefined ? '–' : `${x}${unit}`;
}

/** c / a to two decimals, or null when either is missing. */
export function ratio(c: number | null | undefined, a: number | null | undefined): number | null {
  return c != null && a != null && a > 0 ? Math.round((c / a) * 100) / 100 : null;
}
