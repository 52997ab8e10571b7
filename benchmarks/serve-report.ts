// The Markdown report of the serve benchmark: the verdict on both goals and what explains it, the
// three comparisons (added latency, capacity within the objective, autocannon's peak), where the
// CPU goes, Triton's rows per execution, the perf_analyzer check, then every step.

import type { ServeResult } from './serve';
import type { JobReport, StepReport, TritonDelta } from './serve-jobs';
import type { AutocannonTarget, CapacityTarget } from './serve-summary';
import { runLines } from './report-format';

const LABEL: Record<string, string> = {
  direct: 'Triton directly',
  infergate: 'through infergate',
  'infergate-no-delay': 'through infergate, `--max-queue-delay-us 0`',
  'node-floor': 'bare Node server, no model (floor)',
};
const label = (name: string) => LABEL[name] ?? name;
/** The processes whose CPU each row shows, in order (see cpuCells). */
const CPU_COLUMNS = 'Triton, infergate, floor, generator';

export function serveMarkdown(result: ServeResult, command: string): string {
  const { machine: m } = result;
  return [
    '# Serving in front of Triton: direct against through `infergate serve --upstream` (fraud model)',
    '',
    ...runLines(command, result.elapsedS, m, result.loadAverageAfter),
    '',
    `> The machine is shared with other engineers' builds and tests, and its ${m.cpus} cores carry everything here at once:`,
    '> Triton and its Python backend stub, infergate, and the load generator. Absolute latencies move with the other',
    '> tenants (the generator\'s own send lag shows it); read differences and ratios within this file. Light-load figures',
    '> are medians over rounds in which the targets took turns; CPU per request is the steadier measure.',
    '',
    ...verdictSection(result),
    ...setupSection(result),
    ...lightSection(result),
    ...capacitySection(result),
    ...autocannonSection(result),
    ...cpuSection(result),
    ...rowsSection(result),
    ...perfAnalyzerSection(result),
    '## Every step',
    '',
    ...result.jobs.flatMap(jobSection),
  ].join('\n');
}

/** How a request at the light rate waits for company under the model's configuration. */
function waitWords(s: ServeResult['settings']): string {
  const gap = s.infergateSparseSealGapUs;
  const sparse = gap > 0 && 1_000_000 / s.lightRate > gap;
  return sparse
    ? `where a request ${1_000_000 / s.lightRate} µs after the last is sealed at once (sparse gap ${gap} µs) instead of waiting up to ${s.infergateQueueDelayUs} µs for company`
    : `which includes waiting up to ${s.infergateQueueDelayUs} µs for company`;
}

function verdictSection(result: ServeResult): string[] {
  const { summary, settings } = result;
  const out = ['## Verdict', ''];
  for (const v of summary.verdict.addedLatency) {
    const light = summary.light.find((l) => l.protocol === v.protocol);
    const cpu = light?.targets['infergate']?.cpuUsPerRequest['infergate'];
    const floor = light?.targets['node-floor'];
    out.push(
      `- **Added latency, ${v.protocol}** (goal: ≤ ${summary.addedP50TargetUs} µs at p50, at ${settings.lightRate}/s): **${us(v.addedP50Us)}** with the model's ` +
        `configuration, ${waitWords(settings)} (${v.met ? 'met' : 'not met'}); ` +
        `${us(v.addedP50UsNoDelay)} with \`--max-queue-delay-us 0\` (${v.metNoDelay ? 'met' : 'not met'}). ` +
        `infergate spent ${cpu ?? '–'} µs of CPU per request there` +
        (floor ? `; a bare Node server that runs no model answers in ${floor.p50Ms} ms at p50 and spends ${floor.cpuUsPerRequest['floor'] ?? '–'} µs per request.` : '.'),
    );
  }
  for (const v of summary.verdict.capacity) {
    const c = summary.capacity.find((x) => x.protocol === v.protocol);
    out.push(
      `- **Capacity, ${v.protocol}** (goal: through infergate > direct, highest open-loop rate with p99 ≤ ${summary.sloP99Ms} ms): ` +
        `${rateText(c?.infergate)} through infergate against ${rateText(c?.direct)} direct: **${fmt(v.ratio, '×')}** (${v.met ? 'met' : 'not met'}); ` +
        `the bare Node server alone holds ${rateText(c?.floor)}.`,
    );
  }
  const a = summary.autocannon;
  out.push(
    `- **autocannon, HTTP, ${a.connections} connections**: ${a.infergate?.requestsPerSecond ?? '–'} req/s through infergate against ${a.direct?.requestsPerSecond ?? '–'} direct ` +
      `(**${fmt(a.ratio, '×')}**). Triton executed ${fmt(a.infergate?.triton.rowsPerExecution)} rows per execution through infergate against ` +
      `${fmt(a.direct?.triton.rowsPerExecution)} direct, and received ${fmt(a.infergate?.triton.rowsPerRequest)} rows per request instead of 1.`,
  );
  if (a.direct && a.infergate) out.push('', ...cpuExplanation(a.direct, a.infergate, result.machine.cpus));
  out.push('');
  return out;
}

