// Prometheus metrics, collected on scrape from the runtime's own counters: nothing is counted twice
// and nothing runs between scrapes. Where infergate measures what Triton measures, the metric has
// Triton's name, type and labels ({model, version}), so dashboards and alerts written for Triton
// work unchanged; infergate's own metrics are prefixed `infergate_`.
//
// Every counter is read from a cumulative count kept since the model version was loaded, so it
// only grows across scrapes; a reloaded model starts again at zero, as a reloaded model does in
// Triton. An unloaded model's series disappear.

import { Counter, Gauge, Registry } from 'prom-client';
import type { ReplicaStats } from '../backends/triton/replica-pool';
import type { ModelStats } from '../runtime/model';
import type { FailureCounts, VersionStatistics } from './model-statistics';
import { type HistogramSeries, PrecomputedHistogram } from './precomputed-histogram';
import type { ShadowSummary } from '../routing/shadow-comparison';
import type { DriftState } from './drift-monitor';

/** What the metrics read from a model; the Runtime's Model provides it. */
export interface MetricsModel {
  readonly name: string;
  readonly config: { readonly maxBatchSize: number };
  statistics(): VersionStatistics[];
  stats(): ModelStats;
  /** The shadow's comparison, when a shadow runs (Model.shadowReport). */
  shadowReport?(): { traffic: { dropped: number }; comparison: object } | undefined;
  /** The drift state, when the model has a reference (Model.driftState). */
  driftState?(): object | undefined;
}

/** What the metrics read; the Runtime provides it. */
export interface MetricsSource {
  models(): MetricsModel[];
  readonly triton: { stats(): ReplicaStats[] };
  /** The prediction log, when one is written. */
  readonly predictionLog?: { stats(): { written: number; dropped: number } } | undefined;
}

export interface InferenceMetricsOptions {
  /** Register into this registry (with your own metrics, or prom-client's default ones); default: a new one. */
  registry?: Registry;
}

/** One scrape's reading of the runtime, shared by every metric family so they agree. */
interface Snapshot {
  models: {
    name: string;
    maxBatchSize: number;
    versions: VersionStatistics[];
    stats: ModelStats;
    shadow: ShadowSummary | undefined;
    drift: DriftState | undefined;
  }[];
  replicas: ReplicaStats[];
  predictionLog: { written: number; dropped: number } | undefined;
}

const DRIFT_LEVELS: Record<DriftState['level'], number> = { insufficient: -1, ok: 0, warn: 1, alert: 2 };

type Labels = Record<string, string>;
type Samples = Iterable<[Labels, number]>;

/**
 * Triton's failure reasons (nv_inference_request_failure{reason}) and what infergate counts under
 * each: REJECTED is the scheduler refusing a request (its queue is full, or its deadline cannot be
 * met or passed in the queue), as Triton's scheduler rejects on queue size and queue timeout;
 * invalid input is OTHER, as a malformed request is in Triton's core.
 */
const FAILURE_REASONS: Record<'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER', (f: FailureCounts) => number> = {
  REJECTED: (f) => f.rejected + f.deadline,
  CANCELED: (f) => f.canceled,
  BACKEND: (f) => f.backend,
  OTHER: (f) => f.invalid,
};

const HEALTH_STATES = ['ready', 'ejected', 'unknown'] as const;
const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/** Cumulative nanoseconds as Triton's cumulative whole microseconds (floor keeps it monotonic). */
const us = (ns: number): number => Math.floor(ns / 1000);

