// A load generator of the serve benchmark, in a process of its own so that neither infergate's nor
// the orchestrator's event loop carries it: serve.ts spawns `node serve-client.js '<Job JSON>'` with
// an IPC channel; this process opens its senders, warms them, runs the job, sends one JobReport and
// exits. Around every step it reads Triton's statistics and the CPU time of the watched processes.

import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency-histogram';
import { runOpenLoop } from './open-loop';
import { startCpuWatch } from './process-cpu';
import { searchRates } from './rate-search';
import { runAutocannon } from './serve-autocannon';
import type { AutocannonJob, Job, JobBase, JobReport, LightJob, SearchJob, StepOptions, StepReport, Target } from './serve-jobs';
import { type FraudRows, type Sender, loadFraudRows, openSender } from './serve-senders';
import { settledTritonCounters, tritonDelta } from './triton-statistics';

const WARM_CONCURRENCY = 16;

function perRequest(seconds: Record<string, number>, requests: number): Record<string, number> {
  return Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, requests > 0 ? Math.round((v * 1e6) / requests) : 0]));
}

async function warm(sender: Sender, requests: number): Promise<void> {
  for (let done = 0; done < requests; done += WARM_CONCURRENCY) {
    await Promise.all(Array.from({ length: WARM_CONCURRENCY }, () => sender.send()));
  }
}

interface StepRun {
  target: Target;
  sender: Sender;
  rate: number;
  phase: StepReport['phase'];
  attempt: number;
  /** Search steps end early once their p99 is certainly over the objective. */
  failFastAboveMs?: number;
  /** The step passes with p99 at most this; light steps, which measure rather than search, pass Infinity. */
  sloP99Ms: number;
}

async function runStep(job: JobBase & { step: StepOptions }, s: StepRun): Promise<StepReport> {
  (globalThis as { gc?: () => void }).gc?.();
  // Send-to-answer time of the measured requests: the open loop counts request i as measured from
  // index ceil(warmupMs / interval) on, and sends in index order (a dropped request fails the step).
  const firstMeasured = Math.ceil(job.step.warmupMs / (1000 / s.rate));
  const sendToAnswer = new LatencyHistogram();
  let index = 0;
  let answered = 0;
  const send = () => {
    const measured = index++ >= firstMeasured;
    const t = performance.now();
    return s.sender.send().then(
      () => {
        answered++;
        if (measured) sendToAnswer.recordMs(performance.now() - t);
      },
      (err: unknown) => {
        answered++;
        throw err;
      },
    );
  };
  const before = await settledTritonCounters(job.tritonHttp);
  const cpu = startCpuWatch(job.cpu);
  const r = await runOpenLoop(send, { ...job.step, rate: s.rate, ...(s.failFastAboveMs !== undefined ? { failFastAboveMs: s.failFastAboveMs } : {}) });
  const cpuUse = cpu();
  const triton = tritonDelta(before, await settledTritonCounters(job.tritonHttp));
  const failReason =
    r.aborted ??
    (r.errors > 0 ? `${r.errors} errors` : undefined) ??
    (r.unfinished > 0 ? `${r.unfinished} unanswered after the drain` : undefined) ??
    (r.latency.count === 0 ? 'no answers' : undefined) ??
    (r.latency.p99Ms > s.sloP99Ms ? `p99 ${r.latency.p99Ms} ms > ${s.sloP99Ms} ms` : undefined);
  const step: StepReport = {
    target: s.target.name,
    rate: s.rate,
    phase: s.phase,
    attempt: s.attempt,
    pass: failReason === undefined,
    failReason: failReason ?? null,
    sent: r.sent,
    completed: r.completed,
    errors: r.errors,
    dropped: r.dropped,
    latency: r.latency,
    sendToAnswer: sendToAnswer.summary(),
    sendLagP99Ms: r.sendLagP99Ms,
    achievedRate: r.achievedRate,
    answered,
    cpuCores: cpuUse.cores,
    cpuUsPerRequest: perRequest(cpuUse.seconds, answered),
    triton,
    firstError: r.firstError ?? null,
  };
  const cpuText = Object.entries(step.cpuUsPerRequest).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stderr.write(
    `  [${job.protocol} ${s.target.name}] ${s.phase}${s.attempt > 1 ? ` #${s.attempt}` : ''} ${s.rate}/s: p50 ${r.latency.p50Ms} p99 ${r.latency.p99Ms} ms ` +
      `(send→answer p50 ${step.sendToAnswer.p50Ms}), triton rows/exec ${triton.rowsPerExecution ?? '-'} rows/req ${triton.rowsPerRequest ?? '-'}, ` +
      `cpu µs/req ${cpuText} → ${step.pass ? 'pass' : `FAIL (${step.failReason}${step.firstError ? `: ${step.firstError}` : ''})`}\n`,
  );
  return step;
}