/** What the CPU figures at autocannon's peak say about capacity on one shared machine. */
function cpuExplanation(direct: AutocannonTarget, through: AutocannonTarget, cores: number): string[] {
  const c = (t: AutocannonTarget, k: string) => t.cpuUsPerRequest[k] ?? 0;
  const total = (t: AutocannonTarget) => c(t, 'triton') + c(t, 'infergate') + c(t, 'generator');
  const saved = c(direct, 'triton') - c(through, 'triton');
  return [
    `Where it goes (CPU µs per request at autocannon's peak, section 4): batching before the network ${saved >= 0 ? `saves Triton ${saved} µs` : `costs Triton ${-saved} µs more`} ` +
      `per request (${c(direct, 'triton')} → ${c(through, 'triton')}), and infergate itself spends ${c(through, 'infergate')} µs; the whole path costs ` +
      `${total(through)} µs against ${total(direct)} µs direct (load generator included). Here every process shares the same ${cores} cores, so the`,
    'proxy\'s own cost comes out of Triton\'s capacity; the ratios above are what that trade gives on this machine.',
  ];
}

function setupSection(result: ServeResult): string[] {
  const s = result.settings;
  const delay = s.infergateQueueDelayUs;
  return [
    '## Setup',
    '',
    `- Triton: ${result.commands.triton}; one instance, \`max_batch_size\` 256, dynamic batching (preferred 32, 64; 500 µs).`,
    `- infergate: \`${result.commands.infergate}\`, batching from models/fraud/config.pbtxt (\`max_batch_size\` 256,`,
    `  preferred 32, 64; \`max_queue_delay_microseconds\` ${delay}): a request waits up to ${delay} µs for company, then its`,
    s.infergateSparseSealGapUs > 0
      ? `  batch goes to Triton as one ModelInfer; a batch opened more than ${s.infergateSparseSealGapUs} µs after the last (\`infergate.sparse_seal_gap_microseconds\`) goes at once.`
      : '  batch goes to Triton as one ModelInfer.',
    `- For the added latency only, a second instance, \`${result.commands.infergateNoDelay}\`, forwards every`,
    '  request at once: what the proxy costs without its batching wait. It is stopped before the capacity runs.',
    `- The floor: \`${result.commands.nodeFloor}\`, grpc-js and node:http answering each golden row from a table (no model).`,
    '- Load generators: separate Node processes (benchmarks/serve-client.ts), one per job. gRPC: the project\'s generated',
    '  client (`inferenceService().Client`, one channel per target), ModelInfer with `raw_input_contents`. HTTP: KServe v2',
    '  JSON `POST /v2/models/fraud/infer` on a keep-alive agent of 64 sockets. Every request is one [1, 40] FP32 row of',
    '  test/fixtures/fraud/golden.json `tensors`, cycled, and every answer is checked against the golden score (±1e-5):',
    '  a wrong answer counts as an error.',
    '- CPU: utime + stime from /proc of Triton\'s process group (server and Python stub), of the infergate process(es), of',
    '  the floor and of the generator, over each whole step, divided by the requests answered in it. A server that the',
    '  step does not use shows its idle cost there (infergate: its health probes of Triton). In section 1 the infergate',
    '  column adds up both instances, the one serving and the idle one: the idle share is half the figure on the other rows.',
    '',
  ];
}

