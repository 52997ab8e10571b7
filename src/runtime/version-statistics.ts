// Builds a version's Triton-shaped statistics from its scheduler's native counters and its
// forwarder's state.

import type { DurationStat, VersionStatistics } from '../observability/model-statistics';
import type { LoadedVersion } from './model';

const zero = (): DurationStat => ({ count: 0, ns: 0 });

export function versionStatistics(name: string, v: LoadedVersion): VersionStatistics {
  const s = v.batching?.scheduler.stats() ?? {};
  const n = (k: string) => s[k] ?? 0;
  const us = (count: string, total: string): DurationStat => ({ count: n(count), ns: n(total) * 1000 });
  const rows = n('rowsExecuted');
  return {
    name,
    version: String(v.version),
    last_inference: n('lastAnswerEpochMs'),
    inference_count: rows,
    execution_count: n('batchesExecuted'),
    inference_stats: {
      success: us('succeeded', 'succeededMicroseconds'),
      fail: us('failed', 'failedMicroseconds'),
      queue: us('queued', 'queuedMicroseconds'),
      compute_input: zero(),
      compute_infer: us('batchesExecuted', 'computeMicroseconds'),
      compute_output: zero(),
      cache_hit: zero(),
      cache_miss: zero(),
    },
    batch_stats: [],
    failures: {
      rejected: n('rejectedQueueFull'),
      deadline: n('rejectedDeadlineUnmeetable') + n('deadlineExceeded'),
      invalid: n('rejectedInvalid'),
      backend: n('failedRows'),
      canceled: n('rejectedClosed'),
    },
    pending: n('queueDepth'),
    readyBatches: n('readyBatches'),
    latency: { boundsUs: [], counts: [] },
    degraded: v.forwarder?.stats.degraded ?? false,
  };
}
