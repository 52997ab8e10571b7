// One mode of a benchmark scenario, run in a process of its own (spawn-runner.ts starts
// `node runner.js '<RunnerConfig JSON>'` with an IPC channel): opens the mode, warms it, runs the
// ladder and the rate search, sends back a ModeReport and exits.

import { runOpenLoop } from '../open-loop';
import { searchRates } from '../rate-search';
import { openInfergate } from './infergate';
import { type BatchCounters, MODES, type ModeHandle, type ModeName } from './mode';
import { openOrtMain } from './ort-main';
import { openPiscina } from './piscina';
import type { ModeReport, RunnerConfig, StepReport } from './protocol';
import { openTritonBatched } from './triton-batched';
import { openTritonPerRequest } from './triton-per-request';
import { type TritonCounters, tritonInterval } from './triton-statistics';

/** How each mode is opened; a Record, so a mode added to ModeName cannot be left without one. */
const OPENERS: Record<ModeName, (config: RunnerConfig) => Promise<ModeHandle>> = {
  baseline: async () => ({ send: () => Promise.resolve(), close: async () => undefined }),
  'ort-main': () => openOrtMain(),
  piscina: (config) => openPiscina({ threads: config.threads }),
  infergate: () => openInfergate(),
  'triton-per-request': (config) => openTritonPerRequest(tritonEndpoint(config)),
  'triton-batched': (config) => openTritonBatched(tritonEndpoint(config), false),
  'triton-shm': (config) => openTritonBatched(tritonEndpoint(config), true),
};

function tritonEndpoint(config: RunnerConfig): string {
  const e = config.tritonEndpoint;
  if (typeof e !== 'string' || e === '') throw new Error(`mode "${config.mode}" needs RunnerConfig.tritonEndpoint ("host:port" of Triton's gRPC endpoint)`);
  return e;
}

/** The server's counters, or undefined when the mode has none or the server would not say. */
async function readTriton(handle: ModeHandle): Promise<TritonCounters | undefined> {
  try {
    return await handle.tritonCounters?.();
  } catch (err) {
    process.stderr.write(`runner: ${(err as Error).message}\n`);
    return undefined;
  }
}

async function warm(handle: ModeHandle, requests: number): Promise<void> {
  for (let done = 0; done < requests; done += 16) {
    await Promise.all(Array.from({ length: 16 }, () => handle.send().catch(() => undefined)));
  }
}

function batchMean(before: BatchCounters | undefined, after: BatchCounters | undefined): number | null {
  if (!before || !after || after.batches <= before.batches) return null;
  return Math.round(((after.rows - before.rows) / (after.batches - before.batches)) * 100) / 100;
}

type Step = StepReport & { firstError?: string };

/**
 * Runs a rate; with config.confirmFailures, a near miss (p99 under twice the objective, no errors or
 * drops) runs once more and the rate passes if the second try does. Both tries are reported.
 */
async function runRate(handle: ModeHandle, config: RunnerConfig, rate: number, phase: StepReport['phase']): Promise<Step[]> {
  const first = await runStep(handle, config, rate, phase, 1);
  const nearMiss = first.errors === 0 && first.dropped === 0 && first.p99Ms <= 2 * config.sloP99Ms;
  if (first.pass || !config.confirmFailures || !nearMiss) return [first];
  return [first, await runStep(handle, config, rate, phase, 2)];
}

