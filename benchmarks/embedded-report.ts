// The Markdown report of the embedded benchmark: the summary, then one table per mode.

import { coreScalingMarkdown } from './core-scaling';
import type { EmbeddedResult } from './embedded';
import { hostCostSections } from './host-cost';
import type { ModeReport, StepReport } from './modes/protocol';
import { fmt, fmtRate, ratio, runLines } from './report-format';

export function embeddedMarkdown(result: EmbeddedResult, command: string): string {
  const { machine: m, settings: s, summary } = result;
  const modeOf = (name: string) => result.modes.find((r) => r.mode === name);
  const label = (name: string) => modeOf(name)?.label ?? name;
  const lines = [
    '# Embedded scoring under open-loop load (fraud model)',
    '',
    ...runLines(command, result.elapsedS, m, result.loadAverageAfter),
    '',
    '> The machine is shared and noisy. Every number is a single run of one step: percentiles are over',
    `> the requests of that step's measured window (${s.durationMs} ms after ${s.warmupMs} ms of warmup), not medians of`,
    '> repeated runs. Compare modes within this file; treat differences of a few tens of percent as noise.',
    '> The highest rate under the p99 objective is the most fragile number: a few multi-millisecond stalls of the',
    '> host in a window are enough to fail a step, so it can move by 2× or more between runs.',
    '',
    '## Summary',
    '',
    `| | highest rate with p99 ≤ ${s.sloP99Ms} ms | event-loop busy µs per request at ${summary.highRate}/s, net of (0) | ` +
      `same at ${summary.loadedRate}/s | ` +
      `main-thread CPU µs per request at ${summary.loadedRate}/s, net of (0) | ` +
      `same at ${summary.compareAtRate}/s | event-loop busy µs per request at ${summary.compareAtRate}/s, net of (0) | same, raw |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...result.modes.map(
      (r) =>
        `| ${r.label} | ${fmtRate(r)} | ${fmt(summary.eventLoopNetUsPerRequestAtHighRate?.[r.mode])} | ` +
        `${fmt(summary.eventLoopNetUsPerRequestAtLoadedRate?.[r.mode])} | ` +
        `${fmt(summary.mainThreadCpuNetUsPerRequestAtLoadedRate?.[r.mode])} | ` +
        `${fmt(summary.mainThreadCpuNetUsPerRequestAtCompareRate?.[r.mode])} | ${fmt(summary.eventLoopNetUsPerRequestAtCompareRate[r.mode])} | ` +
        `${fmt(summary.eventLoopUsPerRequestAtCompareRate[r.mode])} |`,
    ),
    `| **(c) / (a)** | **${fmt(summary.maxRateRatioInfergateOverOrtMain, '×')}** | | ` +
      `**${fmt(ratio(summary.eventLoopNetUsPerRequestAtLoadedRate?.infergate, summary.eventLoopNetUsPerRequestAtLoadedRate?.['ort-main']), '×')}** | ` +
      `**${fmt(ratio(summary.mainThreadCpuNetUsPerRequestAtLoadedRate?.infergate, summary.mainThreadCpuNetUsPerRequestAtLoadedRate?.['ort-main']), '×')}** | | ` +
      `${fmt(summary.eventLoopNetRatioInfergateOverOrtMain, '×')} | ${fmt(summary.eventLoopRatioInfergateOverOrtMain, '×')} |`,
    '',
  ];
  const c = modeOf('infergate');
  if (c && c.crash === undefined) {
    lines.push(
      c.meanBatchSize === null
        ? `${label('infergate')}: the model exposes no \`stats()\`, so its batch size is not known (reported as null).`
        : `${label('infergate')}: mean batch size ${c.meanBatchSize} rows over all steps (from \`stats()\`).`,
      '',
    );
  }
  const hc = result.hostCost;
  if (hc) {
    const at = (rate: number, mode: string) => hc.medians.find((x) => x.rate === rate && x.mode === mode)?.eventLoopNetUsPerRequest;
    const rates = hc.options.rates.map((rate) => `${fmt(at(rate, 'infergate'))} µs at ${rate}/s`).join(', ');
    lines.push(
      `Interleaved rounds (below: the generator alone, (a) and (c) back to back, each net of the generator of its own round),`,
      `medians of ${hc.options.rounds}: ${label('infergate')} costs the host's event loop **${rates}** per request; ` +
        `${label('ort-main')} ${fmt(at(summary.loadedRate, 'ort-main'))} µs at ${summary.loadedRate}/s. ` +
        'The net columns above subtract a generator-only step run minutes apart, and move with it.',
      '',
    );
  }
  lines.push(...coreScalingMarkdown(result.coreScaling ?? [], s.sloP99Ms));
  if (hc) lines.push('## Host cost per request, interleaved rounds', '', ...hostCostSections(hc, '###'));
  for (const r of result.modes) lines.push(...modeSection(r, s.sloP99Ms));
  lines.push(
    '## How it was measured',
    '',
    `- Open loop: request i is due at t0 + i/rate whatever the answers do; latency is answer time − due time, so a`,
    `  stalled event loop counts against the mode (no coordinated omission). HdrHistogram, 1 µs resolution.`,
    `  "send lag" is how late the generator itself sent (1 ms timer granularity, a busy loop); it is part of the`,
    `  latency, so mode (0) shows the floor every mode starts from. Requests due in the same ~1 ms tick leave together.`,
    `- Ladder ${s.ladder.join(', ')}/s, stopping after a mode's first failing rate; then doubling past the ladder while`,
    `  everything passes, and ${s.bisections} bisection step(s) between the highest pass and the lowest failure.`,
    `  A step fails on p99 > ${s.sloP99Ms} ms, any error, any drop (over ${s.maxOutstanding} requests in flight), a request`,
    `  slower than ${s.abortLatencyMs} ms (ends the step early), or, in search steps, once more than 1 % of requests`,
    `  exceeded ${s.sloP99Ms} ms (ends the step early; its percentiles then cover only part of the window).`,
    s.confirmFailures
      ? `  A rate that missed by less than 2× (p99 ≤ ${2 * s.sloP99Ms} ms, no errors or drops) is run a second time and passes if that` +
        `\n  try does; both tries are listed.`
      : `  Failures are not re-run (--quick): on this machine a single stall can fail a step.`,
    `- Main-thread CPU: the main thread's own on-CPU time over the window (Linux \`/proc/thread-self/schedstat\`) /`,
    `  answers in the window. "net" subtracts mode (0)'s figure at the same rate (the generator and meters alone).`,
    `  This is what a mode costs the host's thread. At ${summary.loadedRate}/s batches hold several requests; at ${summary.compareAtRate}/s`,
    `  nearly every answer is a delivery of its own, so the figure there is mostly the cost of one more event-loop wake-up.`,
    `- Event loop: \`performance.eventLoopUtilization()\` of the main thread over the window; µs per request is`,
    `  its active time / answers in the window. "raw" includes the generator's own timers and bookkeeping and the`,
    `  delay monitor; "net" subtracts mode (0)'s raw figure at the same rate, which is that cost alone. Busy time`,
    `  includes moments the thread was ready but had no core: on this shared 2-core machine that counts other`,
    `  tenants' and the mode's own worker threads' CPU against the main thread, so it is not the mode's own cost.`,
    `  Delay: \`monitorEventLoopDelay\` at resolution ${s.eventLoopDelayResolutionMs} ms (the finest Node allows; samples are ns),`,
    `  reported as sample − ${s.eventLoopDelayResolutionMs} ms.`,
    `- CPU: \`process.cpuUsage()\` / wall time, in cores; for (b) and (c) it includes their worker threads.`,
    `- Each mode ran in its own child process, one after another, after ${s.warmRequests} warm-up requests.`,
    `  Records: the rows of test/fixtures/fraud/golden.json, cycled. Piscina: ${s.piscinaThreads} threads.`,
    '',
  );
  return lines.join('\n');
}

