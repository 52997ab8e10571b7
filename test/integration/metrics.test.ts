// /metrics against the real runtime: the example model is loaded, records are scored through the
// native batcher and ONNX Runtime, a full queue refuses requests, and every scrape is read back
// from the text format and compared with model.statistics() and with the requests made.
// No assertion depends on how fast anything runs.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { InferError, type Model, Runtime } from '../../src/index';
import { InferenceMetrics } from '../../src/observability/metrics';
import { MetricsServer } from '../../src/server/metrics-server';
import { FIXTURES, MODELS } from '../helpers';
import { type Exposition, histogramsOf, parseExposition, samplesOf, valueOf } from '../support/prometheus-text';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { rows: Record<string, unknown>[] };
const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

async function scrape(port: number): Promise<Exposition> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

const TRITON_COUNTERS: Record<string, (v: ReturnType<Model['statistics']>[number]) => number> = {
  nv_inference_request_success: (v) => v.inference_stats.success.count,
  nv_inference_count: (v) => v.inference_count,
  nv_inference_exec_count: (v) => v.execution_count,
  nv_inference_request_duration_us: (v) => Math.floor(v.inference_stats.success.ns / 1000),
  nv_inference_queue_duration_us: (v) => Math.floor(v.inference_stats.queue.ns / 1000),
  nv_inference_compute_infer_duration_us: (v) => Math.floor(v.inference_stats.compute_infer.ns / 1000),
};

/** Every nv_* value of the scrape equals model.statistics() read right after it (nothing ran between). */
function assertMatchesStatistics(e: Exposition, model: Model): void {
  for (const v of model.statistics()) {
    const labels = { model: model.name, version: v.version };
    for (const [name, expected] of Object.entries(TRITON_COUNTERS)) assert.equal(valueOf(e, name, labels), expected(v), `${name} of version ${v.version}`);
    assert.equal(valueOf(e, 'nv_inference_pending_request_count', labels), v.pending);
    const f = v.failures;
    assert.equal(valueOf(e, 'nv_inference_request_failure', { ...labels, reason: 'REJECTED' }), f.rejected + f.deadline);
    assert.equal(valueOf(e, 'nv_inference_request_failure', { ...labels, reason: 'CANCELED' }), f.canceled);
    assert.equal(valueOf(e, 'nv_inference_request_failure', { ...labels, reason: 'BACKEND' }), f.backend);
    assert.equal(valueOf(e, 'nv_inference_request_failure', { ...labels, reason: 'OTHER' }), f.invalid);
    // The latency histogram is the native side's buckets exactly, or absent while it has none.
    const latency = histogramsOf(e, 'infergate_request_latency_us').filter((h) => h.labels.version === v.version);
    if (v.latency.counts.length === 0) {
      assert.deepEqual(latency, []);
    } else {
      let cumulative = 0;
      const expected = v.latency.boundsUs.map((le, i) => ({ le, count: (cumulative += v.latency.counts[i] as number) }));
      assert.deepEqual(latency[0]?.buckets, expected);
    }
    const batches = histogramsOf(e, 'infergate_batch_size').filter((h) => h.labels.version === v.version);
    const executions = v.batch_stats.reduce((n, b) => n + b.compute_infer.count, 0);
    assert.deepEqual(batches.map((h) => h.count), v.batch_stats.length === 0 ? [] : [executions]);
  }
  const s = model.stats();
  assert.equal(valueOf(e, 'infergate_queue_depth', { model: model.name }), s.queued);
  assert.equal(valueOf(e, 'infergate_rejected_requests_total', { model: model.name, reason: 'queue_full' }), s.rejected.queueFull);
  assert.equal(valueOf(e, 'infergate_backend_degraded', { model: model.name }), 0);
}

/** No counter, histogram bucket or _count of `after` is below its value in `before`. */
function assertMonotonic(before: Exposition, after: Exposition): void {
  const cumulative = (name: string) => {
    const t = before.types.get(name) ?? before.types.get(name.replace(/_(bucket|count|sum)$/, ''));
    return t === 'counter' || t === 'histogram';
  };
  for (const b of before.samples.filter((s) => cumulative(s.name))) {
    const a = valueOf(after, b.name, b.labels);
    assert.ok(a !== undefined && a >= b.value, `${b.name}${JSON.stringify(b.labels)} went from ${b.value} to ${a}`);
  }
}