async function runLight(job: LightJob, rows: FraudRows): Promise<StepReport[]> {
  const senders = job.targets.map((t) => openSender(job.protocol, t.address, rows));
  try {
    for (const s of senders) await warm(s, job.warmRequests);
    const steps: StepReport[] = [];
    for (let round = 1; round <= job.repeats; round++) {
      // The targets take turns, each round starting with the next one, so drift over the run
      // (other tenants of the machine) does not favour one of them.
      for (let k = 0; k < job.targets.length; k++) {
        const i = (k + round - 1) % job.targets.length;
        steps.push(
          await runStep(job, { target: job.targets[i] as Target, sender: senders[i] as Sender, rate: job.rate, phase: 'light', attempt: round, sloP99Ms: Infinity }),
        );
      }
    }
    return steps;
  } finally {
    for (const s of senders) s.close();
  }
}

async function runSearch(job: SearchJob, rows: FraudRows): Promise<Pick<JobReport, 'steps' | 'maxRateAtSlo' | 'lowestFailingRate'>> {
  const sender = openSender(job.protocol, job.target.address, rows);
  try {
    await warm(sender, job.warmRequests);
    const base = { target: job.target, sender, sloP99Ms: job.sloP99Ms };
    const outcome = await searchRates(
      job.plan,
      async (rate, phase) => {
        const failFast = phase === 'search' ? { failFastAboveMs: job.sloP99Ms } : {};
        const first = await runStep(job, { ...base, rate, phase, attempt: 1, ...failFast });
        const nearMiss = first.errors === 0 && first.dropped === 0 && first.latency.p99Ms <= 2 * job.sloP99Ms;
        if (first.pass || !job.confirmFailures || !nearMiss) return [first];
        return [first, await runStep(job, { ...base, rate, phase, attempt: 2, ...failFast })];
      },
      (tries) => tries[tries.length - 1]?.pass === true,
    );
    return { steps: outcome.steps.flat(), maxRateAtSlo: outcome.maxPassingRate, lowestFailingRate: outcome.lowestFailingRate };
  } finally {
    sender.close();
  }
}

async function runAutocannonJob(job: AutocannonJob, rows: FraudRows): Promise<JobReport['autocannon']> {
  const sender = openSender('http', job.target.address, rows);
  try {
    await warm(sender, job.warmRequests);
  } finally {
    sender.close();
  }
  const before = await settledTritonCounters(job.tritonHttp);
  const cpu = startCpuWatch(job.cpu);
  const outcome = await runAutocannon(job.target.address, rows, job.connections, job.durationS);
  const cpuUse = cpu();
  const triton = tritonDelta(before, await settledTritonCounters(job.tritonHttp));
  process.stderr.write(
    `  [http ${job.target.name}] autocannon ${job.connections} connections: ${outcome.requestsPerSecond} req/s, p50 ${outcome.latencyP50Ms} p99 ${outcome.latencyP99Ms} ms, ` +
      `non-2xx ${outcome.non2xx}, errors ${outcome.errors}, triton rows/exec ${triton.rowsPerExecution ?? '-'}\n`,
  );
  const answered = outcome.ok + outcome.non2xx;
  return { target: job.target.name, connections: job.connections, ...outcome, cpuCores: cpuUse.cores, cpuUsPerRequest: perRequest(cpuUse.seconds, answered), triton };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  const rows = loadFraudRows();
  const first = await settledTritonCounters(job.tritonHttp);
  let report: JobReport;
  switch (job.kind) {
    case 'light':
      report = { kind: job.kind, protocol: job.protocol, steps: await runLight(job, rows), triton: tritonDelta(first, first) };
      break;
    case 'search':
      report = { kind: job.kind, protocol: job.protocol, ...(await runSearch(job, rows)), triton: tritonDelta(first, first) };
      break;
    case 'autocannon':
      report = { kind: job.kind, protocol: job.protocol, steps: [], autocannon: await runAutocannonJob(job, rows), triton: tritonDelta(first, first) };
      break;
  }
  report.triton = tritonDelta(first, await settledTritonCounters(job.tritonHttp));
  if (!process.send) throw new Error('serve-client.js must be started with an IPC channel (by serve.ts)');
  process.send(report, () => process.exit(0));
}

main().catch((err: unknown) => {
  const message = (err as Error).stack ?? String(err);
  process.stderr.write(`serve-client: ${message}\n`);
  process.exitCode = 1;
  if (process.send) process.send({ crash: message }, () => process.exit(1));
  else process.exit(1);
});
