// model.statistics(): Triton's ModelStatistics fields, from the batcher's own counters.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '../../src/runtime/runtime';
import { FIXTURES, MODELS } from '../helpers';

const rows = (JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { rows: object[] }).rows.slice(0, 250);

describe('model statistics', () => {
  let rt: Runtime;
  before(async () => {
    rt = await Runtime.load({ repository: MODELS, models: ['fraud'] });
  });
  after(() => rt.close());

  it('count every request, batch, failure and latency', async () => {
    const model = rt.model('fraud');
    const results = await model.inferMany([...rows, { amount: 'not a number' }]);
    assert.equal(results.filter((r) => r instanceof Error).length, 1);
    const [s] = model.statistics();
    assert.ok(s);
    assert.equal(s.name, 'fraud');
    assert.equal(s.version, '1');
    assert.equal(s.inference_stats.success.count, rows.length);
    assert.ok(s.inference_stats.success.ns > 0);
    assert.equal(s.inference_stats.fail.count, 1, 'the invalid record');
    assert.equal(s.failures.invalid, 1);
    assert.equal(s.inference_count, rows.length);
    assert.equal(s.inference_stats.queue.count, rows.length);
    assert.ok(s.execution_count >= 1 && s.execution_count <= rows.length);
    assert.equal(s.inference_stats.compute_infer.count, rows.length, 'per request, as Triton counts it');
    const batched = s.batch_stats.reduce((sum, b) => sum + b.batch_size * b.compute_infer.count, 0);
    assert.equal(batched, rows.length, 'batch sizes times counts cover every row');
    assert.equal(s.batch_stats.reduce((sum, b) => sum + b.compute_infer.count, 0), s.execution_count);
    assert.equal(s.latency.counts.reduce((a, b) => a + b, 0), rows.length);
    assert.equal(s.latency.boundsUs.length, s.latency.counts.length);
    assert.equal(s.latency.boundsUs.at(-1), Infinity);
    assert.ok(Math.abs(s.last_inference - Date.now()) < 60_000, 'last_inference is a recent epoch time in ms');
    assert.equal(s.pending, 0);
  });
});
