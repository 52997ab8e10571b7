// `npm run bench -- host-cost [--rates=20000,80000] [--rounds=5]`: what a request costs the host's
// thread, net of the load generator, read from rounds in which the modes take turns.
//
// The embedded scenario runs each mode's whole ladder in turn, minutes apart, and subtracts the
// generator-only mode's figure at the same rate: on a shared VM the generator's own cost moves by a
// third between minutes, which moves every net figure with it. Here every round runs the generator
// alone, (a) and (c) back to back at each rate, each step in a fresh process (modes/spawn-runner.ts),
// and a mode's net cost is taken within its round; the report gives every round and the medians.

import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { type MachineInfo, machineInfo, runEnd } from './machine';
import type { EmbeddedModeName } from './modes/mode';
import { embeddedSettings } from './embedded';
import { type RunnerConfig, type StepReport, stepOptions } from './modes/protocol';
import { runModeProcess } from './modes/spawn-runner';
import { fmt, runLines } from './report-format';
import { median } from './triton';

export interface HostCostOptions {
  rates: number[];
  rounds: number;
}

/** One mode's step at one rate in one round, with its cost net of the same round's generator. */
export interface HostCostCell {
  round: number;
  rate: number;
  mode: EmbeddedModeName;
  p99Ms: number | null;
  pass: boolean;
  eventLoopUsPerRequest: number | null;
  eventLoopNetUsPerRequest: number | null;
  mainThreadCpuUsPerRequest: number | null;
  mainThreadCpuNetUsPerRequest: number | null;
  meanBatchSize: number | null;
}

export interface HostCostResult {
  machine: MachineInfo;
  loadAverageAfter: number[];
  elapsedS: number;
  options: HostCostOptions;
  cells: HostCostCell[];
  /** Per rate and mode: medians over the rounds of the net figures. */
  medians: { rate: number; mode: EmbeddedModeName; eventLoopNetUsPerRequest: number | null; mainThreadCpuNetUsPerRequest: number | null }[];
}

/** (a) runs only where it keeps up: past its capacity its figures are a queue's, and a step takes seconds to drain. */
const ORT_MAIN_MAX_RATE = 20_000;

