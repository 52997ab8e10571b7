// The serve benchmark's headline numbers, computed from the job reports: per protocol the latency
// infergate adds at a light rate (medians over the rounds), the highest rate within the p99
// objective direct and through infergate and their ratio, autocannon's peak, and the rows each
// Triton execution carried. Each target is judged against its goal.

import type { JobReport, Protocol, StepReport, TritonDelta } from './serve-jobs';
import type { ServeSettings } from './serve';

/** infergate may add at most this much at p50 under light load. */
export const ADDED_P50_TARGET_US = 150;

export interface LightTarget {
  rounds: number;
  /** Medians over the rounds of each round's percentile. */
  p50Ms: number;
  p99Ms: number;
  sendToAnswerP50Ms: number;
  /** CPU µs per request of each process (Triton, infergate, generator), median over the rounds. */
  cpuUsPerRequest: Record<string, number>;
  /** Over all rounds together. */
  triton: TritonDelta;
  errors: number;
}

export interface LightSummary {
  protocol: Protocol;
  rate: number;
  targets: Record<string, LightTarget>;
  /** p50 through infergate (model config: its queue delay) less p50 direct, µs. */
  addedP50Us: number | null;
  addedP99Us: number | null;
  /** The same for the infergate that runs with no queue delay: the proxy's own cost. */
  addedP50UsNoDelay: number | null;
  addedP99UsNoDelay: number | null;
  /** The same measured from the send (not the due time): without the generator's timer lateness. */
  addedSendToAnswerP50Us: number | null;
  addedSendToAnswerP50UsNoDelay: number | null;
}

export interface CapacityTarget {
  maxRateAtSlo: number | null;
  lowestFailingRate: number | null;
  /** The passing step at maxRateAtSlo (its last try). */
  atMax: { p50Ms: number; p99Ms: number; triton: TritonDelta; cpuCores: Record<string, number>; cpuUsPerRequest: Record<string, number> } | null;
  /** Over every step of the search. */
  triton: TritonDelta;
  errors: number;
}

export interface CapacitySummary {
  protocol: Protocol;
  direct: CapacityTarget;
  infergate: CapacityTarget;
  /** The bare Node server (node-floor-server.ts): what a Node process alone sustains here. */
  floor: CapacityTarget;
  /** infergate / direct of maxRateAtSlo. */
  ratio: number | null;
}

export interface AutocannonTarget {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  failures: number;
  cpuUsPerRequest: Record<string, number>;
  triton: TritonDelta;
}

export interface AutocannonSummary {
  connections: number;
  direct: AutocannonTarget | null;
  infergate: AutocannonTarget | null;
  ratio: number | null;
}

export interface ServeSummary {
  sloP99Ms: number;
  addedP50TargetUs: number;
  light: LightSummary[];
  capacity: CapacitySummary[];
  autocannon: AutocannonSummary;
  verdict: {
    /** Per protocol: added p50 with the model's queue delay, and with none; met = within the target. */
    addedLatency: { protocol: Protocol; addedP50Us: number | null; met: boolean; addedP50UsNoDelay: number | null; metNoDelay: boolean }[];
    /** Per protocol: infergate sustains a higher rate than direct. */
    capacity: { protocol: Protocol; ratio: number | null; met: boolean }[];
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function medianPerKey(records: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, Math.round(median(records.map((r) => r[k] ?? 0)))]));
}

