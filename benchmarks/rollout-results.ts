// The shapes of the rollout benchmark's results (rollout.ts): its settings and each kind of step,
// as written to the JSON file and read by the summary and the report.

import type { LatencySummary } from './latency-histogram';
import type { OpenLoopOptions, OpenLoopResult } from './open-loop';
import type { ShadowTrafficStats } from '../src/routing/shadow-traffic';

export interface RolloutSettings {
  rounds: number;
  /** Each step: unmeasured load first, then the measured window (the swap steps have their own). */
  warmupMs: number;
  durationMs: number;
  drainTimeoutMs: number;
  maxOutstanding: number;
  abortLatencyMs: number;
  /** Requests each runtime scores before the first step (JIT, sessions, executor threads). */
  warmRequests: number;
  shadowRates: number[];
  /** The saturated shadow's bounds: copies past them are dropped. */
  saturatedShadow: { maxConcurrency: number; maxQueue: number };
  swapRate: number;
  swapDurationMs: number;
  reloadsPerWindow: number;
  rollbackRate: number;
  rollbackRepetitions: number;
  /** Spacing of the rollbacks inside their window, per kind. */
  rollbackSpacingMs: { switch: number; reload: number };
  logRate: number;
  logSampleRates: number[];
}

/** One open-loop step, trimmed to what the report reads. */
export interface LoadStep {
  round: number;
  rate: number;
  latency: LatencySummary;
  /** Failed requests, warmup included. */
  errors: number;
  firstError: string | null;
  /** Requests the generator could not send (too many in flight) and requests unanswered at the end. */
  generatorDrops: number;
  unfinished: number;
  aborted: string | null;
  achievedRate: number;
  sendLagP99Ms: number;
  /** Main-thread event-loop busy µs per answer in the window. */
  eventLoopUsPerRequest: number | null;
  /** Main-thread on-CPU µs per answer in the window. */
  mainThreadCpuUsPerRequest: number | null;
  /** Process CPU (executor threads included) in cores over the window. */
  processCpuCores: number;
}

export type ShadowMode = 'none' | 'shadow' | 'saturated';
export const SHADOW_MODES: readonly ShadowMode[] = ['none', 'shadow', 'saturated'];

export interface ShadowStep extends LoadStep {
  mode: ShadowMode;
  /** The shadow's queue counters over the step (warmup included); null without a shadow. */
  shadow: ShadowTrafficStats | null;
}

export type SwapMode = 'steady' | 'swapping';
export const SWAP_MODES: readonly SwapMode[] = ['steady', 'swapping'];

export interface Reload {
  /** The version folder added and loaded. */
  version: number;
  /** rt.loadModel(): from the call until the new version served and the old one had drained. */
  ms: number;
  /** When the reload started, from the start of the measured window. */
  startedAtMs: number;
}

export interface SwapStep extends LoadStep {
  mode: SwapMode;
  reloads: Reload[];
  reloadsAfterWindow: number;
  /** Answers per model version over the step. */
  answersByVersion: Record<string, number>;
}

export type RollbackKind = 'switch' | 'reload';

export interface Rollback {
  from: number | undefined;
  to: number | undefined;
  reloaded: boolean;
  /** RollbackResult.milliseconds: until the earlier version took traffic. */
  ms: number;
  /** The whole call (a reload also waits for the version rolled back from to drain). */
  callMs: number;
  startedAtMs: number;
}

export interface RollbackSeries {
  kind: RollbackKind;
  /** The load the rollbacks ran under. */
  load: LoadStep;
  rollbacks: Rollback[];
  rollbacksAfterWindow: number;
  answersByVersion: Record<string, number>;
}

export interface LogStep extends LoadStep {
  mode: string;
  /** null: no prediction log. */
  sampleInputs: number | null;
  linesWritten: number;
  linesDropped: number;
  ioErrors: number;
  /** Bytes the log file grew by over the step. */
  bytes: number;
}

/** The open-loop options of a step at `rate` with a window of `durationMs`. */
export function stepOptions(s: RolloutSettings, rate: number, durationMs = s.durationMs): OpenLoopOptions {
  return { rate, warmupMs: s.warmupMs, durationMs, maxOutstanding: s.maxOutstanding, abortLatencyMs: s.abortLatencyMs, drainTimeoutMs: s.drainTimeoutMs };
}

export function loadStep(round: number, r: OpenLoopResult): LoadStep {
  return {
    round,
    rate: r.rate,
    latency: r.latency,
    errors: r.errors,
    firstError: r.firstError ?? null,
    generatorDrops: r.dropped,
    unfinished: r.unfinished,
    aborted: r.aborted ?? null,
    achievedRate: r.achievedRate,
    sendLagP99Ms: r.sendLagP99Ms,
    eventLoopUsPerRequest: r.eventLoopUsPerRequest,
    mainThreadCpuUsPerRequest: r.mainThreadCpuUsPerRequest,
    processCpuCores: r.host.cpuCores,
  };
}
