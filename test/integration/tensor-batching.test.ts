// Preprocessed tensors (the KServe tensor API, the gRPC and HTTP servers) join the batcher's batches
// with raw records: many batch-of-one callers become few executions, and each gets its own rows.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferError } from '../../src/errors';
import type { ScoreResult } from '../../src/runtime/model';
import { Runtime } from '../../src/runtime/runtime';
import { FIXTURES, MODELS } from '../helpers';

interface Golden {
  rows: Record<string, unknown>[];
  tensors: number[][];
  scores: number[];
}
const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as Golden;
const N = 300;

describe('tensor rows through the batcher', () => {
  let rt: Runtime;
  before(async () => {
    rt = await Runtime.load({ repository: MODELS, models: ['fraud'] });
  });
  after(() => rt.close());

  it('batch-of-one tensor requests share batches with records, each answered with its own row', async () => {
    const model = rt.model('fraud');
    const before = model.statistics()[0]!;
    const tensorCalls = golden.tensors.slice(0, N).map((t) =>
      model.inferTensors({ features: { datatype: 'FP32', shape: [1, 40], data: Float32Array.from(t) } }, { outputs: ['probabilities'] }),
    );
    const recordCalls = golden.rows.slice(0, N).map((r) => model.infer(r));
    const [tensors, records] = await Promise.all([Promise.all(tensorCalls), Promise.all(recordCalls)]);
    tensors.forEach((res, i) => {
      const p = res.outputs.probabilities!;
      assert.deepEqual(p.shape, [1, 2]);
      const score = (p.data as Float32Array)[1]!;
      assert.ok(Math.abs(score - golden.scores[i]!) <= 1e-5, `row ${i}: ${score} vs ${golden.scores[i]}`);
      assert.equal(score, (records[i] as ScoreResult).score, 'the same tensor, the same score, whichever way it came');
    });
    const after = model.statistics()[0]!;
    assert.equal(after.inference_count - before.inference_count, 2 * N);
    assert.ok(after.execution_count - before.execution_count < N, 'batched: fewer executions than requests');
  });

  it('a multi-row request keeps its row order; other outputs or a bad priority fail alone', async () => {
    const model = rt.model('fraud');
    const rows = 17;
    const data = Float32Array.from(golden.tensors.slice(0, rows).flat());
    const res = await model.inferTensors({ features: { datatype: 'FP32', shape: [rows, 40], data } });
    const p = res.outputs.probabilities!.data as Float32Array;
    for (let r = 0; r < rows; r++) assert.ok(Math.abs(p[2 * r + 1]! - golden.scores[r]!) <= 1e-5, `row ${r}`);
    const err = await model
      .inferTensors({ features: { datatype: 'FP32', shape: [1, 40], data: data.subarray(0, 40) } }, { priority: 9 })
      .then(() => undefined, (e: unknown) => e as InferError);
    assert.ok(err instanceof InferError);
    assert.equal(err.code, 'invalid_argument');
    assert.equal(err.field, 'priority');
  });
});
