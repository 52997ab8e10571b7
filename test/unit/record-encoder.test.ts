import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InferError } from '../../src/errors';
import { RecordEncoder } from '../../src/preprocess/record-encoder';

const encoder = new RecordEncoder(
  [
    { name: 'amount', type: 'number', missing: 'reject', min: 0 },
    { name: 'merchant', type: 'string', missing: 'impute', vocabulary: ['grocery', 'fuel'] },
    { name: 'present', type: 'boolean', missing: 'reject' },
    { name: 'score', type: 'number', missing: 'impute', min: 0, max: 1 },
  ],
  'fraud',
);

function encode(record: unknown): number[] {
  const raw = new Float64Array(8).fill(-99);
  encoder.encode(record, raw, 1);
  return Array.from(raw.subarray(4));
}

function rejects(record: unknown, field: string | undefined, message: RegExp): void {
  assert.throws(() => encode(record), (err: unknown) => {
    assert.ok(err instanceof InferError);
    assert.equal(err.code, 'invalid_argument');
    assert.equal(err.field, field);
    assert.equal(err.model, 'fraud');
    assert.match(err.message, message);
    return true;
  });
}

describe('record encoder', () => {
  it('writes one float64 per field at the row: numbers, vocabulary indices, 0/1, NaN for missing', () => {
    assert.deepEqual(encode({ amount: 12.5, merchant: 'fuel', present: true, score: 0.25 }), [12.5, 1, 1, 0.25]);
    assert.deepEqual(encode({ amount: 0, merchant: 'casino', present: false }), [0, -1, 0, NaN]);
    assert.deepEqual(encode({ amount: 3, merchant: null, present: false, score: null }), [3, NaN, 0, NaN]);
  });

  it('names the field and what was expected', () => {
    rejects({ merchant: 'fuel', present: true }, 'amount', /field "amount" is required: expected a finite number/);
    rejects({ amount: null, present: true }, 'amount', /field "amount" is required/);
    rejects({ amount: '12', present: true }, 'amount', /field "amount" must be a finite number, got the string "12"/);
    rejects({ amount: Infinity, present: true }, 'amount', /field "amount" must be a finite number, got Infinity/);
    rejects({ amount: NaN, present: true }, 'amount', /got NaN/);
    rejects({ amount: -1, present: true }, 'amount', /field "amount" must be between 0 and Infinity, got -1/);
    rejects({ amount: 1, present: 1 }, 'present', /field "present" must be true or false, got number 1/);
    rejects({ amount: 1, present: true, merchant: 7 }, 'merchant', /field "merchant" must be a string/);
    rejects({ amount: 1, present: true, score: 1.5 }, 'score', /between 0 and 1/);
    rejects({ amount: 1, present: true, amout: 2 }, 'amout', /unknown field "amout"; the model's fields are: amount, merchant, present, score/);
    rejects([1, 2], undefined, /a record must be a JSON object/);
    rejects(null, undefined, /a record must be a JSON object/);
  });
});