function sumDeltas(ds: TritonDelta[]): TritonDelta {
  const rows = ds.reduce((n, d) => n + d.rows, 0);
  const executions = ds.reduce((n, d) => n + d.executions, 0);
  const requests = ds.reduce((n, d) => n + d.requests, 0);
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  return { rows, executions, requests, rowsPerExecution: ratio(rows, executions), rowsPerRequest: ratio(rows, requests) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const usBetween = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : Math.round((a - b) * 1000));

function lightSummary(job: JobReport, rate: number): LightSummary {
  const byTarget = new Map<string, StepReport[]>();
  for (const s of job.steps) byTarget.set(s.target, [...(byTarget.get(s.target) ?? []), s]);
  const targets: Record<string, LightTarget> = {};
  for (const [name, steps] of byTarget) {
    targets[name] = {
      rounds: steps.length,
      p50Ms: round3(median(steps.map((s) => s.latency.p50Ms))),
      p99Ms: round3(median(steps.map((s) => s.latency.p99Ms))),
      sendToAnswerP50Ms: round3(median(steps.map((s) => s.sendToAnswer.p50Ms))),
      cpuUsPerRequest: medianPerKey(steps.map((s) => s.cpuUsPerRequest)),
      triton: sumDeltas(steps.map((s) => s.triton)),
      errors: steps.reduce((n, s) => n + s.errors, 0),
    };
  }
  const d = targets['direct'];
  const i = targets['infergate'];
  const n = targets['infergate-no-delay'];
  return {
    protocol: job.protocol,
    rate,
    targets,
    addedP50Us: usBetween(i?.p50Ms, d?.p50Ms),
    addedP99Us: usBetween(i?.p99Ms, d?.p99Ms),
    addedP50UsNoDelay: usBetween(n?.p50Ms, d?.p50Ms),
    addedP99UsNoDelay: usBetween(n?.p99Ms, d?.p99Ms),
    addedSendToAnswerP50Us: usBetween(i?.sendToAnswerP50Ms, d?.sendToAnswerP50Ms),
    addedSendToAnswerP50UsNoDelay: usBetween(n?.sendToAnswerP50Ms, d?.sendToAnswerP50Ms),
  };
}

function capacityTarget(job: JobReport | undefined): CapacityTarget {
  if (!job) return { maxRateAtSlo: null, lowestFailingRate: null, atMax: null, triton: sumDeltas([]), errors: 0 };
  const max = job.maxRateAtSlo ?? null;
  const atMax = [...job.steps].reverse().find((s) => s.rate === max && s.pass);
  return {
    maxRateAtSlo: max,
    lowestFailingRate: job.lowestFailingRate ?? null,
    atMax: atMax
      ? { p50Ms: atMax.latency.p50Ms, p99Ms: atMax.latency.p99Ms, triton: atMax.triton, cpuCores: atMax.cpuCores, cpuUsPerRequest: atMax.cpuUsPerRequest }
      : null,
    triton: sumDeltas(job.steps.map((s) => s.triton)),
    errors: job.steps.reduce((n, s) => n + s.errors, 0),
  };
}

const ratioOf = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b > 0 ? Math.round((a / b) * 100) / 100 : null);

export function summarize(jobs: JobReport[], settings: ServeSettings): ServeSummary {
  const light = jobs.filter((j) => j.kind === 'light').map((j) => lightSummary(j, settings.lightRate));
  const protocols: Protocol[] = ['grpc', 'http'];
  const capacity = protocols.map((protocol): CapacitySummary => {
    const search = (name: string) => jobs.find((j) => j.kind === 'search' && j.protocol === protocol && j.steps[0]?.target === name);
    const direct = capacityTarget(search('direct'));
    const infergate = capacityTarget(search('infergate'));
    return { protocol, direct, infergate, floor: capacityTarget(search('node-floor')), ratio: ratioOf(infergate.maxRateAtSlo, direct.maxRateAtSlo) };
  });
  const cannon = (name: string): AutocannonTarget | null => {
    const a = jobs.find((j) => j.kind === 'autocannon' && j.autocannon?.target === name)?.autocannon;
    if (!a) return null;
    return { requestsPerSecond: a.requestsPerSecond, latencyP50Ms: a.latencyP50Ms, latencyP99Ms: a.latencyP99Ms, failures: a.non2xx + a.errors, cpuUsPerRequest: a.cpuUsPerRequest, triton: a.triton };
  };
  const autocannon: AutocannonSummary = {
    connections: settings.autocannonConnections,
    direct: cannon('direct'),
    infergate: cannon('infergate'),
    ratio: ratioOf(cannon('infergate')?.requestsPerSecond, cannon('direct')?.requestsPerSecond),
  };
  const within = (us: number | null) => us !== null && us <= ADDED_P50_TARGET_US;
  return {
    sloP99Ms: settings.sloP99Ms,
    addedP50TargetUs: ADDED_P50_TARGET_US,
    light,
    capacity,
    autocannon,
    verdict: {
      addedLatency: light.map((l) => ({
        protocol: l.protocol,
        addedP50Us: l.addedP50Us,
        met: within(l.addedP50Us),
        addedP50UsNoDelay: l.addedP50UsNoDelay,
        metNoDelay: within(l.addedP50UsNoDelay),
      })),
      capacity: capacity.map((c) => ({ protocol: c.protocol, ratio: c.ratio, met: c.ratio !== null && c.ratio > 1 })),
    },
  };
}
