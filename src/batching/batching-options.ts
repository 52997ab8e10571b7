// The batching settings of one model: Triton's dynamic_batching from config.pbtxt, overridden at
// load, with infergate's bounds where Triton has none. Validated here, before native code sees them.

import type { ModelConfig } from '../repository/model-config';

export interface BatchingOptions {
  maxBatchSize?: number;
  maxQueueDelayMicroseconds?: number;
  preferredBatchSize?: number[];
  /** 0 or 1: one level. Triton numbering: 1 is the highest priority. */
  priorityLevels?: number;
  defaultPriorityLevel?: number;
  timeoutAction?: 'reject' | 'delay';
  defaultTimeoutMicroseconds?: number;
  allowTimeoutOverride?: boolean;
  /** Requests queued (admitted, not yet executing) per priority level at most. Default 4096; Triton's 0 (unbounded) becomes this. */
  maxQueueSize?: number;
  /** Adaptive queue delay (AIMD against a latency target). Off unless set. */
  adaptiveDelay?: { targetLatencyMicroseconds: number };
  /**
   * Beyond Triton; 0 (the default) is off. A batch that opens longer than this after the previous
   * batch of its priority level opened is sealed by its first request instead of waiting the queue
   * delay for company: in a stream that sparse none comes, and waiting adds the delay and a hop
   * through the timer thread to every request. config.pbtxt: parameter
   * `infergate.sparse_seal_gap_microseconds` (read with the other parameters, model-settings.ts). A
   * gap of a few queue delays keeps batching wherever batches overlap.
   */
  sparseSealGapMicroseconds?: number;
}

export type ResolvedBatching = Required<Omit<BatchingOptions, 'adaptiveDelay'>> & Pick<BatchingOptions, 'adaptiveDelay'>;

export const DEFAULT_MAX_QUEUE_SIZE = 4096;

export function resolveBatching(config: ModelConfig, overrides: BatchingOptions = {}): ResolvedBatching {
  const db = config.dynamicBatching;
  const policy = db?.defaultQueuePolicy;
  const maxBatchSize = overrides.maxBatchSize ?? Math.max(1, config.maxBatchSize);
  const r: ResolvedBatching = {
    maxBatchSize,
    // Without dynamic_batching Triton runs requests as they come: a zero delay here.
    maxQueueDelayMicroseconds: overrides.maxQueueDelayMicroseconds ?? db?.maxQueueDelayMicroseconds ?? 0,
    // Preferred sizes from the config that a smaller overridden batch size rules out are dropped.
    preferredBatchSize: overrides.preferredBatchSize ?? (db?.preferredBatchSize ?? []).filter((p) => p <= maxBatchSize),
    priorityLevels: Math.max(1, overrides.priorityLevels ?? db?.priorityLevels ?? 1),
    defaultPriorityLevel: overrides.defaultPriorityLevel ?? (db?.defaultPriorityLevel || 1),
    timeoutAction: overrides.timeoutAction ?? policy?.timeoutAction ?? 'reject',
    defaultTimeoutMicroseconds: overrides.defaultTimeoutMicroseconds ?? policy?.defaultTimeoutMicroseconds ?? 0,
    allowTimeoutOverride: overrides.allowTimeoutOverride ?? policy?.allowTimeoutOverride ?? true,
    maxQueueSize: overrides.maxQueueSize ?? (policy?.maxQueueSize || DEFAULT_MAX_QUEUE_SIZE),
    adaptiveDelay: overrides.adaptiveDelay,
    sparseSealGapMicroseconds: overrides.sparseSealGapMicroseconds ?? 0,
  };
  const where = `model "${config.name}" batching`;
  const int = (name: keyof ResolvedBatching, v: number, min: number) => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${where}: ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('maxBatchSize', r.maxBatchSize, 1);
  if (config.maxBatchSize > 0 && r.maxBatchSize > config.maxBatchSize) {
    throw new RangeError(`${where}: maxBatchSize ${r.maxBatchSize} exceeds config.pbtxt max_batch_size ${config.maxBatchSize}`);
  }
  int('maxQueueDelayMicroseconds', r.maxQueueDelayMicroseconds, 0);
  int('priorityLevels', r.priorityLevels, 1);
  int('defaultTimeoutMicroseconds', r.defaultTimeoutMicroseconds, 0);
  int('maxQueueSize', r.maxQueueSize, 1);
  int('sparseSealGapMicroseconds', r.sparseSealGapMicroseconds, 0);
  if (r.defaultPriorityLevel < 1 || r.defaultPriorityLevel > r.priorityLevels) {
    throw new RangeError(`${where}: defaultPriorityLevel must be between 1 and priorityLevels (${r.priorityLevels})`);
  }
  for (const p of r.preferredBatchSize) {
    if (!Number.isSafeInteger(p) || p < 1 || p > r.maxBatchSize) {
      throw new RangeError(`${where}: preferredBatchSize ${p} must be an integer in [1, ${r.maxBatchSize}]`);
    }
  }
  if (r.timeoutAction !== 'reject' && r.timeoutAction !== 'delay') {
    throw new RangeError(`${where}: timeoutAction must be "reject" or "delay"`);
  }
  const target = r.adaptiveDelay?.targetLatencyMicroseconds;
  if (target !== undefined && !(Number.isFinite(target) && target > 0)) {
    throw new RangeError(`${where}: adaptiveDelay.targetLatencyMicroseconds must be a positive number`);
  }
  return r;
}