function lightSection(result: ServeResult): string[] {
  const { settings: s, summary } = result;
  const lines = [
    `## 1. Added latency at ${s.lightRate}/s (open loop, ${s.lightRepeats} round(s) of ${s.lightStep.durationMs / 1000} s per path)`,
    '',
    `| protocol | path | p50 ms | p99 ms | p50 added | p99 added | send→answer p50 ms | CPU µs / request: ${CPU_COLUMNS} | errors |`,
    '|---|---|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const l of summary.light) {
    const direct = l.targets['direct'];
    for (const [name, t] of Object.entries(l.targets)) {
      const first = name === 'direct' || name === 'node-floor' || direct === undefined;
      lines.push(
        `| ${l.protocol} | ${label(name)} | ${t.p50Ms} | ${t.p99Ms} | ${first ? '–' : `**${us(Math.round((t.p50Ms - direct.p50Ms) * 1000))}**`} | ` +
          `${first ? '–' : `${signed(round2(t.p99Ms - direct.p99Ms))} ms`} | ${t.sendToAnswerP50Ms} | ${cpuCells(t.cpuUsPerRequest)} | ${t.errors} |`,
      );
    }
  }
  lines.push(
    '',
    'p50 and p99 count from each request\'s due time (the generator\'s timer lateness is in every path alike); "send→answer"',
    'counts from the moment the request was handed to the client library. Differences are of the medians over the rounds.',
    'The floor is a Node process that answers each golden row from a table over the same protocol, running no model and',
    'forwarding nothing (benchmarks/node-floor-server.ts): its whole round trip is about what one more Node hop costs here.',
    '',
  );
  return lines;
}

function capacitySection(result: ServeResult): string[] {
  const { settings: s, summary } = result;
  const lines = [
    `## 2. Highest open-loop rate with p99 ≤ ${s.sloP99Ms} ms`,
    '',
    `| protocol | path | highest rate | first failing rate | p50 / p99 there, ms | CPU µs / request there: ${CPU_COLUMNS} | Triton rows / execution there | rows / Triton request there |`,
    '|---|---|---:|---:|---:|---|---:|---:|',
  ];
  for (const c of summary.capacity) {
    lines.push(capacityRow(c.protocol, 'direct', c.direct), capacityRow(c.protocol, 'infergate', c.infergate));
    lines.push(`| ${c.protocol} | **infergate / direct** | **${fmt(c.ratio, '×')}** | | | | | |`);
    lines.push(capacityRow(c.protocol, 'node-floor', c.floor));
  }
  lines.push(
    '',
    `The objective, p99 ≤ ${s.sloP99Ms} ms, is a budget a fraud check inside a checkout call can afford. Ladder ${s.plan.ladder.join(', ')}/s, stopping`,
    `at the first failure, then doubling while everything passes, then ${s.plan.bisections} bisection step(s). A step is ${s.searchStep.warmupMs / 1000} s of warmup and`,
    `${s.searchStep.durationMs / 1000} s measured; it fails on p99 over the objective, any error, any drop (over ${s.searchStep.maxOutstanding} in flight), or a request`,
    `slower than ${s.searchStep.abortLatencyMs} ms; search steps also stop once 1 % of requests exceeded the objective.`,
    s.confirmFailures ? 'A near miss (p99 under twice the objective, no errors) is run once more and passes if that try does.' : 'Failures are not re-run (--quick).',
    '',
  );
  return lines;
}

function autocannonSection(result: ServeResult): string[] {
  const a = result.summary.autocannon;
  const lines = [
    `## 3. Closed-loop peak over HTTP (autocannon, ${a.connections} connections, ${result.settings.autocannonDurationS} s)`,
    '',
    '| path | requests/s | p50 ms | p99 ms | non-2xx + errors | Triton rows / execution | rows / Triton request |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of ['direct', 'infergate'] as const) {
    const r = a[name];
    lines.push(
      r
        ? `| ${label(name)} | ${r.requestsPerSecond} | ${r.latencyP50Ms} | ${r.latencyP99Ms} | ${r.failures} | ${fmt(r.triton.rowsPerExecution)} | ${fmt(r.triton.rowsPerRequest)} |`
        : `| ${label(name)} | not run | | | | | |`,
    );
  }
  lines.push(`| **infergate / direct** | **${fmt(a.ratio, '×')}** | | | | | |`, '');
  return lines;
}