export class InferenceMetrics {
  readonly registry: Registry;
  /** The reading of the scrape in progress; undefined between scrapes. */
  private current: Snapshot | undefined;
  /** Scrapes run one at a time, so each one's families come from one reading. */
  private scrapes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: MetricsSource,
    options: InferenceMetricsOptions = {},
  ) {
    this.registry = options.registry ?? new Registry();
    this.registerTritonFamilies();
    this.registerInfergateFamilies();
  }

  /** The content type of `metrics()`: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of the registry in the text format, from one reading of the runtime. */
  metrics(): Promise<string> {
    const scrape = this.scrapes.then(async () => {
      this.current = this.read();
      try {
        return await this.registry.metrics();
      } finally {
        this.current = undefined;
      }
    });
    this.scrapes = scrape.catch(() => undefined);
    return scrape;
  }

  /** The current scrape's reading; a scrape of the registry that bypassed metrics() reads afresh. */
  private snapshot(): Snapshot {
    return this.current ?? this.read();
  }

  private read(): Snapshot {
    const models: Snapshot['models'] = [];
    for (const m of this.source.models()) {
      try {
        models.push({
          name: m.name,
          maxBatchSize: m.config.maxBatchSize,
          versions: m.statistics(),
          stats: m.stats(),
          shadow: m.shadowReport?.()?.comparison as ShadowSummary | undefined,
          drift: m.driftState?.() as DriftState | undefined,
        });
      } catch {
        // A model closing under the scrape has nothing more to report; the next scrape omits it.
      }
    }
    return { models, replicas: this.source.triton.stats(), predictionLog: this.source.predictionLog?.stats() };
  }

  private counter(name: string, help: string, labelNames: string[], samples: (s: Snapshot) => Samples): void {
    const c: Counter<string> = new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: () => {
        c.reset();
        for (const [labels, value] of samples(this.snapshot())) if (Number.isFinite(value) && value >= 0) c.inc(labels, value);
      },
    });
  }

  private gauge(name: string, help: string, labelNames: string[], samples: (s: Snapshot) => Samples): void {
    const g: Gauge<string> = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: () => {
        g.reset();
        for (const [labels, value] of samples(this.snapshot())) if (Number.isFinite(value)) g.set(labels, value);
      },
    });
  }

  private histogram(name: string, help: string, series: (s: Snapshot) => Iterable<HistogramSeries>): void {
    new PrecomputedHistogram({ name, help, registry: this.registry, series: () => series(this.snapshot()) });
  }

  /** Triton's nv_inference_* families, per model version. */
  private registerTritonFamilies(): void {
    const mv = ['model', 'version'];
    const perVersion = (value: (v: VersionStatistics) => number) =>
      function* (s: Snapshot): Samples {
        for (const m of s.models) for (const v of m.versions) yield [{ model: m.name, version: v.version }, value(v)];
      };
    this.counter(
      'nv_inference_request_success',
      'Inference requests answered successfully (one per request, whatever its batch size)',
      mv,
      perVersion((v) => v.inference_stats.success.count),
    );
    this.counter('nv_inference_request_failure', "Inference requests that failed, by Triton's failure reason (one per request, whatever its batch size)", [...mv, 'reason'], function* (s) {
      for (const m of s.models) {
        for (const v of m.versions) {
          for (const [reason, count] of Object.entries(FAILURE_REASONS)) yield [{ model: m.name, version: v.version, reason }, count(v.failures)];
        }
      }
    });
    this.counter('nv_inference_count', 'Inferences performed: rows executed, a batch of n counting n', mv, perVersion((v) => v.inference_count));
    this.counter('nv_inference_exec_count', 'Batch executions performed', mv, perVersion((v) => v.execution_count));
    this.counter(
      'nv_inference_request_duration_us',
      'Cumulative time of successful requests from arrival to answer, in microseconds',
      mv,
      perVersion((v) => us(v.inference_stats.success.ns)),
    );
    this.counter(
      'nv_inference_queue_duration_us',
      'Cumulative time requests waited in the batcher before an executor took their batch, in microseconds',
      mv,
      perVersion((v) => us(v.inference_stats.queue.ns)),
    );
    // Triton adds a batch's compute time once for each request in it; infergate's statistics count
    // it once per batch (VersionStatistics.inference_stats.compute_infer), and that is exported.
    this.counter(
      'nv_inference_compute_infer_duration_us',
      'Cumulative time executors spent running batches, in microseconds',
      mv,
      perVersion((v) => us(v.inference_stats.compute_infer.ns)),
    );
    this.gauge(
      'nv_inference_pending_request_count',
      'Requests admitted and not yet executing',
      mv,
      perVersion((v) => v.pending),
    );
  }

  /** infergate's own families: batching, latency distribution, admission, backends, Triton replicas. */
  /** Shadow comparison, drift and the prediction log (docs/rollouts.md). */
  private registerRolloutFamilies(): void {
    const shadowCount = (value: (t: ShadowSummary['totals']) => number) =>
      function* (s: Snapshot): Samples {
        for (const m of s.models) if (m.shadow) yield [{ model: m.name }, value(m.shadow.totals)];
      };
    this.counter('infergate_shadow_pairs_total', 'Primary and shadow answers compared', ['model'], shadowCount((t) => t.pairs));
    this.counter('infergate_shadow_disagreements_total', 'Compared pairs whose decisions differ', ['model'], shadowCount((t) => t.disagreements));
    this.counter('infergate_shadow_dropped_total', 'Shadow copies dropped because the bounded shadow queue was full', ['model'], shadowCount((t) => t.dropped));
    this.counter('infergate_shadow_failures_total', 'Shadow requests that failed, by error code', ['model', 'code'], function* (s) {
      for (const m of s.models) if (m.shadow) for (const [code, n] of Object.entries(m.shadow.totals.shadowFailures)) yield [{ model: m.name, code }, n];
    });
    const shadowWindow = (value: (w: ShadowSummary['window']) => number | null) =>
      function* (s: Snapshot): Samples {
        for (const m of s.models) {
          const v = m.shadow && value(m.shadow.window);
          if (v !== null && v !== undefined) yield [{ model: m.name }, v];
        }
      };
    this.gauge('infergate_shadow_agreement_rate', 'Share of the sliding window\'s pairs whose decisions agree', ['model'], shadowWindow((w) => w.agreementRate));
    this.gauge('infergate_shadow_mean_abs_diff', 'Mean |shadow score - primary score| over the sliding window', ['model'], shadowWindow((w) => w.meanAbsDiff));
    this.gauge('infergate_shadow_max_abs_diff', 'Largest |shadow score - primary score| in the sliding window', ['model'], shadowWindow((w) => w.maxAbsDiff));
    this.gauge('infergate_shadow_psi', 'PSI of the shadow\'s scores against the primary\'s, over the sliding window', ['model'], shadowWindow((w) => w.psi));
    this.gauge('infergate_shadow_ks', 'Kolmogorov-Smirnov D between primary and shadow scores, over the sliding window', ['model'], shadowWindow((w) => w.ks));
    this.gauge('infergate_shadow_latency_diff_p50_ms', 'Median of shadow latency minus primary latency, ms', ['model'], shadowWindow((w) => w.latencyDiffMs.p50));
    this.gauge('infergate_drift_psi', 'PSI of the live score distribution against the model\'s training reference', ['model'], function* (s) {
      for (const m of s.models) if (m.drift && m.drift.psi !== null) yield [{ model: m.name }, m.drift.psi];
    });
    this.gauge('infergate_drift_level', 'Score drift: -1 too few scores yet, 0 ok, 1 warn (PSI >= warn), 2 alert (PSI >= alert)', ['model'], function* (s) {
      for (const m of s.models) if (m.drift) yield [{ model: m.name }, DRIFT_LEVELS[m.drift.level]];
    });
    this.counter('infergate_prediction_log_lines_total', 'Prediction log lines, written or dropped (the log\'s bounded buffer was full)', ['outcome'], function* (s) {
      if (!s.predictionLog) return;
      yield [{ outcome: 'written' }, s.predictionLog.written];
      yield [{ outcome: 'dropped' }, s.predictionLog.dropped];
    });
  }

  private registerInfergateFamilies(): void {
    this.histogram('infergate_batch_size', 'Rows per executed batch', function* (s) {
      for (const m of s.models) for (const v of m.versions) if (v.batch_stats.length > 0) yield batchSizeSeries(m.name, m.maxBatchSize, v);
    });
    this.histogram('infergate_request_latency_us', 'Request latency in microseconds, arrival to answer', function* (s) {
      for (const m of s.models) {
        for (const v of m.versions) {
          // The native side fills the histogram; until it does there is nothing to export.
          if (v.latency.counts.length === 0) continue;
          const upperBounds = v.latency.boundsUs.filter((b) => b !== Infinity);
          const sum = us(v.inference_stats.success.ns + v.inference_stats.fail.ns);
          yield { labels: { model: m.name, version: v.version }, upperBounds, counts: v.latency.counts, sum };
        }
      }
    });
    const perModel = (value: (m: Snapshot['models'][number]) => number) =>
      function* (s: Snapshot): Samples {
        for (const m of s.models) yield [{ model: m.name }, value(m)];
      };
    this.registerRolloutFamilies();
    this.gauge('infergate_queue_depth', 'Requests admitted and not yet executing', ['model'], perModel((m) => m.stats.queued));
    this.gauge('infergate_ready_batches', 'Sealed batches waiting for an executor', ['model'], perModel((m) => m.stats.readyBatches));
    this.counter('infergate_rejected_requests_total', 'Requests refused at admission, by reason', ['model', 'reason'], function* (s) {
      for (const m of s.models) {
        yield [{ model: m.name, reason: 'queue_full' }, m.stats.rejected.queueFull];
        yield [{ model: m.name, reason: 'deadline' }, m.stats.rejected.deadline];
      }
    });
    this.gauge(
      'infergate_backend_degraded',
      '1 while a Triton-served model is served from its local fallback because no Triton replica is available',
      ['model'],
      perModel((m) => (m.stats.backend.degraded ? 1 : 0)),
    );
    this.counter('infergate_backend_batches_total', 'Batches of a Triton-served model, by outcome', ['model', 'outcome'], function* (s) {
      for (const m of s.models) {
        const b = m.stats.backend;
        if (b.mode === 'local') continue;
        yield [{ model: m.name, outcome: 'forwarded' }, b.forwardedBatches];
        yield [{ model: m.name, outcome: 'failed' }, b.failedBatches];
        yield [{ model: m.name, outcome: 'fallback' }, b.fallbackBatches];
      }
    });
    this.counter(
      'infergate_backend_degraded_entries_total',
      'Times a Triton-served model fell back to local serving',
      ['model'],
      function* (s) {
        for (const m of s.models) if (m.stats.backend.mode !== 'local') yield [{ model: m.name }, m.stats.backend.degradedEntries];
      },
    );
    this.registerReplicaFamilies();
  }

  /** Per Triton endpoint; an endpoint in several clusters' lists is reported once, at its worst. */
  private registerReplicaFamilies(): void {
    const byEndpoint = (s: Snapshot) => mergeReplicas(s.replicas);
    this.gauge('infergate_triton_replica_health', 'Health of a Triton replica: 1 for its current state', ['endpoint', 'state'], function* (s) {
      for (const r of byEndpoint(s)) for (const state of HEALTH_STATES) yield [{ endpoint: r.endpoint, state }, r.health === state ? 1 : 0];
    });
    this.gauge('infergate_triton_replica_circuit', "State of a Triton replica's circuit breaker: 1 for its current state", ['endpoint', 'state'], function* (s) {
      for (const r of byEndpoint(s)) for (const state of CIRCUIT_STATES) yield [{ endpoint: r.endpoint, state }, r.circuit === state ? 1 : 0];
    });
    this.gauge('infergate_triton_replica_outstanding_calls', 'ModelInfer calls in flight to a Triton replica', ['endpoint'], function* (s) {
      for (const r of byEndpoint(s)) yield [{ endpoint: r.endpoint }, r.outstanding];
    });
    this.counter('infergate_triton_replica_calls_total', 'ModelInfer calls sent to a Triton replica', ['endpoint'], function* (s) {
      for (const r of byEndpoint(s)) yield [{ endpoint: r.endpoint }, r.calls];
    });
    this.counter('infergate_triton_replica_failures_total', 'ModelInfer calls to a Triton replica that failed', ['endpoint'], function* (s) {
      for (const r of byEndpoint(s)) yield [{ endpoint: r.endpoint }, r.failures];
    });
  }
}

