// The rollout benchmark's summary: for each mode of each part, the median over rounds of its
// latency percentiles and main-thread cost, and the ratios of those medians to the part's
// reference mode (no shadow, no swap, no log), which are what a noisy shared machine lets us read.

import { ratio } from './report-format';
import type { LoadStep, LogStep, RollbackKind, RollbackSeries, RolloutSettings, ShadowMode, ShadowStep, SwapStep } from './rollout-results';
import { median } from './triton';

/** Medians over rounds of one mode's steps. */
export interface Cell {
  rounds: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  eventLoopUsPerRequest: number | null;
  mainThreadCpuUsPerRequest: number | null;
  /** Failed requests, summed over the rounds. */
  errors: number;
}

/** A mode's medians over the reference mode's. */
export interface CellRatio {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  eventLoopUsPerRequest: number | null;
  mainThreadCpuUsPerRequest: number | null;
}

export interface ShadowCopies {
  offered: number;
  sent: number;
  dropped: number;
  failed: number;
}

export interface ShadowRateSummary {
  rate: number;
  cells: Record<ShadowMode, Cell>;
  /** (b)/(a) and (c)/(a). */
  ratios: { shadow: CellRatio; saturated: CellRatio };
  /** Copies offered, sent and dropped, summed over the rounds. */
  copies: { shadow: ShadowCopies; saturated: ShadowCopies };
}

export interface SwapSummary {
  rate: number;
  steady: Cell;
  swapping: Cell;
  /** swapping / steady. */
  ratios: CellRatio;
  reloads: { count: number; medianMs: number | null; maxMs: number | null; startedAfterWindow: number };
  /** Distinct versions that answered during the swapping steps (1 + reloads, when every swap took). */
  versionsAnswered: number;
}

export interface RollbackKindSummary {
  kind: RollbackKind;
  count: number;
  medianMs: number | null;
  maxMs: number | null;
  /** The whole call: a reload also waits for the version rolled back from to drain. */
  medianCallMs: number | null;
  maxCallMs: number | null;
  underTarget: boolean;
  loadRate: number;
  failedRequests: number;
  loadP99Ms: number;
}

export interface LogModeSummary {
  mode: string;
  sampleInputs: number | null;
  cell: Cell;
  /** This mode over the runtime without a log. */
  ratio: CellRatio;
  linesWritten: number;
  linesDropped: number;
  bytesPerLine: number | null;
}

export interface RolloutSummary {
  shadow: ShadowRateSummary[];
  swap: SwapSummary;
  rollback: { targetMs: number; kinds: RollbackKindSummary[] };
  predictionLog: { rate: number; modes: LogModeSummary[] };
}

/** The target for a rollback: the earlier version takes traffic within a second. */
const ROLLBACK_TARGET_MS = 1000;

export function summarizeRollout(
  s: RolloutSettings,
  shadow: ShadowStep[],
  swap: SwapStep[],
  rollback: RollbackSeries[],
  logs: LogStep[],
): RolloutSummary {
  return {
    shadow: s.shadowRates.map((rate) => summarizeShadowRate(rate, shadow.filter((x) => x.rate === rate))),
    swap: summarizeSwap(s.swapRate, swap),
    rollback: { targetMs: ROLLBACK_TARGET_MS, kinds: rollback.map(summarizeRollback) },
    predictionLog: { rate: s.logRate, modes: summarizeLogs(logs) },
  };
}

export function cellOf(steps: readonly LoadStep[]): Cell {
  const med = (f: (x: LoadStep) => number | null) => median(steps.map(f).filter((v): v is number => v !== null));
  return {
    rounds: steps.length,
    p50Ms: med((x) => x.latency.p50Ms),
    p95Ms: med((x) => x.latency.p95Ms),
    p99Ms: med((x) => x.latency.p99Ms),
    maxMs: med((x) => x.latency.maxMs),
    eventLoopUsPerRequest: med((x) => x.eventLoopUsPerRequest),
    mainThreadCpuUsPerRequest: med((x) => x.mainThreadCpuUsPerRequest),
    errors: steps.reduce((n, x) => n + x.errors, 0),
  };
}

