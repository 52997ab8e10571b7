// The embedded API as a service would use it: Runtime.load → model.infer → close.

import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferError, Runtime, type ScoreResult } from '../../src/index';
import { MODELS } from '../helpers';

const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

function expectError(err: unknown, code: string, message: RegExp, field?: string): true {
  assert.ok(err instanceof InferError, String(err));
  assert.equal(err.code, code);
  assert.match(err.message, message);
  if (field !== undefined) assert.equal(err.field, field);
  return true;
}

describe('embedded API', () => {
  let rt: Runtime;
  before(async () => {
    rt = await Runtime.load({ repository: MODELS });
  });
  after(() => rt.close());

  it('scores a raw record into a score, a decision from the config bands and the version', async () => {
    const r = await rt.model('fraud').infer(example);
    assert.ok(r.score >= 0 && r.score <= 1);
    assert.equal(r.modelVersion, '1');
    const expected = r.score > 0.82 ? 'block' : r.score > 0.6 ? 'step_up' : 'allow';
    assert.equal(r.decision, expected);
    assert.deepEqual(await rt.model('fraud').infer(example, { version: 1 }), r);
  });

  it('names the field when a record is wrong, and the model when it is unknown', async () => {
    const { amount: _drop, ...noAmount } = example;
    await assert.rejects(rt.model('fraud').infer(noAmount), (e) => expectError(e, 'invalid_argument', /field "amount" is required/, 'amount'));
    await assert.rejects(rt.model('fraud').infer({ ...example, amount: 'lots' }), (e) => expectError(e, 'invalid_argument', /must be a finite number/, 'amount'));
    await assert.rejects(rt.model('fraud').infer({ ...example, amount: Number.POSITIVE_INFINITY }), (e) => expectError(e, 'invalid_argument', /got Infinity/, 'amount'));
    await assert.rejects(rt.model('fraud').infer(example, { version: 9 }), (e) => expectError(e, 'not_found', /model "fraud" has no version "9" loaded \(loaded: 1\)/));
    assert.throws(() => rt.model('fraudd'), (e) => expectError(e, 'not_found', /^model "fraudd" is not loaded$/));
  });

  it('scores the good records of a batch and answers the bad ones with their own errors', async () => {
    const records = [example, { ...example, card_present: 'yes' }, { ...example, amount: example.amount as number * 3 }, 42];
    const results = await rt.model('fraud').inferMany(records);
    assert.equal(results.length, 4);
    assert.deepEqual(results[0], await rt.model('fraud').infer(records[0]));
    assert.ok(results[1] instanceof InferError && results[1].field === 'card_present');
    assert.deepEqual(results[2], await rt.model('fraud').infer(records[2]));
    assert.ok(results[3] instanceof InferError && /must be a JSON object/.test(results[3].message));
  });

  it('splits a batch larger than max_batch_size and keeps every answer in order', async () => {
    const records = Array.from({ length: 600 }, (_, i) => ({ ...example, amount: i * 1.5 }));
    const batched = (await rt.model('fraud').inferMany(records)) as ScoreResult[];
    for (const i of [0, 255, 256, 511, 599]) assert.deepEqual(batched[i], await rt.model('fraud').infer(records[i]));
  });
});

describe('closing', () => {
  it('finishes requests in flight, then refuses new ones as unavailable', async () => {
    const rt = await Runtime.load({ repository: MODELS });
    const fraud = rt.model('fraud');
    const pending = Array.from({ length: 20 }, () => fraud.infer(example));
    const closed = rt.close();
    await assert.rejects(fraud.infer(example), (e) => expectError(e, 'unavailable', /shutting down/));
    for (const r of await Promise.all(pending)) assert.ok(r.score >= 0);
    await closed;
  });
});

describe('loading a repository', () => {
  async function brokenRepo(edit: (dir: string) => Promise<void>): Promise<string> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'infergate-repo-'));
    await fs.cp(path.join(MODELS, 'fraud'), path.join(root, 'fraud'), { recursive: true });
    await edit(path.join(root, 'fraud'));
    return root;
  }

  it('refuses a preprocess.json with an unknown op, naming the file and the step', async () => {
    const repo = await brokenRepo(async (dir) => {
      const spec = JSON.parse(await fs.readFile(path.join(dir, 'preprocess.json'), 'utf8'));
      spec.features[0].steps.push({ op: 'log2' });
      await fs.writeFile(path.join(dir, 'preprocess.json'), JSON.stringify(spec));
    });
    await assert.rejects(Runtime.load({ repository: repo }), /preprocess\.json: features\[0\] .*steps\[\d+\].*unknown op "log2"/);
  });

  it('refuses a config whose input width differs from the preprocessing output', async () => {
    const repo = await brokenRepo(async (dir) => {
      const file = path.join(dir, 'config.pbtxt');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(/dims: \[ *(\d+) *\]/, 'dims: [ 3 ]'));
    });
    await assert.rejects(Runtime.load({ repository: repo }), /does not match config\.pbtxt input "features" with dims \[3\]/);
  });

  it('refuses a config naming an input the ONNX model does not have', async () => {
    const repo = await brokenRepo(async (dir) => {
      const file = path.join(dir, 'config.pbtxt');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('name: "probabilities"', 'name: "probs"').replace('"infergate.score_output" value: { string_value: "probabilities"', '"infergate.score_output" value: { string_value: "probs"'));
    });
    await assert.rejects(Runtime.load({ repository: repo }), /model\.onnx: config\.pbtxt declares output "probs" but the model's outputs are: label, probabilities/);
  });

  it('refuses a version folder without a model file', async () => {
    const repo = await brokenRepo(async (dir) => {
      await fs.mkdir(path.join(dir, '2'));
    });
    await assert.rejects(Runtime.load({ repository: repo }), /2[/\\]model\.onnx: ONNX Runtime could not load the model/);
  });
});
