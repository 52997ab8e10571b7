// The mapping from the runtime's statistics to Prometheus families, on statistics written out by
// hand (the integration test reads the real runtime's): Triton's names, types and labels, failure
// reasons, µs units, histograms from bucket counts, replica states, and what is left out.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ReplicaStats } from '../../src/backends/triton/replica-pool';
import type { VersionStatistics } from '../../src/observability/model-statistics';
import { InferenceMetrics, type MetricsModel, type MetricsSource } from '../../src/observability/metrics';
import type { ModelStats } from '../../src/runtime/model';
import { type Exposition, histogramsOf, parseExposition, samplesOf, valueOf } from '../support/prometheus-text';

const d = (count: number, ns: number) => ({ count, ns });

function versionStats(version: string, over: Partial<VersionStatistics> = {}): VersionStatistics {
  return {
    name: 'fraud',
    version,
    last_inference: 0,
    inference_count: 0,
    execution_count: 0,
    inference_stats: {
      success: d(0, 0),
      fail: d(0, 0),
      queue: d(0, 0),
      compute_input: d(0, 0),
      compute_infer: d(0, 0),
      compute_output: d(0, 0),
      cache_hit: d(0, 0),
      cache_miss: d(0, 0),
    },
    batch_stats: [],
    failures: { rejected: 0, deadline: 0, invalid: 0, backend: 0, canceled: 0 },
    pending: 0,
    readyBatches: 0,
    latency: { boundsUs: [], counts: [] },
    degraded: false,
    ...over,
  };
}

function modelStats(over: Partial<ModelStats> = {}): ModelStats {
  return {
    requests: 0,
    batches: 0,
    rows: 0,
    rejected: { queueFull: 0, deadline: 0 },
    queued: 0,
    readyBatches: 0,
    backend: { mode: 'local', degraded: false, forwardedBatches: 0, failedBatches: 0, fallbackBatches: 0, degradedEntries: 0 },
    ...over,
  };
}

/** A source whose numbers the test sets: the shape Runtime and Model give the metrics. */
class StatisticsSource implements MetricsSource {
  modelList: MetricsModel[] = [];
  replicas: ReplicaStats[] = [];
  readonly triton = { stats: () => this.replicas };
  models(): MetricsModel[] {
    return this.modelList;
  }
  set(name: string, maxBatchSize: number, versions: VersionStatistics[], stats: ModelStats = modelStats()): void {
    this.modelList = this.modelList.filter((m) => m.name !== name);
    this.modelList.push({ name, config: { maxBatchSize }, statistics: () => versions, stats: () => stats });
  }
}

async function scrape(metrics: InferenceMetrics): Promise<Exposition> {
  return parseExposition(await metrics.metrics());
}

const fraud1 = { model: 'fraud', version: '1' };