function cpuSection(result: ServeResult): string[] {
  const { summary, settings } = result;
  const lines = [
    '## 4. Where the CPU goes: µs per request',
    '',
    '| when | path | Triton | infergate | floor | load generator | all |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const row = (when: string, name: string, cpu: Record<string, number> | undefined) => {
    if (!cpu) return;
    const keys = ['triton', 'infergate', 'floor', 'generator'];
    const all = keys.reduce((n, k) => n + (cpu[k] ?? 0), 0);
    lines.push(`| ${when} | ${label(name)} | ${keys.map((k) => cpu[k] ?? '–').join(' | ')} | ${all} |`);
  };
  for (const l of summary.light) for (const [name, t] of Object.entries(l.targets)) row(`${l.protocol}, ${settings.lightRate}/s`, name, t.cpuUsPerRequest);
  for (const c of summary.capacity) {
    row(`${c.protocol}, at its highest passing rate (${c.direct.maxRateAtSlo ?? '–'}/s)`, 'direct', c.direct.atMax?.cpuUsPerRequest);
    row(`${c.protocol}, at its highest passing rate (${c.infergate.maxRateAtSlo ?? '–'}/s)`, 'infergate', c.infergate.atMax?.cpuUsPerRequest);
    row(`${c.protocol}, at its highest passing rate (${c.floor.maxRateAtSlo ?? '–'}/s)`, 'node-floor', c.floor.atMax?.cpuUsPerRequest);
  }
  row('HTTP, autocannon peak', 'direct', summary.autocannon.direct?.cpuUsPerRequest);
  row('HTTP, autocannon peak', 'infergate', summary.autocannon.infergate?.cpuUsPerRequest);
  lines.push(
    '',
    'Per-request costs fall as the rate rises (fixed costs of waking up are shared by more requests, and batches grow);',
    'compare paths within a row group. Outside its own rows, a server\'s column is its idle cost (infergate\'s health probes).',
    '',
  );
  return lines;
}

