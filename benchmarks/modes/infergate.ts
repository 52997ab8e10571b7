// Mode (c): infergate's embedded API, exactly as a service calls it: the native batcher feeding
// Piscina executors. Its batching is reported from model.stats(). INFERGATE_BENCH_BATCHING (JSON
// of Runtime.load's `batching`) and INFERGATE_BENCH_EXECUTORS try other settings without an edit.

import { Runtime } from '../../src/index';
import { REPOSITORY, cycle, recordPool } from './fraud';
import type { BatchCounters, ModeHandle } from './mode';

export async function openInfergate(): Promise<ModeHandle> {
  const batching = process.env.INFERGATE_BENCH_BATCHING;
  const executors = process.env.INFERGATE_BENCH_EXECUTORS;
  const rt = await Runtime.load({
    repository: REPOSITORY,
    models: ['fraud'],
    ...(batching ? { batching: JSON.parse(batching) as object } : {}),
    ...(executors ? { executorThreads: Number(executors) } : {}),
  });
  const model = rt.model('fraud');
  const next = cycle(recordPool());
  return {
    send: () => model.infer(next()),
    counters: () => readStats(model),
    close: () => rt.close(),
  };
}

/** The model's stats(), if it has one and it has the expected shape; read without relying on its type. */
function readStats(model: object): BatchCounters | undefined {
  const stats = (model as { stats?: unknown }).stats;
  if (typeof stats !== 'function') return undefined;
  const s = stats.call(model) as Partial<Record<keyof BatchCounters, unknown>> | undefined;
  const ok = s && [s.requests, s.batches, s.rows].every((x) => typeof x === 'number' && Number.isFinite(x));
  return ok ? { requests: s.requests as number, batches: s.batches as number, rows: s.rows as number } : undefined;
}
