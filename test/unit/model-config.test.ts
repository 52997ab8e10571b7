import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ModelConfigError, parseModelConfig } from '../../src/repository/model-config';
import { readModelSettings } from '../../src/repository/model-settings';
import { selectVersions } from '../../src/repository/repository';

const BASE = `
  name: "m"
  platform: "onnxruntime_onnx"
  max_batch_size: 8
  input [ { name: "features" data_type: TYPE_FP32 dims: [ 4 ] } ]
  output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] } ]
`;

describe('config.pbtxt', () => {
  it('reads the fields infergate uses, with Triton defaults', () => {
    const c = parseModelConfig(`${BASE} dynamic_batching { preferred_batch_size: [4] max_queue_delay_microseconds: 100 }`, 'c.pbtxt', 'm');
    assert.equal(c.name, 'm');
    assert.equal(c.maxBatchSize, 8);
    assert.deepEqual(c.inputs, [{ name: 'features', datatype: 'FP32', dims: [4] }]);
    assert.deepEqual(c.outputs, [{ name: 'probabilities', datatype: 'FP32', dims: [2] }]);
    assert.deepEqual(c.versionPolicy, { kind: 'latest', numVersions: 1 });
    assert.deepEqual(c.dynamicBatching, {
      preferredBatchSize: [4],
      maxQueueDelayMicroseconds: 100,
      priorityLevels: 0,
      defaultPriorityLevel: 0,
      defaultQueuePolicy: { timeoutAction: 'reject', defaultTimeoutMicroseconds: 0, allowTimeoutOverride: false, maxQueueSize: 0 },
    });
    const q = parseModelConfig(
      `${BASE} dynamic_batching { priority_levels: 3 default_priority_level: 2 default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 500 allow_timeout_override: true max_queue_size: 9 } }`,
      'c.pbtxt',
      'm',
    );
    assert.deepEqual(q.dynamicBatching?.defaultQueuePolicy, { timeoutAction: 'delay', defaultTimeoutMicroseconds: 500, allowTimeoutOverride: true, maxQueueSize: 9 });
    assert.equal(q.dynamicBatching?.priorityLevels, 3);
    assert.equal(q.dynamicBatching?.defaultPriorityLevel, 2);
    assert.equal(c.defaultModelFilename, 'model.onnx');
  });

  it('refuses wrong fields with the file and the field named', () => {
    const cases: [string, RegExp][] = [
      [BASE.replace('"m"', '"other"'), /c\.pbtxt: field "name" is "other" but the model's folder is "m"/],
      [BASE.replace('TYPE_FP32 dims: [ 4 ]', 'TYPE_FLOAT dims: [ 4 ]'), /field "input\[0\]\.data_type" must be one of TYPE_BOOL/],
      [BASE.replace('max_batch_size: 8', 'max_batch_size: -1'), /field "max_batch_size" must be an integer >= 0/],
      [BASE.replace('max_batch_size: 8', 'max_batch_size: "8"'), /field "max_batch_size" must be an integer/],
      [`${BASE} dynamic_batching { preferred_batch_size: [ 16 ] }`, /preferred_batch_size 16 exceeds max_batch_size 8/],
      [`${BASE} version_policy { specific { } }`, /field "version_policy\.specific\.versions" must be a non-empty list/],
      [BASE.replace(/output \[.*\]/, ''), /field "output" must be at least one output tensor/],
      [`${BASE} dynamic_batching { priority_levels: 2 default_priority_level: 3 }`, /field "dynamic_batching\.default_priority_level" must be between 1 and priority_levels \(2\)/],
      [`${BASE} dynamic_batching { default_queue_policy { timeout_action: DROP } }`, /timeout_action" must be REJECT or DELAY/],
      ['name: "m" platform: "onnxruntime_onnx" input {', /c\.pbtxt: line 1/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseModelConfig(text, 'c.pbtxt', 'm'), (err: unknown) => {
        assert.ok(err instanceof ModelConfigError, String(err));
        assert.match(err.message, message);
        return true;
      });
    }
  });

  it('selects versions by policy', () => {
    assert.deepEqual(selectVersions([3, 1, 2], { kind: 'latest', numVersions: 2 }), [2, 3]);
    assert.deepEqual(selectVersions([3, 1, 2], { kind: 'all' }), [1, 2, 3]);
    assert.deepEqual(selectVersions([3, 1, 2], { kind: 'specific', versions: [1, 7] }), [1]);
  });
});

describe('infergate parameters in config.pbtxt', () => {
  const withParams = (params: Record<string, string>) =>
    parseModelConfig(
      BASE + Object.entries(params).map(([k, v]) => `parameters { key: "${k}" value: { string_value: "${v}" } }`).join('\n'),
      'c.pbtxt',
      'm',
    );

  it('defaults the score to element 1 of a two-column output and reads decision bands', () => {
    const s = readModelSettings(withParams({ 'infergate.decision_bands': 'step_up:0.6,block:0.82' }), 'c.pbtxt');
    assert.equal(s.scoreOutput, 'probabilities');
    assert.equal(s.scoreIndex, 1);
    assert.equal(s.decisionBands?.decide(0.9), 'block');
    assert.equal(s.decisionBands?.decide(0.82), 'step_up');
    assert.equal(s.decisionBands?.decide(0.6), 'allow');
  });

  it('refuses unknown or malformed infergate parameters, naming them', () => {
    assert.throws(() => readModelSettings(withParams({ 'infergate.decision_band': 'x:1' }), 'c.pbtxt'), /unknown parameter "infergate\.decision_band"/);
    assert.throws(() => readModelSettings(withParams({ 'infergate.score_index': '2' }), 'c.pbtxt'), /"infergate\.score_index" must be an integer in \[0, 1\]/);
    assert.throws(() => readModelSettings(withParams({ 'infergate.score_output': 'nope' }), 'c.pbtxt'), /"infergate\.score_output" must be one of the outputs \(probabilities\)/);
    assert.throws(() => readModelSettings(withParams({ 'infergate.decision_bands': 'block:0.8,step_up:0.6' }), 'c.pbtxt'), /thresholds must increase/);
    assert.throws(() => readModelSettings(withParams({ 'infergate.intra_op_threads': '0' }), 'c.pbtxt'), /must be an integer >= 1/);
  });

  it('reads the batcher\'s sparse-seal gap (unset without the parameter) and names a bad value', () => {
    assert.equal(readModelSettings(withParams({}), 'c.pbtxt').sparseSealGapMicroseconds, undefined);
    assert.equal(readModelSettings(withParams({ 'infergate.sparse_seal_gap_microseconds': '2000' }), 'c.pbtxt').sparseSealGapMicroseconds, 2000);
    assert.throws(
      () => readModelSettings(withParams({ 'infergate.sparse_seal_gap_microseconds': '2ms' }), 'c.pbtxt'),
      /parameter "infergate\.sparse_seal_gap_microseconds" must be a whole number of microseconds, got "2ms"/,
    );
  });
});
