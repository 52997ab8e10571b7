// Builds a version's Triton-shaped statistics from its scheduler's native counters
// (native/core/request_stats.hpp) and its forwarder's state.

import type { DurationStat, VersionStatistics } from '../observability/model-statistics';
import type { LoadedVersion } from './model';

const zero = (): DurationStat => ({ count: 0, ns: 0 });
const NS_PER_US = 1000;

export function versionStatistics(name: string, v: LoadedVersion): VersionStatistics {
  const scheduler = v.batching?.scheduler;
  const s = scheduler?.stats() ?? {};
  const n = (k: string) => s[k] ?? 0;
  const r = scheduler?.requestStatistics();
  const invalid = n('rejectedInvalid') + (v.batching?.client.invalidRequests ?? 0);
  const rejected = n('rejectedQueueFull') + n('rejectedDeadlineUnmeetable') + invalid + n('rejectedClosed');
  const delivered = (r?.succeeded ?? 0) + (r?.failed ?? 0);
  return {
    name,
    version: String(v.version),
    last_inference: r && r.lastAnswerAgeMicroseconds >= 0 ? Math.round(Date.now() - r.lastAnswerAgeMicroseconds / 1000) : 0,
    inference_count: n('rowsExecuted'),
    execution_count: n('batchesExecuted'),
    inference_stats: {
      success: { count: r?.succeeded ?? 0, ns: (r?.succeededMicroseconds ?? 0) * NS_PER_US },
      // Refused at admission counts as failed (no time spent), as in Triton.
      fail: { count: (r?.failed ?? 0) + rejected, ns: (r?.failedMicroseconds ?? 0) * NS_PER_US },
      queue: { count: delivered, ns: n('queueTimeMicrosecondsSum') * NS_PER_US },
      compute_input: zero(),
      // As Triton counts it: per request, each charged its whole batch's compute time.
      compute_infer: {
        count: (r?.batchSizes ?? []).reduce((sum, b) => sum + b.batchSize * b.count, 0),
        ns: (r?.batchSizes ?? []).reduce((sum, b) => sum + b.batchSize * b.computeMicroseconds, 0) * NS_PER_US,
      },
      compute_output: zero(),
      cache_hit: zero(),
      cache_miss: zero(),
    },
    batch_stats: (r?.batchSizes ?? []).map((b) => ({
      batch_size: b.batchSize,
      compute_input: { count: b.count, ns: 0 },
      compute_infer: { count: b.count, ns: b.computeMicroseconds * NS_PER_US },
      compute_output: { count: b.count, ns: 0 },
    })),
    failures: {
      rejected: n('rejectedQueueFull'),
      deadline: n('rejectedDeadlineUnmeetable') + n('deadlineExceeded'),
      invalid,
      backend: n('failedRows'),
      canceled: n('rejectedClosed'),
    },
    pending: n('queueDepth'),
    readyBatches: n('readyBatches'),
    latency: r
      ? { boundsUs: [...r.latencyBoundsMicroseconds, Infinity], counts: [...r.latencyCounts] }
      : { boundsUs: [], counts: [] },
    degraded: v.forwarder?.stats.degraded ?? false,
  };
}
