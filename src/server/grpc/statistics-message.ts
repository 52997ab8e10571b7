// One model version's statistics as Triton's ModelStatistics message. infergate's own counters
// (failures by reason, pending, latency histogram, degraded) have no place in the message; they go
// to /metrics and the HTTP stats endpoint.

import type * as m from '../../backends/triton/messages';
import type { MessageInit } from '../../backends/triton/proto';
import type { DurationStat, VersionStatistics } from '../../observability/model-statistics';

const duration = (d: DurationStat): m.StatisticDuration => ({ count: d.count, ns: d.ns });

export function modelStatisticsMessage(s: VersionStatistics): MessageInit<m.ModelStatistics> {
  const i = s.inference_stats;
  return {
    name: s.name,
    version: s.version,
    last_inference: s.last_inference,
    inference_count: s.inference_count,
    execution_count: s.execution_count,
    inference_stats: {
      success: duration(i.success),
      fail: duration(i.fail),
      queue: duration(i.queue),
      compute_input: duration(i.compute_input),
      compute_infer: duration(i.compute_infer),
      compute_output: duration(i.compute_output),
      cache_hit: duration(i.cache_hit),
      cache_miss: duration(i.cache_miss),
    },
    batch_stats: s.batch_stats.map((b) => ({
      batch_size: b.batch_size,
      compute_input: duration(b.compute_input),
      compute_infer: duration(b.compute_infer),
      compute_output: duration(b.compute_output),
    })),
  };
}
