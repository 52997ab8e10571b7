// `npm run bench -- embedded [--quick] [--threads=N] [--modes=baseline,ort-main,piscina,infergate] [--cores=1,2]
//   [--host-cost-rounds=N]`
//
// Open-loop latency of scoring the fraud model per request, three ways side by side in one run:
// (a) onnxruntime-node on the main thread, (b) a Piscina pool with one task per request, (c)
// infergate's embedded API; and first (0), the generator alone, whose own cost is subtracted from
// the others' event-loop figures. Each mode runs in a fresh child process of its own (modes/spawn-runner.ts),
// one after another, so that no mode's threads, GC or event loop disturb another's numbers. With
// --cores, (a) and (c) search again pinned to 1..k CPUs (core-scaling.ts).

import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { type CoreScalingRow, parseCoreCounts, runCoreScaling } from './core-scaling';
import { EVENT_LOOP_DELAY_RESOLUTION_MS } from './host-meter';
import { type MachineInfo, machineInfo, runEnd } from './machine';
import { EMBEDDED_MODES, type EmbeddedModeName } from './modes/mode';
import { type ModeReport, type RunnerConfig, type StepSettings, stepOptions } from './modes/protocol';
import { runModeProcess } from './modes/spawn-runner';
import type { HostCostOptions, HostCostResult } from './host-cost';

export interface EmbeddedOptions {
  quick: boolean;
  threads: number;
  modes: EmbeddedModeName[];
  /** Core counts for the scaling section; empty: none. */
  cores: number[];
  /** Rounds of the interleaved host-cost measurement at the loaded and high rates; 0: none. */
  hostCostRounds: number;
}

/** Runs the interleaved host-cost rounds (host-cost.ts's runHostCostBench; passed in, since it reads this file's settings). */
export type InterleavedHostCost = (options: HostCostOptions) => Promise<HostCostResult>;

export interface EmbeddedSettings extends StepSettings {
  piscinaThreads: number;
  eventLoopDelayResolutionMs: number;
}

export interface EmbeddedSummary {
  /** Rate at which the event-loop cost per request is compared: the guide's worked-example peak. */
  compareAtRate: number;
  maxRateAtSlo: Partial<Record<EmbeddedModeName, number | null>>;
  /** (c) / (a) of the highest rate that held p99 within the objective. */
  maxRateRatioInfergateOverOrtMain: number | null;
  eventLoopUsPerRequestAtCompareRate: Partial<Record<EmbeddedModeName, number | null>>;
  /** The same less the baseline mode's (the generator's and meters' own cost). */
  eventLoopNetUsPerRequestAtCompareRate: Partial<Record<EmbeddedModeName, number | null>>;
  /** (c) / (a) of the net main-thread event-loop µs per request at compareAtRate. */
  eventLoopNetRatioInfergateOverOrtMain: number | null;
  /** (c) / (a) of the raw figure (generator cost included in both). */
  eventLoopRatioInfergateOverOrtMain: number | null;
  /**
   * A loaded rate every mode but (b) passes, where batches hold several requests: the per-request
   * host cost there is the mode's own, not the fixed cost of waking an idle event loop.
   */
  loadedRate: number;
  /** Main-thread on-CPU µs per request less the baseline's, at compareAtRate and at loadedRate. */
  mainThreadCpuNetUsPerRequestAtCompareRate: Partial<Record<EmbeddedModeName, number | null>>;
  mainThreadCpuNetUsPerRequestAtLoadedRate: Partial<Record<EmbeddedModeName, number | null>>;
  /** Main-thread event-loop busy µs per request less the baseline's, at loadedRate. */
  eventLoopNetUsPerRequestAtLoadedRate: Partial<Record<EmbeddedModeName, number | null>>;
  /** The same at highRate, for the modes that hold it. */
  highRate: number;
  eventLoopNetUsPerRequestAtHighRate: Partial<Record<EmbeddedModeName, number | null>>;
}

export interface EmbeddedResult {
  machine: MachineInfo;
  loadAverageAfter: number[];
  elapsedS: number;
  settings: EmbeddedSettings;
  modes: ModeReport<EmbeddedModeName>[];
  summary: EmbeddedSummary;
  /** Highest rates of (a) and (c) pinned to 1..k cores (--cores); empty when not asked for. */
  coreScaling: CoreScalingRow[];
  /**
   * The host's cost per request from rounds in which the generator alone, (a) and (c) take turns at
   * each rate: steadier than the modes' net columns, which subtract a generator-only step run minutes
   * apart (the generator's own cost moves by a third between minutes here). Absent when not run.
   */
  hostCost?: HostCostResult;
}