function rowsSection(result: ServeResult): string[] {
  const { summary } = result;
  const lines = [
    '## 5. Rows per Triton execution',
    '',
    'Deltas of Triton\'s `/v2/models/fraud/stats`: `inference_count` (rows), `execution_count` (model executions) and',
    '`inference_stats.success.count` (requests Triton received), warmups included.',
    '',
    '| when | path | rows | Triton requests | executions | rows / execution | rows / request |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const l of summary.light) for (const [name, t] of Object.entries(l.targets)) lines.push(`| ${l.protocol}, ${l.rate}/s | ${label(name)} | ${deltaCells(t.triton)} |`);
  for (const c of summary.capacity) {
    lines.push(`| ${c.protocol}, whole rate search | ${label('direct')} | ${deltaCells(c.direct.triton)} |`);
    lines.push(`| ${c.protocol}, whole rate search | ${label('infergate')} | ${deltaCells(c.infergate.triton)} |`);
  }
  for (const name of ['direct', 'infergate'] as const) {
    const a = summary.autocannon[name];
    if (a) lines.push(`| HTTP, autocannon | ${label(name)} | ${deltaCells(a.triton)} |`);
  }
  lines.push('');
  return lines;
}

function perfAnalyzerSection(result: ServeResult): string[] {
  const p = result.perfAnalyzer;
  const lines = [
    '## perf_analyzer',
    '',
    `This machine's C library: glibc ${p.glibc ?? 'unknown'}.`,
    p.tritonclientProblem !== null
      ? `The tritonclient wheel could not be inspected: ${p.tritonclientProblem}.`
      : `The tritonclient ${p.tritonclientVersion ?? '?'} wheel in .venv/triton ships ` +
        (p.tritonclientPerfAnalyzerFiles.length === 0
          ? 'no perf_analyzer: no file of that name among its installed files (`pip show -f tritonclient`).'
          : `${p.tritonclientPerfAnalyzerFiles.join(', ')}.`),
  ];
  if (p.candidates.length === 0) lines.push('No perf_analyzer binary was found on PATH or given with `--perf-analyzer=PATH`, so none was run.');
  for (const c of p.candidates) {
    lines.push(
      '',
      `\`${c.path}\` (${c.source === '--perf-analyzer' ? 'given with --perf-analyzer' : `found: ${c.source}`}): \`--version\` exited ${c.exitCode ?? 'without a status'}; it ` +
        `${c.runs ? 'runs here, but this scenario does not drive it, so no perf_analyzer numbers are in this report' : 'does not run on this machine'}. It printed:`,
      '',
      '```',
      c.output || '(nothing)',
      '```',
    );
  }
  lines.push('');
  return lines;
}

function jobSection(job: JobReport): string[] {
  if (job.kind === 'autocannon') return [];
  const title = job.kind === 'light' ? `Added latency, ${job.protocol}` : `Capacity, ${job.protocol}, ${label(job.steps[0]?.target ?? '')}`;
  const head =
    job.kind === 'search'
      ? [`Highest rate within the objective: ${job.maxRateAtSlo == null ? 'none' : `${job.maxRateAtSlo}/s`}; first failing: ${job.lowestFailingRate == null ? 'none found' : `${job.lowestFailingRate}/s`}.`, '']
      : [];
  return [
    `### ${title}`,
    '',
    ...head,
    `| path | rate /s | step | p50 ms | p95 ms | p99 ms | max ms | send→answer p50 ms | answered /s | send lag p99 ms | CPU cores: ${CPU_COLUMNS} | CPU µs / request: same | Triton rows / exec | rows / request | result |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|',
    ...job.steps.map(stepRow),
    '',
  ];
}

function stepRow(s: StepReport): string {
  const step = s.phase === 'light' ? `round ${s.attempt}` : `${s.phase}${s.attempt > 1 ? ` (try ${s.attempt})` : ''}`;
  const result = s.pass ? 'pass' : `**fail**: ${s.failReason}${s.firstError ? ` (first error: ${s.firstError})` : ''}`;
  return (
    `| ${s.target} | ${s.rate} | ${step} | ${s.latency.p50Ms} | ${s.latency.p95Ms} | ${s.latency.p99Ms} | ${s.latency.maxMs} | ${s.sendToAnswer.p50Ms} | ` +
    `${s.achievedRate} | ${s.sendLagP99Ms} | ${cpuCells(s.cpuCores)} | ${cpuCells(s.cpuUsPerRequest)} | ${fmt(s.triton.rowsPerExecution)} | ${fmt(s.triton.rowsPerRequest)} | ${result} |`
  );
}

function capacityRow(protocol: string, name: string, t: CapacityTarget): string {
  const x = t.atMax;
  return (
    `| ${protocol} | ${label(name)} | ${t.maxRateAtSlo === null ? 'none' : `${t.maxRateAtSlo}/s`} | ${t.lowestFailingRate === null ? 'none found' : `${t.lowestFailingRate}/s`} | ` +
    `${x ? `${x.p50Ms} / ${x.p99Ms}` : '–'} | ${x ? cpuCells(x.cpuUsPerRequest) : '–'} | ${fmt(x?.triton.rowsPerExecution)} | ${fmt(x?.triton.rowsPerRequest)} |`
  );
}

/** CPU figures in the order of the CPU_COLUMNS heading. */
function cpuCells(cpu: Record<string, number>): string {
  return `${cpu['triton'] ?? '–'}, ${cpu['infergate'] ?? '–'}, ${cpu['floor'] ?? '–'}, ${cpu['generator'] ?? '–'}`;
}

function deltaCells(d: TritonDelta): string {
  return `${d.rows} | ${d.requests} | ${d.executions} | ${fmt(d.rowsPerExecution)} | ${fmt(d.rowsPerRequest)}`;
}

function rateText(t: CapacityTarget | undefined): string {
  return !t || t.maxRateAtSlo === null ? 'no passing rate' : `${t.maxRateAtSlo}/s`;
}

function us(x: number | null): string {
  return x === null ? 'not measured' : `${signed(x)} µs`;
}

function signed(x: number): string {
  return x > 0 ? `+${x}` : String(x);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function fmt(x: number | null | undefined, unit = ''): string {
  return x === null || x === undefined ? '–' : `${x}${unit}`;
}
