// The native dynamic batcher behind the embedded API: exactly-once answers under concurrency from
// several threads, admission control, deadlines, priorities, worker crashes, zero copy.
// No assertion depends on how fast anything runs.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { InferError, Runtime, type RuntimeOptions } from '../../src/index';
import { Preprocessor } from '../../src/preprocess/preprocessor';
import { MODELS, FIXTURES } from '../helpers';
import type { ProducerReport } from './producer-worker';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { rows: Record<string, unknown>[] };
const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

/** Each record's score run alone (batch of one) with ONNX Runtime on this thread: the reference. */
async function unbatchedScores(records: unknown[]): Promise<number[]> {
  const spec = path.join(MODELS, 'fraud', 'preprocess.json');
  const pre = new Preprocessor(readFileSync(spec, 'utf8'), spec, 'fraud');
  const session = await ort.InferenceSession.create(path.join(MODELS, 'fraud', '1', 'model.onnx'), { intraOpNumThreads: 1 });
  const scores: number[] = [];
  for (const r of records) {
    const out = await session.run({ features: new ort.Tensor('float32', pre.one(r), [1, pre.width]) }, ['probabilities']);
    scores.push((out.probabilities?.data as Float32Array)[1] as number);
  }
  await session.release();
  return scores;
}

async function load(options: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  return Runtime.load({ repository: MODELS, models: ['fraud'], ...options });
}

