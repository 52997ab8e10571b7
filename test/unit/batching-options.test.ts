import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_QUEUE_SIZE, resolveBatching } from '../../src/batching/batching-options';
import { parseModelConfig } from '../../src/repository/model-config';

const config = (extra = '') =>
  parseModelConfig(
    `name: "m" platform: "onnxruntime_onnx" max_batch_size: 64
     input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
     output [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ] ${extra}`,
    'c.pbtxt',
    'm',
  );

describe('batching options', () => {
  it('takes Triton’s dynamic_batching, bounding the queue Triton leaves unbounded', () => {
    const r = resolveBatching(config('dynamic_batching { preferred_batch_size: [ 16 ] max_queue_delay_microseconds: 250 }'));
    assert.equal(r.maxBatchSize, 64);
    assert.equal(r.maxQueueDelayMicroseconds, 250);
    assert.deepEqual(r.preferredBatchSize, [16]);
    assert.equal(r.maxQueueSize, DEFAULT_MAX_QUEUE_SIZE);
    assert.equal(r.priorityLevels, 1);
    assert.equal(r.defaultPriorityLevel, 1);
    assert.equal(r.timeoutAction, 'reject');
    assert.equal(r.adaptiveDelay, undefined);
  });

  it('takes the sparse-seal gap from the load (off without one) and names a bad value', () => {
    assert.equal(resolveBatching(config()).sparseSealGapMicroseconds, 0);
    assert.equal(resolveBatching(config(), { sparseSealGapMicroseconds: 2000 }).sparseSealGapMicroseconds, 2000);
    assert.throws(() => resolveBatching(config(), { sparseSealGapMicroseconds: -1 }), /sparseSealGapMicroseconds must be an integer >= 0/);
  });

  it('runs a model without dynamic_batching with no queue delay', () => {
    assert.equal(resolveBatching(config()).maxQueueDelayMicroseconds, 0);
  });

  it('lets load-time options override the config, within its limits', () => {
    const r = resolveBatching(config('dynamic_batching { max_queue_delay_microseconds: 250 }'), { maxBatchSize: 8, maxQueueDelayMicroseconds: 10 });
    assert.equal(r.maxBatchSize, 8);
    assert.equal(r.maxQueueDelayMicroseconds, 10);
    assert.throws(() => resolveBatching(config(), { maxBatchSize: 65 }), /maxBatchSize 65 exceeds config\.pbtxt max_batch_size 64/);
    assert.throws(() => resolveBatching(config(), { maxQueueSize: 0 }), /maxQueueSize must be an integer >= 1/);
    assert.throws(() => resolveBatching(config(), { preferredBatchSize: [128] }), /preferredBatchSize 128 must be an integer in \[1, 64\]/);
    assert.throws(() => resolveBatching(config(), { priorityLevels: 2, defaultPriorityLevel: 3 }), /defaultPriorityLevel must be between 1 and priorityLevels \(2\)/);
    assert.throws(() => resolveBatching(config(), { adaptiveDelay: { targetLatencyMicroseconds: -1 } }), /targetLatencyMicroseconds must be a positive number/);
  });
});
