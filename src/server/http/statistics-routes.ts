// The statistics extension: GET /v2/models/stats and /v2/models/{name}[/versions/{v}]/stats answer
// {"model_stats": [...]} in Triton's field names, from Model.statistics(). infergate's own counters
// (failures by reason, pending, the latency histogram, degraded) are exported on /metrics, not
// here, so a Triton client reads this body exactly as it reads Triton's.

import { notFound } from '../../errors';
import type { VersionStatistics } from '../../observability/model-statistics';
import type { Model } from '../../runtime/model';
import { NAME, type RequestScope, type Route, type ServerContext, VERSION, json } from './route';

/** One version's entry of model_stats, as Triton 2.51 writes it. */
export function tritonModelStats(v: VersionStatistics): Record<string, unknown> {
  return {
    name: v.name,
    version: v.version,
    last_inference: v.last_inference,
    inference_count: v.inference_count,
    execution_count: v.execution_count,
    inference_stats: {
      success: v.inference_stats.success,
      fail: v.inference_stats.fail,
      queue: v.inference_stats.queue,
      compute_input: v.inference_stats.compute_input,
      compute_infer: v.inference_stats.compute_infer,
      compute_output: v.inference_stats.compute_output,
      cache_hit: v.inference_stats.cache_hit,
      cache_miss: v.inference_stats.cache_miss,
    },
    response_stats: {},
    batch_stats: v.batch_stats.map((b) => ({
      batch_size: b.batch_size,
      compute_input: b.compute_input,
      compute_infer: b.compute_infer,
      compute_output: b.compute_output,
    })),
    memory_usage: [],
  };
}

function statsOf(model: Model, version: string | undefined): VersionStatistics[] {
  const all = model.statistics();
  if (version === undefined) return all;
  const one = all.filter((v) => v.version === version);
  if (one.length === 0) {
    throw notFound(`model "${model.name}" has no version "${version}" loaded (loaded: ${model.versions.join(', ')})`, {
      model: model.name,
      field: 'version',
    });
  }
  return one;
}

export function statisticsRoutes(ctx: ServerContext): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v2\/models\/stats$/,
      handler: async (s: RequestScope) => {
        // Every model the caller may use, by name.
        const models = ctx.runtime
          .models()
          .filter((m) => s.mayUse(m.name))
          .sort((a, b) => a.name.localeCompare(b.name));
        return json(200, { model_stats: models.flatMap((m) => statsOf(m, undefined).map(tritonModelStats)) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/stats$`),
      handler: async (s: RequestScope) => {
        const model = s.model(s.param(1) as string);
        return json(200, { model_stats: statsOf(model, s.param(2)).map(tritonModelStats) });
      },
    },
  ];
}
