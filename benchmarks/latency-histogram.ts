// Latency of requests, recorded in whole microseconds into an HdrHistogram (hdr-histogram-js, its
// pure-JS build: no WebAssembly) and summarized in milliseconds.

import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** One hour in µs: anything slower is recorded as one hour (an open-loop step never gets there). */
const HIGHEST_US = 3_600_000_000;

export class LatencyHistogram {
  private readonly histogram = hdr.build({
    useWebAssembly: false,
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });

  /** Records a latency given in (fractional) milliseconds, at 1 µs resolution. */
  recordMs(ms: number): void {
    this.histogram.recordValue(Math.min(HIGHEST_US, Math.max(0, Math.round(ms * 1000))));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    // A percentile is its bucket's highest equivalent value, which can exceed the largest value recorded.
    const ms = (us: number) => Math.round(Math.min(us, h.maxValue)) / 1000;
    if (h.totalCount === 0) return { count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    return {
      count: h.totalCount,
      p50Ms: ms(h.getValueAtPercentile(50)),
      p95Ms: ms(h.getValueAtPercentile(95)),
      p99Ms: ms(h.getValueAtPercentile(99)),
      maxMs: ms(h.maxValue),
      meanMs: ms(h.mean),
    };
  }
}
