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
  // Requests, as Triton counts them: a multi-row tensor request is one (its time: the mean of its rows').
  const extra = v.batching?.client.rowsBeyondRequests ?? { succeeded: 0, failed: 0 };
  const requests = (rows: number, us: number, beyond: number): DurationStat => {
    const count = Math.max(0, rows - beyond);
    return { count, ns: rows > 0 ? Math.round((us * count) / rows) * NS_PER_US : 0 };
  };
  const success = requests(r?.succeeded ?? 0, r?.succeededMicroseconds ?? 0, extra.succeeded);
  const failedAfterAdmission = requests(r?.failed ?? 0, r?.failedMicroseconds ?? 0, extra.failed);
  const delivered = success.count + failedAfterAdmission.count;
  return {
    name,
    version: String(v.version),
    last_inference: r && r.lastAnswerAgeMicroseconds >= 0 ? Math.round(Date.now() - r.lastAnswerAgeMicroseconds / 1000) : 0,
    inference_count: n('rowsExecuted'),
    execution_count: n('batchesExecuted'),
    inference_stats: {
      success,
      // Refused at admission counts as failed (no time spent), as in Triton.
      fail: { count: failedAfterAdmission.count + rejected, ns: failedAfterAdmission.ns },
      queue: { count: delivered, ns: n('queueTimeMicrosecondsSum') * NS_PER_US },
      compute_input: zero(),
      // As Triton counts it: per request, each charged its whole batch's compute time.
      compute_infer: {
        count: success.count,
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