function cellRatio(x: Cell, reference: Cell): CellRatio {
  return {
    p50: ratio(x.p50Ms, reference.p50Ms),
    p95: ratio(x.p95Ms, reference.p95Ms),
    p99: ratio(x.p99Ms, reference.p99Ms),
    eventLoopUsPerRequest: ratio(x.eventLoopUsPerRequest, reference.eventLoopUsPerRequest),
    mainThreadCpuUsPerRequest: ratio(x.mainThreadCpuUsPerRequest, reference.mainThreadCpuUsPerRequest),
  };
}

function summarizeShadowRate(rate: number, steps: ShadowStep[]): ShadowRateSummary {
  const cell = (mode: ShadowMode) => cellOf(steps.filter((x) => x.mode === mode));
  const copies = (mode: ShadowMode): ShadowCopies => {
    const c: ShadowCopies = { offered: 0, sent: 0, dropped: 0, failed: 0 };
    for (const x of steps) {
      if (x.mode !== mode || !x.shadow) continue;
      c.offered += x.shadow.offered;
      c.sent += x.shadow.sent;
      c.dropped += x.shadow.dropped;
      c.failed += x.shadow.failed;
    }
    return c;
  };
  const cells = { none: cell('none'), shadow: cell('shadow'), saturated: cell('saturated') };
  return {
    rate,
    cells,
    ratios: { shadow: cellRatio(cells.shadow, cells.none), saturated: cellRatio(cells.saturated, cells.none) },
    copies: { shadow: copies('shadow'), saturated: copies('saturated') },
  };
}

function summarizeSwap(rate: number, steps: SwapStep[]): SwapSummary {
  const steady = cellOf(steps.filter((x) => x.mode === 'steady'));
  const swappingSteps = steps.filter((x) => x.mode === 'swapping');
  const swapping = cellOf(swappingSteps);
  const ms = swappingSteps.flatMap((x) => x.reloads.map((r) => r.ms));
  const versions = new Set(swappingSteps.flatMap((x) => Object.keys(x.answersByVersion)));
  return {
    rate,
    steady,
    swapping,
    ratios: cellRatio(swapping, steady),
    reloads: {
      count: ms.length,
      medianMs: median(ms),
      maxMs: ms.length > 0 ? Math.max(...ms) : null,
      startedAfterWindow: swappingSteps.reduce((n, x) => n + x.reloadsAfterWindow, 0),
    },
    versionsAnswered: versions.size,
  };
}

function summarizeRollback(series: RollbackSeries): RollbackKindSummary {
  const ms = series.rollbacks.map((r) => r.ms);
  const callMs = series.rollbacks.map((r) => r.callMs);
  const max = (v: number[]) => (v.length > 0 ? Math.max(...v) : null);
  const maxMs = max(ms);
  return {
    kind: series.kind,
    count: ms.length,
    medianMs: median(ms),
    maxMs,
    medianCallMs: median(callMs),
    maxCallMs: max(callMs),
    underTarget: maxMs !== null && maxMs < ROLLBACK_TARGET_MS,
    loadRate: series.load.rate,
    failedRequests: series.load.errors,
    loadP99Ms: series.load.latency.p99Ms,
  };
}

function summarizeLogs(steps: LogStep[]): LogModeSummary[] {
  const modes = [...new Set(steps.map((x) => x.mode))];
  const reference = cellOf(steps.filter((x) => x.sampleInputs === null));
  return modes.map((mode) => {
    const of = steps.filter((x) => x.mode === mode);
    const cell = cellOf(of);
    const lines = of.reduce((n, x) => n + x.linesWritten, 0);
    const bytes = of.reduce((n, x) => n + x.bytes, 0);
    return {
      mode,
      sampleInputs: of[0]?.sampleInputs ?? null,
      cell,
      ratio: cellRatio(cell, reference),
      linesWritten: lines,
      linesDropped: of.reduce((n, x) => n + x.linesDropped, 0),
      bytesPerLine: lines > 0 ? Math.round(bytes / lines) : null,
    };
  });
}