export function parseHostCostArgs(args: readonly string[]): HostCostOptions {
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const rates = (value('rates') ?? '20000,80000').split(',').map(Number);
  const rounds = Number(value('rounds') ?? 5);
  if (rates.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`--rates must be positive integers, got "${value('rates')}"`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got "${value('rounds')}"`);
  return { rates, rounds };
}

/** One step at `rate`, with the embedded scenario's step settings (warm-up, window, bounds). */
async function runStep(mode: EmbeddedModeName, rate: number): Promise<StepReport | undefined> {
  const s = embeddedSettings({ quick: false, threads: os.availableParallelism() });
  const config: RunnerConfig<EmbeddedModeName> = {
    mode,
    threads: s.piscinaThreads,
    sloP99Ms: s.sloP99Ms,
    plan: { ladder: [rate], bisections: 0, maxRate: 0, wholeLadder: true },
    step: stepOptions(s),
    warmRequests: s.warmRequests,
    confirmFailures: false,
  };
  const report = await runModeProcess(config);
  return report.steps[0];
}

export async function runHostCostBench(options: HostCostOptions): Promise<HostCostResult> {
  const started = performance.now();
  const machine = machineInfo();
  const cells: HostCostCell[] = [];
  const net = (x: number | null | undefined, base: number | null | undefined) =>
    x != null && base != null ? Math.round((x - base) * 10) / 10 : null;
  for (let round = 1; round <= options.rounds; round++) {
    for (const rate of options.rates) {
      const modes: EmbeddedModeName[] = rate <= ORT_MAIN_MAX_RATE ? ['baseline', 'ort-main', 'infergate'] : ['baseline', 'infergate'];
      let base: StepReport | undefined;
      for (const mode of modes) {
        process.stderr.write(`round ${round}, ${rate}/s: ${mode}\n`);
        const step = await runStep(mode, rate);
        if (mode === 'baseline') base = step;
        cells.push({
          round,
          rate,
          mode,
          p99Ms: step?.p99Ms ?? null,
          pass: step?.pass ?? false,
          eventLoopUsPerRequest: step?.eventLoopUsPerRequest ?? null,
          eventLoopNetUsPerRequest: mode === 'baseline' ? 0 : net(step?.eventLoopUsPerRequest, base?.eventLoopUsPerRequest),
          mainThreadCpuUsPerRequest: step?.mainThreadCpuUsPerRequest ?? null,
          mainThreadCpuNetUsPerRequest: mode === 'baseline' ? 0 : net(step?.mainThreadCpuUsPerRequest, base?.mainThreadCpuUsPerRequest),
          meanBatchSize: step?.meanBatchSize ?? null,
        });
      }
    }
  }
  const medians: HostCostResult['medians'] = [];
  for (const rate of options.rates) {
    for (const mode of ['ort-main', 'infergate'] as const) {
      const of = cells.filter((c) => c.rate === rate && c.mode === mode);
      if (of.length === 0) continue;
      const values = (f: (c: HostCostCell) => number | null) => of.map(f).filter((v): v is number => v !== null);
      medians.push({
        rate,
        mode,
        eventLoopNetUsPerRequest: median(values((c) => c.eventLoopNetUsPerRequest)),
        mainThreadCpuNetUsPerRequest: median(values((c) => c.mainThreadCpuNetUsPerRequest)),
      });
    }
  }
  return {
    machine,
    ...runEnd(started),
    options,
    cells,
    medians,
  };
}

const LABELS: Record<string, string> = { baseline: '(0) generator only', 'ort-main': '(a) ORT on the main thread', infergate: '(c) infergate embedded' };

export function hostCostMarkdown(result: HostCostResult, command: string): string {
  const m = result.machine;
  return [
    '# Host thread cost per request, interleaved rounds (fraud model)',
    '',
    ...runLines(command, result.elapsedS, m, result.loadAverageAfter),
    '',
    ...hostCostSections(result, '##'),
  ].join('\n');
}

/** The method, the medians and every step, under headings of `level` (the embedded report nests them). */
export function hostCostSections(result: HostCostResult, level: string): string[] {
  return [
    'Each round runs the generator alone, (a) and (c) back to back at each rate, each step in a fresh process',
    '(open loop, 2,000 warm-up requests, 1 s warm-up, 5 s measured). Net figures subtract the generator-only',
    "step of the same round and rate. (a) runs only up to 20,000/s, past which it cannot keep up.",
    '',
    `${level} Medians over the rounds`,
    '',
    '| rate /s | mode | event-loop busy µs per request, net | main-thread CPU µs per request, net |',
    '|---:|---|---:|---:|',
    ...result.medians.map((x) => `| ${x.rate} | ${LABELS[x.mode] ?? x.mode} | **${fmt(x.eventLoopNetUsPerRequest)}** | ${fmt(x.mainThreadCpuNetUsPerRequest)} |`),
    '',
    `${level} Every step`,
    '',
    '| round | rate /s | mode | p99 ms | loop µs/req raw | loop µs/req net | main CPU µs/req raw | main CPU µs/req net | batch |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|',
    ...result.cells.map(
      (c) =>
        `| ${c.round} | ${c.rate} | ${LABELS[c.mode] ?? c.mode} | ${fmt(c.p99Ms)} | ${fmt(c.eventLoopUsPerRequest)} | ${fmt(c.eventLoopNetUsPerRequest)} | ` +
        `${fmt(c.mainThreadCpuUsPerRequest)} | ${fmt(c.mainThreadCpuNetUsPerRequest)} | ${fmt(c.meanBatchSize)} |`,
    ),
    '',
  ];
}