describe('metrics exposition', () => {
  it("exports Triton's nv_inference_* families with Triton's types, labels and units", async () => {
    const source = new StatisticsSource();
    source.set('fraud', 8, [
      versionStats('1', {
        inference_count: 42,
        execution_count: 5,
        inference_stats: {
          ...versionStats('1').inference_stats,
          success: d(40, 8_000_999), // 8000.999 µs: Triton reports whole microseconds
          fail: d(9, 1_000_000),
          queue: d(40, 2_500_000),
          compute_infer: d(5, 3_000_000),
        },
        failures: { rejected: 3, deadline: 2, invalid: 1, backend: 2, canceled: 1 },
        pending: 7,
      }),
    ]);
    const e = await scrape(new InferenceMetrics(source));
    const types = Object.fromEntries([...e.types].filter(([n]) => n.startsWith('nv_')));
    assert.deepEqual(types, {
      nv_inference_request_success: 'counter',
      nv_inference_request_failure: 'counter',
      nv_inference_count: 'counter',
      nv_inference_exec_count: 'counter',
      nv_inference_request_duration_us: 'counter',
      nv_inference_queue_duration_us: 'counter',
      nv_inference_compute_infer_duration_us: 'counter',
      nv_inference_pending_request_count: 'gauge',
    });
    assert.equal(valueOf(e, 'nv_inference_request_success', fraud1), 40);
    assert.equal(valueOf(e, 'nv_inference_count', fraud1), 42);
    assert.equal(valueOf(e, 'nv_inference_exec_count', fraud1), 5);
    assert.equal(valueOf(e, 'nv_inference_request_duration_us', fraud1), 8000);
    assert.equal(valueOf(e, 'nv_inference_queue_duration_us', fraud1), 2500);
    assert.equal(valueOf(e, 'nv_inference_compute_infer_duration_us', fraud1), 3000);
    assert.equal(valueOf(e, 'nv_inference_pending_request_count', fraud1), 7);
    // Triton's four reasons, always all four: the scheduler's refusals (queue full, deadline) are REJECTED.
    const failures = Object.fromEntries(samplesOf(e, 'nv_inference_request_failure', fraud1).map((s) => [s.labels.reason, s.value]));
    assert.deepEqual(failures, { REJECTED: 5, CANCELED: 1, BACKEND: 2, OTHER: 1 });
  });

  it('exports the latency histogram from bucket counts: cumulative buckets, _sum and _count', async () => {
    const source = new StatisticsSource();
    const stats = versionStats('1').inference_stats;
    source.set('fraud', 8, [
      versionStats('1', {
        inference_stats: { ...stats, success: d(5, 700_000), fail: d(1, 50_500) },
        latency: { boundsUs: [100, 200, 500, Infinity], counts: [3, 0, 2, 1] },
      }),
    ]);
    const [h, ...more] = histogramsOf(await scrape(new InferenceMetrics(source)), 'infergate_request_latency_us');
    assert.equal(more.length, 0);
    assert.deepEqual(h, {
      labels: fraud1,
      buckets: [
        { le: 100, count: 3 },
        { le: 200, count: 3 },
        { le: 500, count: 5 },
        { le: Infinity, count: 6 },
      ],
      sum: 750, // every answered request's time, successes and failures, in µs
      count: 6,
    });
  });

  it('exports no latency series while the native side leaves the histogram empty, nor a malformed one', async () => {
    const source = new StatisticsSource();
    source.set('fraud', 8, [
      versionStats('1'),
      versionStats('2', { latency: { boundsUs: [200, 100, Infinity], counts: [1, 1, 1] } }),
      versionStats('3', { latency: { boundsUs: [100, 200], counts: [1, 1] } }),
    ]);
    const e = await scrape(new InferenceMetrics(source));
    assert.deepEqual(histogramsOf(e, 'infergate_request_latency_us'), []);
    // The versions are still there in every other family.
    assert.equal(samplesOf(e, 'nv_inference_count').length, 3);
  });

  it("exports Triton's batch_stats as a batch-size histogram with the same buckets whatever sizes ran", async () => {
    const source = new StatisticsSource();
    const batch = (size: number, executions: number) => ({ batch_size: size, compute_input: d(0, 0), compute_infer: d(executions, 1000), compute_output: d(0, 0) });
    source.set('fraud', 12, [versionStats('1', { batch_stats: [batch(1, 2), batch(3, 1), batch(12, 4)] }), versionStats('2')]);
    const [h, ...more] = histogramsOf(await scrape(new InferenceMetrics(source)), 'infergate_batch_size');
    assert.equal(more.length, 0, 'a version without batch_stats has no series');
    assert.deepEqual(h?.buckets, [
      { le: 1, count: 2 },
      { le: 2, count: 2 },
      { le: 4, count: 3 },
      { le: 8, count: 3 },
      { le: 12, count: 7 },
      { le: Infinity, count: 7 },
    ]);
    assert.equal(h?.sum, 1 * 2 + 3 * 1 + 12 * 4);
    assert.equal(h?.count, 7);
  });

  it('exports queue depth, rejections by reason and backend state per model', async () => {
    const source = new StatisticsSource();
    source.set('local', 8, [versionStats('1')], modelStats({ queued: 9, readyBatches: 2, rejected: { queueFull: 4, deadline: 1 } }));
    const backend = { mode: 'triton-with-local-fallback' as const, degraded: true, forwardedBatches: 10, failedBatches: 1, fallbackBatches: 3, degradedEntries: 2 };
    source.set('remote', 8, [versionStats('1')], modelStats({ backend }));
    const e = await scrape(new InferenceMetrics(source));
    assert.equal(valueOf(e, 'infergate_queue_depth', { model: 'local' }), 9);
    assert.equal(valueOf(e, 'infergate_ready_batches', { model: 'local' }), 2);
    assert.equal(valueOf(e, 'infergate_rejected_requests_total', { model: 'local', reason: 'queue_full' }), 4);
    assert.equal(valueOf(e, 'infergate_rejected_requests_total', { model: 'local', reason: 'deadline' }), 1);
    assert.equal(valueOf(e, 'infergate_backend_degraded', { model: 'local' }), 0);
    assert.equal(valueOf(e, 'infergate_backend_degraded', { model: 'remote' }), 1);
    assert.equal(valueOf(e, 'infergate_backend_batches_total', { model: 'remote', outcome: 'fallback' }), 3);
    assert.equal(valueOf(e, 'infergate_backend_degraded_entries_total', { model: 'remote' }), 2);
    assert.deepEqual(samplesOf(e, 'infergate_backend_batches_total', { model: 'local' }), [], 'a local model forwards nothing');
  });

  it('exports each Triton endpoint once, at its worst state across the clusters that list it', async () => {
    const source = new StatisticsSource();
    const replica = (endpoint: string, health: string, circuit: string, calls: number): ReplicaStats => ({
      endpoint,
      health,
      circuit,
      outstanding: 1,
      calls,
      failures: 1,
      lastError: '',
    });
    source.replicas = [replica('a:8001', 'ready', 'closed', 10), replica('b:8001', 'ejected', 'open', 5), replica('a:8001', 'unknown', 'half-open', 3)];
    const e = await scrape(new InferenceMetrics(source));
    const states = (name: string, endpoint: string) =>
      Object.fromEntries(samplesOf(e, name, { endpoint }).map((s) => [s.labels.state, s.value]));
    assert.deepEqual(states('infergate_triton_replica_health', 'a:8001'), { ready: 0, ejected: 0, unknown: 1 });
    assert.deepEqual(states('infergate_triton_replica_health', 'b:8001'), { ready: 0, ejected: 1, unknown: 0 });
    assert.deepEqual(states('infergate_triton_replica_circuit', 'a:8001'), { closed: 0, open: 0, 'half-open': 1 });
    assert.equal(valueOf(e, 'infergate_triton_replica_calls_total', { endpoint: 'a:8001' }), 13);
    assert.equal(valueOf(e, 'infergate_triton_replica_outstanding_calls', { endpoint: 'a:8001' }), 2);
  });

  it('follows the statistics scrape to scrape: an unloaded model disappears, a reloaded one restarts at zero', async () => {
    const source = new StatisticsSource();
    const metrics = new InferenceMetrics(source);
    source.set('fraud', 8, [versionStats('1', { inference_count: 10 })]);
    source.set('other', 8, [versionStats('1', { inference_count: 3 })]);
    assert.equal(valueOf(await scrape(metrics), 'nv_inference_count', fraud1), 10);
    source.set('fraud', 8, [versionStats('1', { inference_count: 25 })]);
    source.modelList = source.modelList.filter((m) => m.name !== 'other');
    let e = await scrape(metrics);
    assert.equal(valueOf(e, 'nv_inference_count', fraud1), 25);
    assert.deepEqual(samplesOf(e, 'nv_inference_count', { model: 'other' }), []);
    source.set('fraud', 8, [versionStats('1')]);
    e = await scrape(metrics);
    assert.equal(valueOf(e, 'nv_inference_count', fraud1), 0);
  });

  it('reads the runtime once per scrape, so every family of a scrape agrees', async () => {
    const source = new StatisticsSource();
    let reads = 0;
    const v = versionStats('1', { inference_count: 1, latency: { boundsUs: [100, Infinity], counts: [1, 0] } });
    source.modelList = [{ name: 'fraud', config: { maxBatchSize: 8 }, statistics: () => (reads++, [v]), stats: () => modelStats() }];
    const metrics = new InferenceMetrics(source);
    await Promise.all([metrics.metrics(), metrics.metrics(), metrics.metrics()]);
    assert.equal(reads, 3);
  });
});
