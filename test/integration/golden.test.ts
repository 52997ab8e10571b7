// Train-serve parity: the native plan against scikit-learn's own transformers, and the whole
// record path against Python ONNX Runtime, on the golden rows models/fraud/train.py wrote.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Preprocessor } from '../../src/preprocess/preprocessor';
import { Runtime } from '../../src/runtime/runtime';
import type { ScoreResult } from '../../src/runtime/model';
import { FIXTURES, MODELS } from '../helpers';

interface Golden {
  width: number;
  rows: Record<string, unknown>[];
  tensors: number[][];
  scores: number[];
}

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as Golden;
const specFile = path.join(MODELS, 'fraud', 'preprocess.json');

// Tolerances: the plan computes in float64 in scikit-learn's order and rounds once to float32, so it
// differs from scikit-learn's float64 tensor by float32 rounding alone (relative 2^-24 ≈ 6e-8); 1e-6
// relative (with 1e-9 absolute for values at zero) leaves margin for a last-bit difference in log1p.
const REL = 1e-6;
const ABS = 1e-9;
// Scores: the same float32 tensor into the same trees; ONNX Runtime versions may sum trees in a
// different order, hence 1e-5 absolute on a probability.
const SCORE_TOL = 1e-5;

describe('golden rows (models/fraud/train.py)', () => {
  it('holds at least 1,000 rows with missing values and unseen categories', () => {
    assert.ok(golden.rows.length >= 1000, `${golden.rows.length} rows`);
    const missing = golden.rows.filter((r) => Object.values(r).includes(null) || Object.keys(r).length < 11).length;
    assert.ok(missing > 0, 'some rows have missing values');
  });

  it('the native plan writes exactly the tensor scikit-learn produced, for every row', () => {
    const pre = new Preprocessor(readFileSync(specFile, 'utf8'), specFile, 'fraud');
    assert.equal(pre.width, golden.width);
    const batch = pre.batch(golden.rows);
    assert.equal(batch.rows, golden.rows.length, 'every golden row is valid');
    let worst = 0;
    golden.tensors.forEach((expected, r) => {
      expected.forEach((want, c) => {
        const got = batch.tensor[r * pre.width + c] as number;
        const err = Math.abs(got - want);
        worst = Math.max(worst, err / Math.max(Math.abs(want), 1e-300));
        assert.ok(err <= REL * Math.abs(want) + ABS, `row ${r} column ${c}: native ${got}, scikit-learn ${want}`);
      });
    });
    assert.ok(worst < REL, `worst relative error ${worst}`);
  });

  describe('scores', () => {
    let rt: Runtime;
    before(async () => {
      rt = await Runtime.load({ repository: MODELS, models: ['fraud'] });
    });
    after(() => rt.close());

    it('raw record → infergate equals Python ONNX Runtime within 1e-5, for every row', async () => {
      const results = await rt.model('fraud').inferMany(golden.rows);
      results.forEach((r, i) => {
        assert.ok(!(r instanceof Error), `row ${i}: ${String(r)}`);
        const want = golden.scores[i] as number;
        assert.ok(Math.abs((r as ScoreResult).score - want) <= SCORE_TOL, `row ${i}: infergate ${(r as ScoreResult).score}, Python ${want}`);
      });
    });

    it('the KServe tensor path on scikit-learn tensors gives the same scores', async () => {
      const rows = 64;
      const data = new Float32Array(golden.tensors.slice(0, rows).flat());
      const out = await rt.model('fraud').inferTensors({ features: { datatype: 'FP32', shape: [rows, golden.width], data } });
      const probs = out.outputs.probabilities?.data as Float32Array;
      for (let i = 0; i < rows; i++) {
        assert.ok(Math.abs((probs[i * 2 + 1] as number) - (golden.scores[i] as number)) <= SCORE_TOL, `row ${i}`);
      }
    });
  });
});