function isError(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof InferError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

/** Waits (by polling, with no time limit of its own) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('batching', () => {
  it('answers 1,000,000 requests from 4 threads exactly once, each with its own record’s score', async () => {
    // Records whose unbatched scores are pairwise distinct, so any mix-up shows as a wrong score.
    const candidates = golden.rows.slice(0, 600);
    const reference = await unbatchedScores(candidates);
    const seen = new Set<number>();
    const records: unknown[] = [];
    const expected: number[] = [];
    candidates.forEach((r, i) => {
      const s = reference[i] as number;
      if (!seen.has(s)) {
        seen.add(s);
        records.push(r);
        expected.push(s);
      }
    });
    assert.ok(records.length >= 200, `${records.length} distinct scores`);

    const rt = await load();
    try {
      const handle = rt.model('fraud').share();
      const perThread = 250_000;
      const reports = await Promise.all(
        [0, 1, 2, 3].map(
          (t) =>
            new Promise<ProducerReport>((resolve, reject) => {
              const w = new Worker(path.join(__dirname, 'producer-worker.js'), {
                workerData: { handle, records, expected, count: perThread, offset: t * 13, window: 256 },
              });
              w.once('message', resolve);
              w.once('error', reject);
            }),
        ),
      );
      for (const r of reports) {
        assert.deepEqual(r.errors, []);
        assert.deepEqual(r.mismatches, []);
        assert.equal(r.answered, perThread);
        assert.equal(r.matched, perThread);
        assert.equal(r.unmatchedDeliveries, 0, 'no ticket delivered twice');
      }
      const stats = rt.model('fraud').stats();
      assert.equal(stats.rows, 4 * perThread, 'every request ran in exactly one batch row');
      assert.ok(stats.batches <= stats.rows);
      const exec = rt.executor.stats;
      assert.equal(exec.rows, 4 * perThread);
      assert.equal(exec.inPlaceBatches, exec.batches, 'every batch was read in place from native memory');
    } finally {
      await rt.close();
    }
  });

  it('main-thread requests and a failing record share batches without touching each other', async () => {
    const rt = await load({ batching: { maxQueueDelayMicroseconds: 50_000 } });
    try {
      const fraud = rt.model('fraud');
      const records = [...golden.rows.slice(0, 50), { ...example, amount: -5 }, ...golden.rows.slice(50, 100)];
      const expected = await unbatchedScores(records.filter((_, i) => i !== 50));
      const results = await fraud.inferMany(records);
      assert.ok(results[50] instanceof InferError && results[50].field === 'amount');
      const scores = results.filter((_, i) => i !== 50).map((r) => (r as { score: number }).score);
      assert.deepEqual(scores, expected);
    } finally {
      await rt.close();
    }
  });

  it('refuses at once with resource_exhausted when the queue is full, and stays bounded under 10× overload', async () => {
    // Batches seal on size (the delay is far away), so the queue bound, not the timer, decides.
    const rt = await load({ executorThreads: 1, batching: { maxQueueSize: 64, maxBatchSize: 16, maxQueueDelayMicroseconds: 600_000_000 } });
    try {
      rt.executor.pause();
      const fraud = rt.model('fraud');
      const outcome: string[] = Array(640).fill('pending');
      const attempts = Array.from({ length: 640 }, (_, i) =>
        fraud.infer(example).then(
          () => (outcome[i] = 'scored'),
          (e: InferError) => (outcome[i] = e.code),
        ),
      );
      // Refusals are answered at once; admitted requests wait for the paused executor.
      await new Promise((r) => setImmediate(r));
      const pending = outcome.filter((s) => s === 'pending').length;
      const exhausted = outcome.filter((s) => s === 'resource_exhausted').length;
      assert.equal(pending + exhausted, 640);
      assert.ok(pending <= 64, `${pending} admitted with max_queue_size 64`);
      assert.ok(pending >= 48, `${pending} admitted`);
      await assert.rejects(fraud.infer(example), isError('resource_exhausted', /queue is full; retry later/));
      rt.executor.resume();
      await Promise.all(attempts);
      assert.equal(outcome.filter((o) => o === 'scored').length, pending, 'every admitted request is scored');
      assert.equal(fraud.stats().rejected.queueFull, exhausted + 1);
    } finally {
      await rt.close();
    }
  });

  it('rejects up front, as deadline_exceeded, a request whose deadline cannot be met', async () => {
    const rt = await load();
    try {
      const fraud = rt.model('fraud');
      await fraud.inferMany(golden.rows.slice(0, 200)); // measures batch execution time
      await assert.rejects(fraud.infer(example, { timeoutMicroseconds: 1 }), isError('deadline_exceeded', /deadline cannot be met/));
      assert.ok(fraud.stats().rejected.deadline >= 1);
      const r = await fraud.infer(example, { timeoutMicroseconds: 60_000_000 });
      assert.ok(r.score >= 0);
    } finally {
      await rt.close();
    }
  });

  it('batches higher priority first under backlog', async () => {
    const rt = await load({
      executorThreads: 1,
      // Batches seal on size alone here (the delay is far away): 3 low-priority and 2 high-priority.
      batching: { priorityLevels: 2, defaultPriorityLevel: 2, maxBatchSize: 4, maxQueueDelayMicroseconds: 600_000_000 },
    });
    try {
      const fraud = rt.model('fraud');
      rt.executor.pause();
      const order: string[] = [];
      const low = Array.from({ length: 12 }, (_, i) => fraud.infer(golden.rows[i], { priority: 2 }).then(() => order.push('low')));
      const high = Array.from({ length: 8 }, (_, i) => fraud.infer(golden.rows[i], { priority: 1 }).then(() => order.push('high')));
      await until(() => fraud.stats().readyBatches === 5);
      rt.executor.resume();
      await Promise.all([...low, ...high]);
      assert.deepEqual(order.slice(0, 8), Array(8).fill('high'));
    } finally {
      await rt.close();
    }
  });

  it('a worker that dies fails only its own batch, and the pool recovers', async () => {
    const rt = await load({ executorThreads: 1 });
    try {
      const fraud = rt.model('fraud');
      const before = await fraud.infer(example);
      rt.executor.exitWorkerOnNextBatch();
      await assert.rejects(fraud.infer(example), isError('unavailable', /executor worker running this batch failed/));
      assert.equal(rt.executor.stats.workerFailures, 1);
      assert.deepEqual(await fraud.infer(example), before);
      const many = await fraud.inferMany(golden.rows.slice(0, 300));
      assert.ok(many.every((r) => !(r instanceof Error)));
    } finally {
      await rt.close();
    }
  });
});