function modeSection(r: ModeReport, slo: number): string[] {
  const head = [`## ${r.label}`, '', `${r.description}${r.threads === null ? '' : `; ${r.threads} threads`}.`, ''];
  if (r.crash !== undefined) return [...head, `**The runner failed:**`, '', '```', r.crash, '```', ''];
  const steps = [...r.steps].sort((x, y) => x.rate - y.rate || x.attempt - y.attempt);
  return [
    ...head,
    `Highest rate with p99 ≤ ${slo} ms: **${fmtRate(r)}**. Errors: ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}.`,
    '',
    '| rate /s | step | p50 ms | p95 ms | p99 ms | max ms | answered /s | main CPU µs/req net | main CPU µs/req raw | loop µs/req net | loop µs/req raw | loop util | loop delay p99 ms | CPU cores | batch | send lag p99 ms | result |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...steps.map(stepRow),
    '',
  ];
}

function stepRow(s: StepReport): string {
  const result = s.pass ? 'pass' : `**fail**: ${s.failReason}`;
  return (
    `| ${s.rate} | ${s.phase}${s.attempt > 1 ? ` (try ${s.attempt})` : ''} | ${s.p50Ms} | ${s.p95Ms} | ${s.p99Ms} | ${s.maxMs} | ${s.achievedRate} | ` +
    `${fmt(s.mainThreadCpuNetUsPerRequest)} | ${fmt(s.mainThreadCpuUsPerRequest)} | ${fmt(s.eventLoopNetUsPerRequest)} | ${fmt(s.eventLoopUsPerRequest)} | ` +
    `${s.eventLoopUtilization} | ${fmt(s.eventLoopDelayP99Ms)} | ${s.cpuCores} | ${fmt(s.meanBatchSize)} | ${s.sendLagP99Ms} | ${result} |`
  );
}
