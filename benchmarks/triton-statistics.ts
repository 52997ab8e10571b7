// Triton's own account of what it ran: /v2/models/{model}/stats, whose inference_count counts rows,
// execution_count counts model executions (the batches its dynamic batcher formed) and
// inference_stats.success.count counts requests. Deltas of these around a step say how large the
// batches were that Triton actually executed, and how many rows each request carried to it.

import type { TritonDelta } from './serve-jobs';

export interface TritonCounters {
  rows: number;
  executions: number;
  requests: number;
}

interface StatsBody {
  model_stats?: { inference_count?: number; execution_count?: number; inference_stats?: { success?: { count?: number } } }[];
}

/** The model's counters, summed over its versions. */
export async function tritonCounters(httpUrl: string, model = 'fraud'): Promise<TritonCounters> {
  const url = `${httpUrl}/v2/models/${model}/stats`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as StatsBody;
  if (!Array.isArray(body.model_stats) || body.model_stats.length === 0) throw new Error(`GET ${url}: no model_stats in the answer`);
  const total = { rows: 0, executions: 0, requests: 0 };
  for (const s of body.model_stats) {
    total.rows += Number(s.inference_count ?? 0);
    total.executions += Number(s.execution_count ?? 0);
    total.requests += Number(s.inference_stats?.success?.count ?? 0);
  }
  return total;
}

/** Reads between settled polls (Triton updates its statistics just after it answers). */
const SETTLE_POLL_MS = 20;
const SETTLE_POLLS = 50;

/**
 * The counters once they have stopped moving: Triton counts a request a moment after its answer
 * leaves, so a read right after the last answer can miss it. Two equal reads in a row, or the last
 * of a bounded number of polls.
 */
export async function settledTritonCounters(httpUrl: string, model = 'fraud'): Promise<TritonCounters> {
  let last = await tritonCounters(httpUrl, model);
  for (let i = 0; i < SETTLE_POLLS; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const next = await tritonCounters(httpUrl, model);
    if (next.rows === last.rows && next.executions === last.executions && next.requests === last.requests) return next;
    last = next;
  }
  return last;
}

export function tritonDelta(before: TritonCounters, after: TritonCounters): TritonDelta {
  const rows = after.rows - before.rows;
  const executions = after.executions - before.executions;
  const requests = after.requests - before.requests;
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  return { rows, executions, requests, rowsPerExecution: ratio(rows, executions), rowsPerRequest: ratio(rows, requests) };
}
