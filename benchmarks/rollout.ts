// `npm run bench -- rollout [--quick] [--rounds=N]`
//
// What rollouts cost the traffic they happen under (docs/rollouts.md), in one process, on the
// fraud model, with open-loop load (latency from each request's due time, open-loop.ts):
//   1. a shadow's cost on the primary: none, a shadow on another loaded version, a saturated one;
//   2. hot swaps (reloads to a new version folder) under load, against the same load without;
//   3. rollback time, as a blue/green switch back and as a rollback that must load the version;
//   4. the prediction log's cost: none, a file at input-sampling 0, at 0.01.
// Parts 1, 2 and 4 run in rounds, their modes interleaved (the order rotates each round), and the
// summary gives medians over rounds: the machine is shared, and only side-by-side ratios hold.

import { performance } from 'node:perf_hooks';
import { type MachineInfo, machineInfo, runEnd } from './machine';
import {
  type LogStep,
  type RollbackSeries,
  type RolloutSettings,
  SHADOW_MODES,
  SWAP_MODES,
  type ShadowStep,
  type SwapStep,
} from './rollout-results';
import { RolloutRuntimes, logStep, rollbackSeries, shadowStep, swapStep } from './rollout-sections';
import { type RolloutSummary, summarizeRollout } from './rollout-summary';

export interface RolloutOptions {
  quick: boolean;
  rounds: number;
}

export interface RolloutResult {
  machine: MachineInfo;
  loadAverageAfter: number[];
  elapsedS: number;
  settings: RolloutSettings;
  executorThreads: number;
  shadow: ShadowStep[];
  swap: SwapStep[];
  rollback: RollbackSeries[];
  predictionLog: LogStep[];
  summary: RolloutSummary;
}

export function rolloutSettings(o: RolloutOptions): RolloutSettings {
  const quick = o.quick;
  return {
    rounds: o.rounds,
    warmupMs: quick ? 250 : 1000,
    durationMs: quick ? 1500 : 5000,
    drainTimeoutMs: 10_000,
    maxOutstanding: 50_000,
    // Never end a step early: a stall during a swap is what the step is there to show.
    abortLatencyMs: 60_000,
    warmRequests: quick ? 500 : 2000,
    shadowRates: [1000, 4000],
    saturatedShadow: { maxConcurrency: 1, maxQueue: 16 },
    swapRate: 2000,
    swapDurationMs: quick ? 3000 : 10_000,
    reloadsPerWindow: quick ? 2 : 5,
    rollbackRate: 1000,
    rollbackRepetitions: quick ? 3 : 10,
    rollbackSpacingMs: { switch: 200, reload: 800 },
    logRate: 2000,
    logSampleRates: [0, 0.01],
  };
}

export async function runRolloutBench(options: RolloutOptions): Promise<RolloutResult> {
  const started = performance.now();
  const machine = machineInfo();
  const s = rolloutSettings(options);
  const runtimes = await RolloutRuntimes.open(s);
  const executorThreads = runtimes.shadowRt.executor.threads;
  const shadow: ShadowStep[] = [];
  const swap: SwapStep[] = [];
  const predictionLog: LogStep[] = [];
  const rollback: RollbackSeries[] = [];
  try {
    await runtimes.warm(s.warmRequests);
    for (let round = 1; round <= s.rounds; round++) {
      for (const rate of s.shadowRates) {
        for (const mode of rotate(SHADOW_MODES, round)) {
          progress(`round ${round}: shadow ${mode} at ${rate}/s`);
          shadow.push(await shadowStep(runtimes, s, round, rate, mode));
        }
      }
      for (const mode of rotate(SWAP_MODES, round)) {
        progress(`round ${round}: ${mode} at ${s.swapRate}/s`);
        swap.push(await swapStep(runtimes, s, round, mode));
      }
      for (const log of rotate(runtimes.logs, round)) {
        progress(`round ${round}: prediction log ${log.mode} at ${s.logRate}/s`);
        predictionLog.push(await logStep(log, s, round));
      }
    }
    for (const kind of ['switch', 'reload'] as const) {
      progress(`rollback (${kind}) × ${s.rollbackRepetitions} under ${s.rollbackRate}/s`);
      rollback.push(await rollbackSeries(s, kind));
    }
  } finally {
    await runtimes.close();
  }
  return {
    machine,
    ...runEnd(started),
    settings: s,
    executorThreads,
    shadow,
    swap,
    rollback,
    predictionLog,
    summary: summarizeRollout(s, shadow, swap, rollback, predictionLog),
  };
}

/** The list started at a different element each round, so that no mode always runs first. */
function rotate<T>(list: readonly T[], round: number): T[] {
  const k = (round - 1) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

const MAX_ROUNDS = 20;

/** Parses the scenario's own flags: --quick, --rounds=N. */
export function parseRolloutArgs(args: readonly string[]): RolloutOptions {
  for (const a of args) {
    if (a !== '--quick' && !a.startsWith('--rounds=')) throw new Error(`rollout: unknown flag "${a}" (flags: --quick, --rounds=N)`);
  }
  const quick = args.includes('--quick');
  const roundsText = args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length);
  const rounds = roundsText === undefined ? (quick ? 1 : 3) : Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) throw new Error(`--rounds must be an integer in 1..${MAX_ROUNDS}, got "${roundsText}"`);
  return { quick, rounds };
}