describe('metrics server', () => {
  it('counts exactly the requests made, equal to model.statistics(), scrape after scrape', async () => {
    const rt = await Runtime.load({ repository: MODELS, models: ['fraud'], executorThreads: 1, batching: { maxQueueSize: 64, maxBatchSize: 16 } });
    const server = new MetricsServer(new InferenceMetrics(rt), { port: 0 });
    const { port } = await server.listen();
    try {
      const fraud = rt.model('fraud');
      const v1 = { model: 'fraud', version: '1' };
      const s0 = await scrape(port);
      assertMatchesStatistics(s0, fraud);
      assert.equal(valueOf(s0, 'nv_inference_count', v1), 0);

      const results = await fraud.inferMany(golden.rows.slice(0, 50));
      assert.equal(results.filter((r) => r instanceof InferError).length, 0);
      const s1 = await scrape(port);
      assertMatchesStatistics(s1, fraud);
      assert.equal(valueOf(s1, 'nv_inference_count', v1), 50, 'one inference per record');
      assert.equal(valueOf(s1, 'nv_inference_request_success', v1), 50, 'every record answered');
      assert.ok((valueOf(s1, 'nv_inference_request_duration_us', v1) as number) > 0);
      assert.equal(valueOf(s1, 'infergate_request_latency_us_count', v1), 50, 'the latency histogram counts every answer');
      const executions = valueOf(s1, 'nv_inference_exec_count', v1) as number;
      assert.ok(executions >= Math.ceil(50 / 16) && executions <= 50, `${executions} batches for 50 records in batches of at most 16`);
      assert.equal(valueOf(s1, 'nv_inference_pending_request_count', v1), 0);
      assertMonotonic(s0, s1);

      // With the executor paused, the queue fills and refuses the rest at once.
      rt.executor.pause();
      const outcome: string[] = Array(200).fill('pending');
      const attempts = Array.from({ length: 200 }, (_, i) =>
        fraud.infer(example).then(
          () => (outcome[i] = 'scored'),
          (e: InferError) => (outcome[i] = e.code),
        ),
      );
      await new Promise((r) => setImmediate(r));
      const admitted = outcome.filter((o) => o === 'pending').length;
      const refused = outcome.filter((o) => o === 'resource_exhausted').length;
      assert.equal(admitted + refused, 200);
      assert.ok(refused > 0 && admitted > 0, `${admitted} admitted, ${refused} refused`);
      const s2 = await scrape(port);
      assertMatchesStatistics(s2, fraud);
      const rejectedBefore = valueOf(s1, 'nv_inference_request_failure', { ...v1, reason: 'REJECTED' }) as number;
      assert.equal(valueOf(s2, 'nv_inference_request_failure', { ...v1, reason: 'REJECTED' }), rejectedBefore + refused);
      assert.equal(valueOf(s2, 'infergate_rejected_requests_total', { model: 'fraud', reason: 'queue_full' }), refused);
      assert.equal(valueOf(s2, 'nv_inference_pending_request_count', v1), admitted, 'every admitted request waits');
      assert.equal(valueOf(s2, 'infergate_queue_depth', { model: 'fraud' }), admitted);
      assert.equal(valueOf(s2, 'nv_inference_count', v1), 50, 'nothing ran while paused');
      assertMonotonic(s1, s2);

      rt.executor.resume();
      await Promise.all(attempts);
      assert.equal(outcome.filter((o) => o === 'scored').length, admitted);
      const s3 = await scrape(port);
      assertMatchesStatistics(s3, fraud);
      assert.equal(valueOf(s3, 'nv_inference_count', v1), 50 + admitted);
      assert.equal(valueOf(s3, 'nv_inference_pending_request_count', v1), 0);
      assertMonotonic(s2, s3);

      // A reloaded model is a new instance: its counters start at zero, as in Triton.
      await rt.loadModel('fraud');
      const s4 = await scrape(port);
      assertMatchesStatistics(s4, rt.model('fraud'));
      assert.equal(valueOf(s4, 'nv_inference_count', v1), 0);
      assert.equal(samplesOf(s4, 'nv_inference_count').length, 1, 'the old instance is gone');
    } finally {
      await server.close();
      await rt.close();
    }
  });

  it('answers GET /metrics only: 404 elsewhere, 405 for another method', async () => {
    const rt = await Runtime.load({ repository: MODELS, models: ['fraud'], executorThreads: 1 });
    const server = new MetricsServer(new InferenceMetrics(rt), { port: 0 });
    const { port } = await server.listen();
    try {
      const base = `http://127.0.0.1:${port}`;
      for (const p of ['/', '/metric', '/metrics/extra', '/v2/health/live']) {
        const res = await fetch(base + p);
        assert.equal(res.status, 404, p);
        assert.match(await res.text(), /metrics are at GET \/metrics/);
      }
      const post = await fetch(`${base}/metrics`, { method: 'POST', body: '' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET');
      await post.text();
      const withQuery = await fetch(`${base}/metrics?name[]=nv_inference_count`);
      assert.equal(withQuery.status, 200);
      assert.ok(valueOf(parseExposition(await withQuery.text()), 'nv_inference_count', { model: 'fraud', version: '1' }) === 0);
    } finally {
      await server.close();
      await rt.close();
    }
  });
});
