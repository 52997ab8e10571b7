// The Markdown report of the rollout benchmark: the four parts' summaries (medians over rounds, and
// their ratios to the reference mode), then every step, then how it was measured.

import { fmt } from './report-format';
import type { RolloutResult } from './rollout';
import type { LoadStep } from './rollout-results';
import type { Cell, CellRatio } from './rollout-summary';

const SHADOW_LABELS = { none: '(a) no shadow', shadow: '(b) shadow on version 2', saturated: '(c) saturated shadow' } as const;

export function rolloutMarkdown(result: RolloutResult, command: string): string {
  const { machine: m, settings: s, summary } = result;
  const sat = s.saturatedShadow;
  const lines = [
    '# Rollouts under open-loop load (fraud model, embedded)',
    '',
    `Command: \`${command}\` (${result.elapsedS} s)`,
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; ` +
      `load average ${m.loadAverage.join(' ')} before, ${result.loadAverageAfter.join(' ')} after. ` +
      `Each runtime has ${result.executorThreads} executor threads.`,
    '',
    "> The machine is shared with other engineers' builds and tests, and noisy. Parts 1, 2 and 4 ran in " +
      `${s.rounds === 1 ? 'one round' : `${s.rounds} rounds, their modes interleaved (the order rotated each round)`};`,
    '> the tables give the median over rounds of each figure. Compare modes by ratio within this file; treat differences',
    '> of a few tens of percent as noise.',
    '',
    '## 1. Shadow cost on the primary',
    '',
    `The primary is version 1; (b) copies every request to version 2 (loaded beside it; default bounds: queue 1,024, 64 in flight);`,
    `(c) to version 2 with maxConcurrency ${sat.maxConcurrency} and maxQueue ${sat.maxQueue}: copies past those bounds are dropped. Window ${s.durationMs} ms.`,
    '',
    '| rate | mode | p50 / p95 / p99 ms | p99 × (a) | event-loop µs / request | × (a) | main-thread CPU µs / request | copies offered / sent / dropped |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...summary.shadow.flatMap((r) =>
      (['none', 'shadow', 'saturated'] as const).map((mode) => {
        const c = r.cells[mode];
        const ratioOf: CellRatio | undefined = mode === 'none' ? undefined : r.ratios[mode];
        const copies = mode === 'none' ? '–' : `${r.copies[mode].offered} / ${r.copies[mode].sent} / ${r.copies[mode].dropped}`;
        return (
          `| ${r.rate}/s | ${SHADOW_LABELS[mode]} | ${pct(c)} | ${ratioOf ? fmt(ratioOf.p99, '×') : '1×'} | ${fmt(c.eventLoopUsPerRequest)} | ` +
          `${ratioOf ? fmt(ratioOf.eventLoopUsPerRequest, '×') : '1×'} | ${fmt(c.mainThreadCpuUsPerRequest)} | ${copies} |`
        );
      }),
    ),
    '',
    ...summary.shadow.map(
      (r) =>
        `At ${r.rate}/s: (b)/(a) p50 ${fmt(r.ratios.shadow.p50, '×')}, p99 ${fmt(r.ratios.shadow.p99, '×')}, event loop ${fmt(r.ratios.shadow.eventLoopUsPerRequest, '×')}; ` +
        `(c)/(a) p50 ${fmt(r.ratios.saturated.p50, '×')}, p99 ${fmt(r.ratios.saturated.p99, '×')}, event loop ${fmt(r.ratios.saturated.eventLoopUsPerRequest, '×')}; ` +
        `(c) dropped ${share(r.copies.saturated.dropped, r.copies.saturated.offered)} of its copies. Failed primary requests: ` +
        `${r.cells.none.errors} / ${r.cells.shadow.errors} / ${r.cells.saturated.errors}.`,
    ),
    '',
    ...swapSection(result),
    ...rollbackSection(result),
    ...logSection(result),
    '## Every step',
    '',
    '| part | round | mode | rate | p50 / p95 / p99 / max ms | errors | event-loop µs / req | CPU µs / req | process cores | send lag p99 ms | detail |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...result.shadow.map((x) => stepRow('shadow', x.mode, x, x.shadow ? `copies ${x.shadow.offered} offered, ${x.shadow.sent} sent, ${x.shadow.dropped} dropped, ${x.shadow.failed} failed` : '')),
    ...result.swap.map((x) =>
      stepRow('swap', x.mode, x, x.reloads.length > 0 ? `reloads (ms): ${x.reloads.map((r) => `v${r.version} ${r.ms}`).join(', ')}; answers ${versions(x.answersByVersion)}` : `answers ${versions(x.answersByVersion)}`),
    ),
    ...result.rollback.map((x) => stepRow('rollback', x.kind, x.load, `${x.rollbacks.map((b) => `${b.from}→${b.to} ${b.ms}`).join(', ')} ms; answers ${versions(x.answersByVersion)}`)),
    ...result.predictionLog.map((x) => stepRow('log', x.mode, x, x.sampleInputs === null ? '' : `${x.linesWritten} lines written, ${x.linesDropped} dropped, ${x.bytes} bytes`)),
    '',
    '## How it was measured',
    '',
    '- One process, the embedded API (`Runtime`, `model.infer(record)`), the records of test/fixtures/fraud/golden.json cycled. Each',
    '  runtime loads its own throwaway copy of the fraud repository (test/support/rollout-repository.ts); all are loaded, and each has',
    `  scored ${s.warmRequests} records, before the first step.`,
    '- Open loop (benchmarks/open-loop.ts): request i is due at t0 + i/rate whatever the answers do; latency is answer time − due time,',
    `  in an HdrHistogram at 1 µs. Each step is ${s.warmupMs} ms of unmeasured load, then the measured window, then a drain.`,
    '- Event-loop µs / request: main-thread event-loop busy time over the window, per answer in it (it also counts moments the',
    '  thread waited for a core). Main-thread CPU: the thread\'s own on-CPU time (/proc/thread-self/schedstat), per answer. Both',
    '  include the generator\'s own cost, the same in every mode. Copies sent to a shadow are not answers: their main-thread work',
    '  (validating and encoding the record again, comparing) is charged to the primary\'s requests, which is the cost asked about.',
    '- Shadow counters are those of `model.shadowReport().traffic` over the step, warmup included; a step waits (bounded) for the',
    '  copies still queued or in flight before the next starts.',
    '- Reloads: `rt.loadModel()` resolves once the new version serves and the old one has drained and closed, so its duration',
    '  covers reading config.pbtxt, loading the ONNX session on every executor thread, warm-up, the swap and the drain.',
    '- Rollbacks: `RollbackResult.milliseconds`, from the call until the earlier version took traffic; the whole call also waits',
    '  for the version rolled back from to drain (reload kind).',
    '- Prediction log: a file in a temp directory, default buffer (4 MiB) and no rotation; lines and bytes counted per step, the',
    '  file flushed after each step so that no step pays for another\'s I/O. Every runtime has the fraud model\'s drift monitor on.',
    '',
  ];
  return lines.join('\n');
}

function swapSection(result: RolloutResult): string[] {
  const s = result.settings;
  const w = result.summary.swap;
  return [
    '## 2. Hot swap under load',
    '',
    `${s.swapRate}/s for a ${s.swapDurationMs} ms window; "swapping" steps perform ${s.reloadsPerWindow} reloads spread over it (each adds version folder`,
    'N + 1 and calls `rt.loadModel` with `latest { num_versions: 1 }`), "steady" steps the same load without.',
    '',
    '| mode | p50 / p95 / p99 ms | max ms | p99 × steady | event-loop µs / request | failed requests |',
    '|---|---:|---:|---:|---:|---:|',
    `| steady | ${pct(w.steady)} | ${fmt(w.steady.maxMs)} | 1× | ${fmt(w.steady.eventLoopUsPerRequest)} | ${w.steady.errors} |`,
    `| swapping | ${pct(w.swapping)} | ${fmt(w.swapping.maxMs)} | ${fmt(w.ratios.p99, '×')} | ${fmt(w.swapping.eventLoopUsPerRequest)} | ${w.swapping.errors} |`,
    '',
    `Reloads: ${w.reloads.count}, median ${fmt(w.reloads.medianMs)} ms, max ${fmt(w.reloads.maxMs)} ms ` +
      `(each: ${result.swap.flatMap((x) => x.reloads.map((r) => r.ms)).join(', ')} ms); ${w.versionsAnswered} versions answered during the swapping steps` +
      `${w.reloads.startedAfterWindow > 0 ? `; ${w.reloads.startedAfterWindow} reloads started after their window had closed` : ''}.`,
    '',
  ];
}

function rollbackSection(result: RolloutResult): string[] {
  const r = result.summary.rollback;
  const s = result.settings;
  return [
    '## 3. Rollback time',
    '',
    `${s.rollbackRepetitions} rollbacks of each kind, under ${s.rollbackRate}/s: "switch", versions 1 and 2 loaded (policy \`all\`), each rollback a`,
    'blue/green switch back; "reload", policy `latest 1`, each rollback loading and warming up the other version again.',
    '',
    `| kind | rollbacks | median ms | max ms | max < ${r.targetMs} ms | whole call, median / max ms | failed requests | load p99 ms |`,
    '|---|---:|---:|---:|---|---:|---:|---:|',
    ...r.kinds.map(
      (k) =>
        `| ${k.kind} | ${k.count} | **${fmt(k.medianMs)}** | ${fmt(k.maxMs)} | ${k.underTarget ? 'yes' : 'no'} | ${fmt(k.medianCallMs)} / ${fmt(k.maxCallMs)} | ` +
        `${k.failedRequests} | ${k.loadP99Ms} |`,
    ),
    '',
  ];
}

function logSection(result: RolloutResult): string[] {
  const p = result.summary.predictionLog;
  return [
    '## 4. Prediction log cost',
    '',
    `${p.rate}/s, the same repository in three runtimes: without a prediction log, and with one to a file, sampling inputs at each rate.`,
    '',
    '| mode | p50 / p95 / p99 ms | p50 / p99 × no log | event-loop µs / request | × no log | CPU µs / request | lines written / dropped | bytes / line |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...p.modes.map(
      (x) =>
        `| ${x.mode} | ${pct(x.cell)} | ${fmt(x.ratio.p50, '×')} / ${fmt(x.ratio.p99, '×')} | ${fmt(x.cell.eventLoopUsPerRequest)} | ` +
        `${fmt(x.ratio.eventLoopUsPerRequest, '×')} | ${fmt(x.cell.mainThreadCpuUsPerRequest)} | ` +
        `${x.sampleInputs === null ? '–' : `${x.linesWritten} / ${x.linesDropped}`} | ${fmt(x.bytesPerLine)} |`,
    ),
    '',
  ];
}

function pct(c: Cell): string {
  return `${fmt(c.p50Ms)} / ${fmt(c.p95Ms)} / ${fmt(c.p99Ms)}`;
}

function share(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 1000) / 10} %` : '–';
}

function versions(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([v, n]) => `v${v} ${n}`)
    .join(', ');
}

function stepRow(part: string, mode: string, x: LoadStep, detail: string): string {
  const l = x.latency;
  return (
    `| ${part} | ${x.round} | ${mode} | ${x.rate}/s | ${l.p50Ms} / ${l.p95Ms} / ${l.p99Ms} / ${l.maxMs} | ${x.errors}${x.aborted ? ` (${x.aborted})` : ''} | ` +
    `${fmt(x.eventLoopUsPerRequest)} | ${fmt(x.mainThreadCpuUsPerRequest)} | ${x.processCpuCores} | ${x.sendLagP99Ms} | ${detail} |`
  );
}
