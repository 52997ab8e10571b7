// A Prometheus histogram whose buckets are counted elsewhere (in native code, or as Triton's
// per-batch-size statistics) and read at scrape time. prom-client's own Histogram only learns
// from observe(), one value at a time; replaying counts through it would cost one call per
// request ever answered. This metric instead hands prom-client's registry the finished series:
// cumulative `_bucket{le}` lines, `_sum` and `_count`, in the registry's own text format.

import type { Metric, Registry } from 'prom-client';

export interface HistogramSeries {
  labels: Record<string, string>;
  /** Finite upper bounds, strictly ascending; the +Inf bucket is implied. */
  upperBounds: readonly number[];
  /** Observations per bucket, NOT cumulative: one per upper bound, then the +Inf bucket's. */
  counts: readonly number[];
  /** Sum of the observed values. */
  sum: number;
}

export interface PrecomputedHistogramOptions {
  name: string;
  help: string;
  registry: Registry;
  /** Called once per scrape. */
  series: () => Iterable<HistogramSeries>;
}

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Why a series cannot be exported as a histogram; undefined when it can. */
export function histogramSeriesProblem(s: HistogramSeries): string | undefined {
  if (s.counts.length !== s.upperBounds.length + 1) {
    return `${s.counts.length} bucket counts for ${s.upperBounds.length} finite upper bounds (expected one more count, for +Inf)`;
  }
  for (let i = 0; i < s.upperBounds.length; i++) {
    const b = s.upperBounds[i] as number;
    if (!Number.isFinite(b)) return `upper bound ${i} is ${b}, expected a finite number`;
    if (i > 0 && b <= (s.upperBounds[i - 1] as number)) return `upper bounds must be strictly ascending, got ${s.upperBounds[i - 1]} then ${b}`;
  }
  if (!s.counts.every((c) => Number.isInteger(c) && c >= 0)) return 'bucket counts must be non-negative integers';
  if (!Number.isFinite(s.sum)) return `sum is ${s.sum}, expected a finite number`;
  return undefined;
}

export class PrecomputedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: () => Iterable<HistogramSeries>;

  constructor(options: PrecomputedHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.series = options.series;
    // The registry needs only name, type and get(); its TypeScript type lists prom-client's own
    // classes, hence the cast.
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** What prom-client's registry formats: the samples of every well-formed series. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.series()) {
      // A malformed series would make the whole family unusable to Prometheus: leave it out.
      if (histogramSeriesProblem(s) !== undefined) continue;
      let cumulative = 0;
      s.upperBounds.forEach((bound, i) => {
        cumulative += s.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: bound }, value: cumulative });
      });
      cumulative += s.counts[s.upperBounds.length] as number;
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Nothing is held between scrapes. */
  reset(): void {}
}