// 20,000/s: a load where infergate's batches hold tens of requests and (a) still holds its p99, so
// the per-request host cost of both can be read net of the generator's at one rate. 80,000/s: past
// what (a) holds; the generator runs it too, so (c)'s host cost is read net there as well.
const LADDER = [200, 800, 2000, 5000, 20_000, 80_000];
const COMPARE_AT_RATE = 800;
const LOADED_RATE = 20_000;
const HIGH_RATE = 80_000;

export function embeddedSettings(options: Pick<EmbeddedOptions, 'quick' | 'threads'>): EmbeddedSettings {
  const quick = options.quick;
  return {
    sloP99Ms: 5,
    ladder: LADDER,
    bisections: quick ? 1 : 3,
    maxRate: quick ? 80_000 : 160_000,
    warmupMs: quick ? 250 : 1000,
    durationMs: quick ? 1000 : 5000,
    maxOutstanding: 100_000,
    abortLatencyMs: 1000,
    drainTimeoutMs: quick ? 5000 : 10_000,
    warmRequests: quick ? 400 : 2000,
    confirmFailures: !quick,
    piscinaThreads: options.threads,
    eventLoopDelayResolutionMs: EVENT_LOOP_DELAY_RESOLUTION_MS,
  };
}

export async function runEmbeddedBench(options: EmbeddedOptions, interleaved?: InterleavedHostCost): Promise<EmbeddedResult> {
  const started = performance.now();
  const machine = machineInfo();
  const settings = embeddedSettings(options);
  const reports: ModeReport<EmbeddedModeName>[] = [];
  for (const mode of options.modes) {
    const info = EMBEDDED_MODES.find((m) => m.name === mode);
    process.stderr.write(`${info?.label ?? mode}\n`);
    reports.push(await runMode(mode, settings));
  }
  subtractBaseline(reports);
  const coreScaling = await runCoreScaling(options.cores, (mode, cpus) => runMode(mode, settings, cpus));
  const hostCost =
    interleaved && options.hostCostRounds > 0 && options.modes.includes('infergate')
      ? await interleaved({ rates: [LOADED_RATE, HIGH_RATE], rounds: options.hostCostRounds })
      : undefined;
  return {
    machine,
    ...runEnd(started),
    settings,
    modes: reports,
    summary: summarize(reports),
    coreScaling,
    ...(hostCost ? { hostCost } : {}),
  };
}

function runMode(mode: EmbeddedModeName, s: EmbeddedSettings, cpus?: string): Promise<ModeReport<EmbeddedModeName>> {
  const config: RunnerConfig<EmbeddedModeName> = {
    mode,
    ...(cpus !== undefined ? { cpus } : {}),
    threads: s.piscinaThreads,
    sloP99Ms: s.sloP99Ms,
    // The baseline only runs the ladder, all of it, for subtraction.
    plan: mode === 'baseline' ? { ladder: s.ladder, bisections: 0, maxRate: 0, wholeLadder: true } : { ladder: s.ladder, bisections: s.bisections, maxRate: s.maxRate },
    step: stepOptions(s),
    warmRequests: s.warmRequests,
    confirmFailures: s.confirmFailures,
  };
  return runModeProcess(config);
}

/** Sets each step's net host costs: its µs per request less the baseline's at the same rate. */
function subtractBaseline(reports: ModeReport<EmbeddedModeName>[]): void {
  const baseline = reports.find((r) => r.mode === 'baseline');
  const net = (raw: number | null, base: number | null | undefined) =>
    base != null && raw !== null ? Math.round((raw - base) * 10) / 10 : null;
  for (const r of reports) {
    for (const step of r.steps) {
      const base = baseline?.steps.find((b) => b.rate === step.rate && b.attempt === 1);
      step.eventLoopNetUsPerRequest = net(step.eventLoopUsPerRequest, base?.eventLoopUsPerRequest);
      step.mainThreadCpuNetUsPerRequest = net(step.mainThreadCpuUsPerRequest, base?.mainThreadCpuUsPerRequest);
    }
  }
}

