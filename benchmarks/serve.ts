// `npm run bench -- serve [--quick] [--perf-analyzer=PATH]`
//
// Serving in front of Triton, side by side in one run: one local tritonserver replica (the fraud
// model in its Python backend, dynamic batching on) and `infergate serve --upstream` in front of it
// (the CLI, a separate process). Batch-of-one fraud tensors go to Triton directly and through
// infergate, over gRPC and over HTTP, from load generators that run in processes of their own
// (serve-client.ts). Measured: the latency infergate adds at a light rate, the highest open-loop
// rate each path sustains within a p99 objective, autocannon's closed-loop peak over HTTP, and from
// Triton's statistics how many rows each of its executions carried. Beside them, a bare Node server
// that runs no model (node-floor-server.ts) shows what any Node process in the path costs here.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type TritonCluster, startTriton } from '../test/support/triton';
import { type MachineInfo, machineInfo, runEnd } from './machine';
import { type PerfAnalyzerCheck, checkPerfAnalyzer } from './perf-analyzer-check';
import type { RatePlan } from './rate-search';
import type { CpuWatch, Job, JobReport, Protocol, StepOptions, Target } from './serve-jobs';
import { serveMarkdown } from './serve-report';
import { type ServerProcess, startInfergate, startNodeFloor } from './serve-processes';
import { ROOT } from './serve-senders';
import { type ServeSummary, summarize } from './serve-summary';

export interface ServeOptions {
  quick: boolean;
  /** A perf_analyzer binary to try besides the ones found (see perf-analyzer-check.ts). */
  perfAnalyzer: string | undefined;
}

export interface ServeSettings {
  sloP99Ms: number;
  lightRate: number;
  lightRepeats: number;
  lightStep: StepOptions;
  plan: RatePlan;
  searchStep: StepOptions;
  confirmFailures: boolean;
  autocannonConnections: number;
  autocannonDurationS: number;
  warmRequests: number;
  /** dynamic_batching.max_queue_delay_microseconds of models/fraud/config.pbtxt: what infergate waits for company. */
  infergateQueueDelayUs: number;
  /** infergate.sparse_seal_gap_microseconds of the same config (0: absent): a batch opened this long after the last goes at once. */
  infergateSparseSealGapUs: number;
  /** The flag the second infergate (the one measuring the proxy without its batching wait) runs with. */
  noDelayArgs: string[];
}

export interface ServeResult {
  machine: MachineInfo;
  loadAverageAfter: number[];
  elapsedS: number;
  settings: ServeSettings;
  commands: { triton: string; infergate: string; infergateNoDelay: string; nodeFloor: string };
  /** Every job's report, in the order run. */
  jobs: JobReport[];
  perfAnalyzer: PerfAnalyzerCheck;
  summary: ServeSummary;
}

export function serveSettings(quick: boolean): ServeSettings {
  return {
    sloP99Ms: 50,
    lightRate: 100,
    lightRepeats: quick ? 1 : 5,
    lightStep: { warmupMs: 500, durationMs: quick ? 2000 : 4000, maxOutstanding: 2000, abortLatencyMs: 2000, drainTimeoutMs: 5000 },
    plan: { ladder: [100, 250, 500, 1000, 2000, 4000], bisections: quick ? 1 : 3, maxRate: 32_000 },
    searchStep: { warmupMs: quick ? 500 : 1000, durationMs: quick ? 1500 : 4000, maxOutstanding: 5000, abortLatencyMs: 500, drainTimeoutMs: 5000 },
    confirmFailures: !quick,
    autocannonConnections: 64,
    autocannonDurationS: quick ? 3 : 8,
    warmRequests: quick ? 160 : 480,
    infergateQueueDelayUs: configuredQueueDelayUs(),
    infergateSparseSealGapUs: configuredSparseSealGapUs(),
    noDelayArgs: ['--max-queue-delay-us', '0'],
  };
}

