import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InferError } from '../../src/errors';
import type { PlanField } from '../../src/native/addon';
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

describe('record encoder: the compiled path against the generic loop', () => {
  const fields: PlanField[] = [
    { name: 'amount', type: 'number', missing: 'reject', min: -2.5, max: 1e6 },
    { name: 'merchant', type: 'string', missing: 'impute', vocabulary: ['grocery', 'fuel'] },
    { name: 'present', type: 'boolean', missing: 'reject' },
    { name: 'weird "name"]; throw 1; //', type: 'number', missing: 'impute' },
    { name: 'free text', type: 'string', missing: 'impute' },
  ];
  const compiled = new RecordEncoder(fields, 'fraud');
  const generic = new RecordEncoder(fields, 'fraud', { compile: false });
  compiled.routingField = generic.routingField = 'customer';

  /** What an encoder does with a record: the row it writes, or the error it throws. */
  function outcome(encoder: RecordEncoder, record: unknown): unknown {
    const raw = new Float64Array(10).fill(-99);
    try {
      encoder.encode(record, raw, 1);
      return Array.from(raw.subarray(5));
    } catch (err) {
      assert.ok(err instanceof InferError);
      return { code: err.code, field: err.field, message: err.message };
    }
  }

  const values = [undefined, null, 0, -0, -2.5, -3, 7.25, 1e6, 1e7, NaN, Infinity, -Infinity, '', 'fuel', 'grocery', 'casino', true, false, {}, [1]];
  const typical: Record<PlanField['type'], readonly unknown[]> = { number: [0, -2.5, 7.25, 1e6, 3], string: ['fuel', 'grocery', 'casino', ''], boolean: [true, false] };
  let seed = 12345;
  const pick = <T>(list: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return list[seed % list.length] as T;
  };

  it('writes the same row or throws the same error for 20,000 random records', () => {
    let accepted = 0;
    for (let n = 0; n < 20000; n++) {
      const record: Record<string, unknown> = {};
      for (const f of fields) {
        // Mostly a value of the field's own type, so that whole records are often valid.
        const v = pick([0, 1, 2]) === 0 ? pick(values) : pick(typical[f.type]);
        if (v !== undefined || pick([true, false])) record[f.name] = v;
      }
      const extra = pick(['none', 'none', 'none', 'customer', 'unknown', 'undefined']);
      if (extra === 'customer') record.customer = 'c-17';
      if (extra === 'unknown') record.amout = 1;
      if (extra === 'undefined') record.later = undefined;
      const expected = outcome(generic, record);
      assert.deepEqual(outcome(compiled, record), expected, JSON.stringify(record));
      if (Array.isArray(expected)) accepted++;
    }
    // Both kinds of outcome were exercised, not just one.
    assert.ok(accepted > 2000 && accepted < 18000, `accepted ${accepted}`);
  });

  it('treats field names as data, however they are spelled', () => {
    assert.deepEqual(outcome(compiled, { amount: 1, present: true, 'weird "name"]; throw 1; //': 4, 'free text': 'x' }), [1, NaN, 1, 4, -1]);
  });

  it('reads inherited and non-enumerable fields as the generic loop does', () => {
    const inherited = Object.create({ amount: 3 }) as Record<string, unknown>;
    inherited.present = false;
    assert.deepEqual(outcome(compiled, inherited), outcome(generic, inherited));
    const hidden: Record<string, unknown> = { present: true };
    Object.defineProperty(hidden, 'amount', { value: 5, enumerable: false });
    assert.deepEqual(outcome(compiled, hidden), outcome(generic, hidden));
  });
});