function summarize(reports: ModeReport<EmbeddedModeName>[]): EmbeddedSummary {
  const byMode = (m: EmbeddedModeName) => reports.find((r) => r.mode === m && r.crash === undefined);
  const maxRateAtSlo: EmbeddedSummary['maxRateAtSlo'] = {};
  const loopUs: EmbeddedSummary['eventLoopUsPerRequestAtCompareRate'] = {};
  const netUs: EmbeddedSummary['eventLoopNetUsPerRequestAtCompareRate'] = {};
  const cpuAtCompare: EmbeddedSummary['mainThreadCpuNetUsPerRequestAtCompareRate'] = {};
  const cpuAtLoaded: EmbeddedSummary['mainThreadCpuNetUsPerRequestAtLoadedRate'] = {};
  const loopAtLoaded: EmbeddedSummary['eventLoopNetUsPerRequestAtLoadedRate'] = {};
  const loopAtHigh: EmbeddedSummary['eventLoopNetUsPerRequestAtHighRate'] = {};
  for (const r of reports) {
    const ladderStep = (rate: number) => r.steps.find((s) => s.rate === rate && s.phase === 'ladder' && s.attempt === 1);
    const step = ladderStep(COMPARE_AT_RATE);
    if (r.mode !== 'baseline') maxRateAtSlo[r.mode] = r.maxRateAtSlo;
    loopUs[r.mode] = step?.eventLoopUsPerRequest ?? null;
    netUs[r.mode] = step?.eventLoopNetUsPerRequest ?? null;
    cpuAtCompare[r.mode] = step?.mainThreadCpuNetUsPerRequest ?? null;
    cpuAtLoaded[r.mode] = ladderStep(LOADED_RATE)?.mainThreadCpuNetUsPerRequest ?? null;
    loopAtLoaded[r.mode] = ladderStep(LOADED_RATE)?.eventLoopNetUsPerRequest ?? null;
    // A failed step's figures are not the mode's cost at that rate (it fell behind): a passing try only.
    const high = r.steps.find((s) => s.rate === HIGH_RATE && s.phase === 'ladder' && s.pass);
    loopAtHigh[r.mode] = high?.eventLoopNetUsPerRequest ?? null;
  }
  const ratio = (c: number | null | undefined, a: number | null | undefined) =>
    c != null && a != null && a > 0 ? Math.round((c / a) * 100) / 100 : null;
  return {
    compareAtRate: COMPARE_AT_RATE,
    maxRateAtSlo,
    maxRateRatioInfergateOverOrtMain: ratio(byMode('infergate')?.maxRateAtSlo, byMode('ort-main')?.maxRateAtSlo),
    eventLoopUsPerRequestAtCompareRate: loopUs,
    eventLoopNetUsPerRequestAtCompareRate: netUs,
    eventLoopNetRatioInfergateOverOrtMain: ratio(netUs.infergate, netUs['ort-main']),
    eventLoopRatioInfergateOverOrtMain: ratio(loopUs.infergate, loopUs['ort-main']),
    loadedRate: LOADED_RATE,
    mainThreadCpuNetUsPerRequestAtCompareRate: cpuAtCompare,
    mainThreadCpuNetUsPerRequestAtLoadedRate: cpuAtLoaded,
    eventLoopNetUsPerRequestAtLoadedRate: loopAtLoaded,
    highRate: HIGH_RATE,
    eventLoopNetUsPerRequestAtHighRate: loopAtHigh,
  };
}

/** Interleaved host-cost rounds of a full run (--quick runs none): about 40 s each. */
const DEFAULT_HOST_COST_ROUNDS = 3;

/** Parses the scenario's own flags: --quick, --threads=N, --modes=a,b, --cores=1,2, --host-cost-rounds=N. */
export function parseEmbeddedArgs(args: readonly string[]): EmbeddedOptions {
  const value = (name: string) => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = args[i] as string;
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
  };
  const threadsText = value('threads');
  const threads = threadsText === undefined ? os.availableParallelism() : Number(threadsText);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got "${threadsText}"`);
  const names = EMBEDDED_MODES.map((m) => m.name);
  const modes = (value('modes')?.split(',') ?? names) as EmbeddedModeName[];
  for (const m of modes) if (!names.includes(m)) throw new Error(`--modes: unknown mode "${m}" (modes: ${names.join(', ')})`);
  const quick = args.includes('--quick');
  const roundsText = value('host-cost-rounds');
  const hostCostRounds = roundsText === undefined ? (quick ? 0 : DEFAULT_HOST_COST_ROUNDS) : Number(roundsText);
  if (!Number.isInteger(hostCostRounds) || hostCostRounds < 0) throw new Error(`--host-cost-rounds must be a non-negative integer, got "${roundsText}"`);
  return { quick, threads, modes, cores: parseCoreCounts(value('cores')), hostCostRounds };
}
