// `npm run bench -- embedded --cores=1,2`: how the highest rate that holds the p99 objective grows
// with cores. For each count k, modes (a) and (c) run the same rate search again, each in a process
// pinned to the first k CPUs (`taskset`). Node reads the affinity (os.availableParallelism()), so
// infergate sizes its executor pool to the k cores it may use, as it would on a k-core host.

import * as os from 'node:os';
import type { EmbeddedModeName } from './modes/mode';
import type { ModeReport } from './modes/protocol';
import { fmt, ratio } from './report-format';

/** The modes whose scaling is compared: ORT on the main thread against infergate. */
const SCALED_MODES = ['ort-main', 'infergate'] as const satisfies readonly EmbeddedModeName[];

export interface CoreScalingRow {
  cores: number;
  /** The CPU list the processes were pinned to (taskset -c). */
  cpus: string;
  maxRateAtSlo: Record<(typeof SCALED_MODES)[number], number | null>;
  lowestFailingRate: Record<(typeof SCALED_MODES)[number], number | null>;
  /** Mean rows per batch of (c) over its steps. */
  infergateMeanBatchSize: number | null;
}

/** Parses `--cores=1,2`: distinct counts from 1 to the CPUs this process may use, ascending. */
export function parseCoreCounts(text: string | undefined): number[] {
  if (text === undefined) return [];
  const available = os.availableParallelism();
  const counts = text.split(',').map((t) => Number(t.trim()));
  for (const k of counts) {
    if (!Number.isInteger(k) || k < 1 || k > available) {
      throw new Error(`--cores: each count must be an integer from 1 to ${available} (the CPUs available here), got "${text}"`);
    }
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** The first k CPUs of this process's affinity, as taskset's list ("0-1", "0,2"). */
function firstCpus(k: number): string {
  // Linux numbers the CPUs a process may use; without an affinity API in Node, take 0..k-1.
  return k === 1 ? '0' : `0-${k - 1}`;
}

export async function runCoreScaling(
  counts: readonly number[],
  runMode: (mode: EmbeddedModeName, cpus: string) => Promise<ModeReport<EmbeddedModeName>>,
): Promise<CoreScalingRow[]> {
  const rows: CoreScalingRow[] = [];
  for (const k of counts) {
    const cpus = firstCpus(k);
    const reports = new Map<string, ModeReport<EmbeddedModeName>>();
    for (const mode of SCALED_MODES) {
      process.stderr.write(`cores ${k} (cpus ${cpus}): ${mode}\n`);
      reports.set(mode, await runMode(mode, cpus));
    }
    const pick = <T>(f: (r: ModeReport<EmbeddedModeName>) => T) =>
      Object.fromEntries(SCALED_MODES.map((m) => [m, reports.get(m)?.crash === undefined ? f(reports.get(m) as ModeReport<EmbeddedModeName>) : null])) as Record<(typeof SCALED_MODES)[number], T | null>;
    rows.push({
      cores: k,
      cpus,
      maxRateAtSlo: pick((r) => r.maxRateAtSlo),
      lowestFailingRate: pick((r) => r.lowestFailingRate),
      infergateMeanBatchSize: reports.get('infergate')?.meanBatchSize ?? null,
    });
  }
  return rows;
}

export function coreScalingMarkdown(rows: readonly CoreScalingRow[], sloP99Ms: number): string[] {
  if (rows.length === 0) return [];
  const first = rows[0] as CoreScalingRow;
  const rate = (r: number | null, failing: number | null) => (r === null ? 'none' : failing === null ? `≥ ${r}/s` : `${r}/s`);
  const growth = (now: number | null, then: number | null) => fmt(ratio(now, then), '×');
  return [
    '## Scaling with cores',
    '',
    `The same rate search (p99 ≤ ${sloP99Ms} ms) for (a) and (c), each mode's process pinned with \`taskset\` to the CPUs listed.`,
    'Node reads that affinity, so (c) sizes its executor pool to those cores; (a) runs on its main thread whatever the count.',
    '',
    `| cores (CPUs) | (a) highest rate | (c) highest rate | (c) / (a) | (a) vs ${first.cores} core(s) | (c) vs ${first.cores} core(s) | (c) mean batch |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.cores} (${r.cpus}) | ${rate(r.maxRateAtSlo['ort-main'], r.lowestFailingRate['ort-main'])} | ` +
        `${rate(r.maxRateAtSlo.infergate, r.lowestFailingRate.infergate)} | ${growth(r.maxRateAtSlo.infergate, r.maxRateAtSlo['ort-main'])} | ` +
        `${growth(r.maxRateAtSlo['ort-main'], first.maxRateAtSlo['ort-main'])} | ${growth(r.maxRateAtSlo.infergate, first.maxRateAtSlo.infergate)} | ` +
        `${fmt(r.infergateMeanBatchSize)} |`,
    ),
    '',
    'A rate written "≥" found no failure up to the search\'s ceiling: the mode holds at least that much.',
    '',
  ];
}
