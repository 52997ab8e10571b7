// What a scenario (embedded.ts, triton.ts) sends a mode runner (as its one argument, JSON) and what
// the runner sends back (one IPC message).

import type { OpenLoopOptions } from '../open-loop';
import type { Phase, RatePlan } from '../rate-search';
import type { ModeName } from './mode';
import type { TritonIntervalStats } from './triton-statistics';

/** The open-loop settings every scenario's steps share (the results files record them). */
export interface StepSettings {
  sloP99Ms: number;
  ladder: number[];
  bisections: number;
  maxRate: number;
  warmupMs: number;
  durationMs: number;
  maxOutstanding: number;
  abortLatencyMs: number;
  drainTimeoutMs: number;
  warmRequests: number;
  confirmFailures: boolean;
}

/** A runner's step options from a scenario's settings. */
export function stepOptions(s: StepSettings): Omit<OpenLoopOptions, 'rate' | 'failFastAboveMs'> {
  return { warmupMs: s.warmupMs, durationMs: s.durationMs, maxOutstanding: s.maxOutstanding, abortLatencyMs: s.abortLatencyMs, drainTimeoutMs: s.drainTimeoutMs };
}

export interface RunnerConfig<N extends ModeName = ModeName> {
  mode: N;
  threads: number;
  /** Pins the runner's process to these CPUs (taskset's list, e.g. "0-1"); absent: no pinning. */
  cpus?: string;
  /** "host:port" of the Triton server's gRPC endpoint, for the modes that forward to one. */
  tritonEndpoint?: string;
  /** The latency objective a step must meet to pass. */
  sloP99Ms: number;
  plan: RatePlan;
  step: Omit<OpenLoopOptions, 'rate' | 'failFastAboveMs'>;
  /** Run a rate that just missed the objective once more; it passes if the second try does. */
  confirmFailures: boolean;
  /** Requests scored (closed loop, 16 at a time) before the first step, to warm JIT, sessions, workers. */
  warmRequests: number;
}

export interface StepReport {
  rate: number;
  phase: Phase;
  /** 2 for the second try of a rate whose first try just missed (RunnerConfig.confirmFailures). */
  attempt: number;
  pass: boolean;
  failReason: string | null;
  sent: number;
  completed: number;
  errors: number;
  dropped: number;
  unfinished: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  sendLagP99Ms: number;
  achievedRate: number;
  windowMs: number;
  eventLoopUtilization: number;
  eventLoopUsPerRequest: number | null;
  /** eventLoopUsPerRequest less the baseline mode's at the same rate (set by embedded.ts); null without one. */
  eventLoopNetUsPerRequest: number | null;
  /** The main thread's on-CPU µs per request (Linux); null where it cannot be read. */
  mainThreadCpuUsPerRequest: number | null;
  /** mainThreadCpuUsPerRequest less the baseline mode's at the same rate (set by embedded.ts). */
  mainThreadCpuNetUsPerRequest: number | null;
  eventLoopDelayP99Ms: number | null;
  eventLoopDelayMaxMs: number | null;
  cpuCores: number;
  /** rows / batches over the step (warmup and drain included); null where the mode has no stats. */
  meanBatchSize: number | null;
  /** The Triton server's own view of the step (warmup and drain included); only for modes that forward to one. */
  triton?: TritonIntervalStats | null;
}

export interface ModeReport<N extends ModeName = ModeName> {
  mode: N;
  label: string;
  description: string;
  /** Worker threads; null for modes without a pool of their own. */
  threads: number | null;
  /** Every step run, in the order run; a rate tried twice appears twice. */
  steps: StepReport[];
  /** Highest rate whose step met the objective; null if none did. */
  maxRateAtSlo: number | null;
  lowestFailingRate: number | null;
  /** rows / batches over all steps; null where the mode has no stats. */
  meanBatchSize: number | null;
  errors: number;
  firstError: string | null;
  /** The Triton server's own view over all steps; only for modes that forward to one. */
  triton?: TritonIntervalStats | null;
  /** Set when the runner itself failed (then steps may be incomplete). */
  crash?: string;
}