async function runStep(handle: ModeHandle, config: RunnerConfig, rate: number, phase: StepReport['phase'], attempt: number): Promise<Step> {
  (globalThis as { gc?: () => void }).gc?.();
  const tritonBefore = await readTriton(handle);
  const before = handle.counters?.();
  const r = await runOpenLoop(() => handle.send(), {
    ...config.step,
    rate,
    ...(phase === 'search' ? { failFastAboveMs: config.sloP99Ms } : {}),
  });
  const after = handle.counters?.();
  const tritonAfter = await readTriton(handle);
  const slo = config.sloP99Ms;
  const failReason =
    r.aborted ??
    (r.errors > 0 ? `${r.errors} errors` : undefined) ??
    (r.unfinished > 0 ? `${r.unfinished} unanswered after the drain` : undefined) ??
    (r.latency.count === 0 ? 'no answers' : undefined) ??
    (r.latency.p99Ms > slo ? `p99 ${r.latency.p99Ms} ms > ${slo} ms` : undefined);
  const step: Step = {
    rate,
    phase,
    attempt,
    pass: failReason === undefined,
    failReason: failReason ?? null,
    sent: r.sent,
    completed: r.completed,
    errors: r.errors,
    dropped: r.dropped,
    unfinished: r.unfinished,
    p50Ms: r.latency.p50Ms,
    p95Ms: r.latency.p95Ms,
    p99Ms: r.latency.p99Ms,
    maxMs: r.latency.maxMs,
    meanMs: r.latency.meanMs,
    sendLagP99Ms: r.sendLagP99Ms,
    achievedRate: r.achievedRate,
    windowMs: r.host.wallMs,
    eventLoopUtilization: r.host.eventLoopUtilization,
    eventLoopUsPerRequest: r.eventLoopUsPerRequest,
    eventLoopNetUsPerRequest: null,
    mainThreadCpuUsPerRequest: r.mainThreadCpuUsPerRequest,
    mainThreadCpuNetUsPerRequest: null,
    eventLoopDelayP99Ms: r.host.eventLoopDelayP99Ms,
    eventLoopDelayMaxMs: r.host.eventLoopDelayMaxMs,
    cpuCores: r.host.cpuCores,
    meanBatchSize: batchMean(before, after),
  };
  if (handle.tritonCounters) step.triton = tritonInterval(tritonBefore, tritonAfter);
  if (r.firstError !== undefined) step.firstError = r.firstError;
  process.stderr.write(
    `  [${config.mode}] ${phase}${attempt > 1 ? ` (try ${attempt})` : ''} ${rate}/s: p50 ${step.p50Ms} p99 ${step.p99Ms} max ${step.maxMs} ms, ` +
      `loop ${step.eventLoopUsPerRequest ?? '-'} µs/req, main cpu ${step.mainThreadCpuUsPerRequest ?? '-'} µs/req, cpu ${step.cpuCores}` +
      `${step.meanBatchSize === null ? '' : `, batch ${step.meanBatchSize}`}` +
      `${step.triton ? `, triton rows/exec ${step.triton.rowsPerExecution ?? '-'}` : ''} → ${step.pass ? 'pass' : `FAIL (${step.failReason})`}\n`,
  );
  return step;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as RunnerConfig;
  const info = MODES.find((m) => m.name === config.mode);
  if (!info) throw new Error(`unknown mode "${config.mode}"`);
  const handle = await OPENERS[config.mode](config);
  await warm(handle, config.warmRequests);
  const first = handle.counters?.();
  const tritonFirst = await readTriton(handle);
  const outcome = await searchRates(
    config.plan,
    (rate, phase) => runRate(handle, config, rate, phase),
    (tries) => tries[tries.length - 1]?.pass === true,
  );
  const steps = outcome.steps.flat();
  const last = handle.counters?.();
  const tritonLast = await readTriton(handle);
  await handle.close();
  const firstError = steps.find((s) => s.firstError !== undefined)?.firstError ?? null;
  const report: ModeReport = {
    mode: config.mode,
    label: info.label,
    description: info.description,
    threads: config.mode === 'piscina' ? config.threads : null,
    steps: steps.map(({ firstError: _, ...s }) => s),
    maxRateAtSlo: outcome.maxPassingRate,
    lowestFailingRate: outcome.lowestFailingRate,
    meanBatchSize: batchMean(first, last),
    errors: steps.reduce((n, s) => n + s.errors, 0),
    firstError,
  };
  if (handle.tritonCounters) report.triton = tritonInterval(tritonFirst, tritonLast);
  send(report);
}

function send(message: unknown): void {
  if (!process.send) throw new Error('runner.js must be started with an IPC channel (by spawn-runner.ts)');
  process.send(message, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`runner: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
  if (process.send) process.send({ crash: (err as Error).stack ?? String(err) }, () => process.exit(1));
  else process.exit(1);
});