function configuredQueueDelayUs(): number {
  const file = path.join(ROOT, 'models', 'fraud', 'config.pbtxt');
  const m = /max_queue_delay_microseconds:\s*(\d+)/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: no dynamic_batching.max_queue_delay_microseconds`);
  return Number(m[1]);
}

function configuredSparseSealGapUs(): number {
  const file = path.join(ROOT, 'models', 'fraud', 'config.pbtxt');
  const m = /key:\s*"infergate\.sparse_seal_gap_microseconds"\s*value:\s*\{\s*string_value:\s*"(\d+)"/.exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Runs one job in a fresh load-generator process and resolves with its report. */
function runJob(job: Job): Promise<JobReport> {
  const client = path.join(__dirname, 'serve-client.js');
  const child = spawn(process.execPath, ['--expose-gc', client, JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let message: (JobReport & { crash?: undefined }) | { crash: string } | undefined;
    child.on('message', (m) => (message = m as typeof message));
    child.on('error', (err) => (message = { crash: err.message }));
    child.on('close', (code, signal) => {
      if (message !== undefined && message.crash === undefined) return resolve(message);
      reject(new Error(`load generator (${job.kind}, ${job.protocol}) failed: ${message?.crash ?? `exited with ${signal ?? `code ${code}`} and no report`}`));
    });
  });
}

export async function runServeBench(options: ServeOptions): Promise<ServeResult> {
  const started = performance.now();
  const machine = machineInfo();
  const settings = serveSettings(options.quick);
  const perfAnalyzer = checkPerfAnalyzer(ROOT, options.perfAnalyzer);
  for (const c of perfAnalyzer.candidates) process.stderr.write(`perf_analyzer ${c.path} (${c.source}): ${c.runs ? 'runs' : `does not run: ${c.output.split('\n')[0]}`}\n`);

  process.stderr.write('starting tritonserver (fraud) ...\n');
  const cluster: TritonCluster = await startTriton({ models: ['fraud'] });
  const servers: ServerProcess[] = [];
  try {
    const triton = cluster.replicas[0]!;
    const infergate = await startInfergate(ROOT, triton.grpcAddress);
    servers.push(infergate);
    const noDelay = await startInfergate(ROOT, triton.grpcAddress, settings.noDelayArgs);
    servers.push(noDelay);
    const floor = await startNodeFloor(ROOT);
    servers.push(floor);
    process.stderr.write(`triton grpc=${triton.grpcAddress} http=${triton.httpUrl}; infergate grpc=${infergate.grpcAddress} http=${infergate.httpUrl}\n`);

    const cpu: CpuWatch[] = [
      { name: 'triton', group: triton.pid! },
      { name: 'infergate', pids: [infergate.pid, noDelay.pid] },
      { name: 'floor', pids: [floor.pid] },
    ];
    const base = { tritonHttp: triton.httpUrl, cpu, warmRequests: settings.warmRequests };
    const at = (protocol: Protocol, name: string, server: { grpcAddress: string; httpUrl: string }): Target => ({
      name,
      address: protocol === 'grpc' ? server.grpcAddress : server.httpUrl,
    });
    const targets = (protocol: Protocol) => ({
      direct: at(protocol, 'direct', { grpcAddress: triton.grpcAddress, httpUrl: triton.httpUrl }),
      infergate: at(protocol, 'infergate', infergate),
      noDelay: at(protocol, 'infergate-no-delay', noDelay),
      floor: at(protocol, 'node-floor', floor),
    });
    const jobs: JobReport[] = [];
    const protocols: Protocol[] = ['grpc', 'http'];

    for (const protocol of protocols) {
      const t = targets(protocol);
      process.stderr.write(`${protocol}: added latency at ${settings.lightRate}/s\n`);
      const light = [t.direct, t.infergate, t.noDelay, t.floor];
      jobs.push(await runJob({ ...base, kind: 'light', protocol, targets: light, rate: settings.lightRate, repeats: settings.lightRepeats, step: settings.lightStep }));
    }
    // The no-delay instance only serves the light-load comparison; it stops before the capacity runs.
    await noDelay.stop();
    cpu[1] = { name: 'infergate', pids: [infergate.pid] };

    for (const protocol of protocols) {
      const t = targets(protocol);
      for (const target of [t.direct, t.infergate, t.floor]) {
        process.stderr.write(`${protocol} ${target.name}: highest rate with p99 <= ${settings.sloP99Ms} ms\n`);
        jobs.push(
          await runJob({ ...base, kind: 'search', protocol, target, sloP99Ms: settings.sloP99Ms, plan: settings.plan, step: settings.searchStep, confirmFailures: settings.confirmFailures }),
        );
      }
    }
    for (const target of [targets('http').direct, targets('http').infergate]) {
      process.stderr.write(`http ${target.name}: autocannon, ${settings.autocannonConnections} connections\n`);
      jobs.push(await runJob({ ...base, kind: 'autocannon', protocol: 'http', target, connections: settings.autocannonConnections, durationS: settings.autocannonDurationS }));
    }

    return {
      machine,
      ...runEnd(started),
      settings,
      commands: {
        triton: 'test/support/triton.ts startTriton({ models: [\'fraud\'] }): tritonserver --model-repository=scripts/triton/repository --load-model=fraud (Python backend)',
        infergate: infergate.command,
        infergateNoDelay: noDelay.command,
        nodeFloor: floor.command,
      },
      jobs,
      perfAnalyzer,
      summary: summarize(jobs, settings),
    };
  } finally {
    for (const p of servers) {
      const how = await p.stop();
      if (how !== 'exit code 0') process.stderr.write(`${p.command} (pid ${p.pid}) ended with ${how}; its output ends:\n${p.log(20)}\n`);
    }
    await cluster.stop();
  }
}

/** bench.ts's entry: runs the scenario with its flags and renders its report. */
export async function serveScenario(args: string[], command: string): Promise<{ result: ServeResult; markdown: string }> {
  const result = await runServeBench(parseServeArgs(args));
  return { result, markdown: serveMarkdown(result, command) };
}

/** The scenario's flags: --quick, --perf-analyzer=PATH. */
export function parseServeArgs(args: readonly string[]): ServeOptions {
  const known = new Set(['serve', '--quick']);
  let perfAnalyzer: string | undefined;
  for (const a of args) {
    if (a.startsWith('--perf-analyzer=')) {
      perfAnalyzer = a.slice('--perf-analyzer='.length);
      if (perfAnalyzer === '') throw new Error('--perf-analyzer= needs the path of a perf_analyzer binary');
    } else if (!known.has(a)) {
      throw new Error(`serve: unknown argument "${a}" (expected --quick, --perf-analyzer=PATH)`);
    }
  }
  return { quick: args.includes('--quick'), perfAnalyzer };
}