/**
 * Triton's batch_stats (executions per batch size) as a histogram of batch sizes, with buckets at
 * the powers of two up to max_batch_size and at max_batch_size itself: the same buckets on every
 * scrape, whichever sizes have occurred.
 */
function batchSizeSeries(model: string, maxBatchSize: number, v: VersionStatistics): HistogramSeries {
  const upperBounds: number[] = [];
  const max = Math.max(1, maxBatchSize);
  for (let b = 1; b < max; b *= 2) upperBounds.push(b);
  upperBounds.push(max);
  const counts: number[] = Array(upperBounds.length + 1).fill(0);
  let sum = 0;
  for (const b of v.batch_stats) {
    const executions = b.compute_infer.count;
    const i = upperBounds.findIndex((bound) => b.batch_size <= bound);
    counts[i === -1 ? upperBounds.length : i] += executions;
    sum += b.batch_size * executions;
  }
  return { labels: { model, version: v.version }, upperBounds, counts, sum };
}

const HEALTH_RANK: Record<string, number> = { ejected: 0, unknown: 1, ready: 2 };
const CIRCUIT_RANK: Record<string, number> = { open: 0, 'half-open': 1, closed: 2 };

function mergeReplicas(replicas: ReplicaStats[]): ReplicaStats[] {
  const merged = new Map<string, ReplicaStats>();
  for (const r of replicas) {
    const m = merged.get(r.endpoint);
    if (!m) {
      merged.set(r.endpoint, { ...r });
      continue;
    }
    if ((HEALTH_RANK[r.health] ?? 0) < (HEALTH_RANK[m.health] ?? 0)) m.health = r.health;
    if ((CIRCUIT_RANK[r.circuit] ?? 0) < (CIRCUIT_RANK[m.circuit] ?? 0)) m.circuit = r.circuit;
    m.outstanding += r.outstanding;
    m.calls += r.calls;
    m.failures += r.failures;
  }
  return [...merged.values()];
}
