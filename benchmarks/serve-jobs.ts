// What serve.ts asks a load-generator process (serve-client.ts) to do, and what it answers: one job
// per process, given as its one argument (JSON), answered as one IPC message.

import type { LatencySummary } from './latency-histogram';
import type { OpenLoopOptions } from './open-loop';
import type { Phase, RatePlan } from './rate-search';
import type { TritonCounters } from './triton-statistics';
import type { AutocannonOutcome } from './serve-autocannon';

export type Protocol = 'grpc' | 'http';

/** Where the load goes: Triton itself, or infergate in front of it. */
export interface Target {
  /** 'direct', 'infergate', 'infergate-no-delay'. */
  name: string;
  /** gRPC: "host:port"; HTTP: "http://host:port". */
  address: string;
}

/** Processes whose CPU time is read around each step (Linux /proc). */
export interface CpuWatch {
  name: string;
  /** A process group (Triton and its Python backend stubs) ... */
  group?: number;
  /** ... or single processes. */
  pids?: number[];
}

export interface JobBase {
  protocol: Protocol;
  /** Triton's HTTP endpoint, for its statistics around each step. */
  tritonHttp: string;
  cpu: CpuWatch[];
  /** Closed-loop requests (16 at a time) per target before the first step: connections, JIT. */
  warmRequests: number;
}

export type StepOptions = Omit<OpenLoopOptions, 'rate' | 'failFastAboveMs'>;

/** Added latency: the same low rate to every target, the targets taking turns, `repeats` rounds. */
export interface LightJob extends JobBase {
  kind: 'light';
  targets: Target[];
  rate: number;
  repeats: number;
  step: StepOptions;
}

/** Capacity: the highest open-loop rate whose p99 stays within the objective (rate-search.ts). */
export interface SearchJob extends JobBase {
  kind: 'search';
  target: Target;
  sloP99Ms: number;
  plan: RatePlan;
  step: StepOptions;
  /** Run a rate that just missed (p99 under twice the objective, no errors) once more. */
  confirmFailures: boolean;
}

/** Closed-loop peak requests/s over HTTP with autocannon. */
export interface AutocannonJob extends JobBase {
  kind: 'autocannon';
  target: Target;
  connections: number;
  durationS: number;
}

export type Job = LightJob | SearchJob | AutocannonJob;

/** What Triton did during a step: deltas of its model statistics. */
export interface TritonDelta {
  /** Rows inferred. */
  rows: number;
  /** Model executions (batches Triton's scheduler formed). */
  executions: number;
  /** Requests Triton received and answered successfully. */
  requests: number;
  /** rows / executions; null without executions. */
  rowsPerExecution: number | null;
  /** rows / requests: how many rows each request Triton received carried. */
  rowsPerRequest: number | null;
}

export interface StepReport {
  target: string;
  rate: number;
  phase: Phase | 'light';
  /** Light: the round; search: 2 for the second try of a near miss. */
  attempt: number;
  pass: boolean;
  failReason: string | null;
  sent: number;
  completed: number;
  errors: number;
  dropped: number;
  /** Latency from each request's due time (open loop: the generator's lateness counts). */
  latency: LatencySummary;
  /** Latency from the moment each measured request was handed to the client library. */
  sendToAnswer: LatencySummary;
  sendLagP99Ms: number;
  achievedRate: number;
  /** Requests answered over the whole step (warmup, window, drain), failed ones included. */
  answered: number;
  /** CPU of each watched process and of the generator over the whole step, in cores. */
  cpuCores: Record<string, number>;
  /** The same as CPU µs per answered request: what one request costs each process. */
  cpuUsPerRequest: Record<string, number>;
  triton: TritonDelta;
  firstError: string | null;
}

export interface AutocannonReport extends AutocannonOutcome {
  target: string;
  connections: number;
  cpuCores: Record<string, number>;
  cpuUsPerRequest: Record<string, number>;
  triton: TritonDelta;
}

export interface JobReport {
  kind: Job['kind'];
  protocol: Protocol;
  /** Every step run, in order (light and search jobs). */
  steps: StepReport[];
  /** Search jobs: highest passing rate, lowest failing one. */
  maxRateAtSlo?: number | null;
  lowestFailingRate?: number | null;
  autocannon?: AutocannonReport;
  /** Triton's counters around the whole job. */
  triton: TritonDelta;
}

export type { TritonCounters };
