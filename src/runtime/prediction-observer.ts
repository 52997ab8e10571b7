// What writes a model's answers to the prediction log (one line per prediction) without changing
// them: it hangs off the answer's promise, so the caller's result is neither delayed nor altered,
// and a failure in here is counted, never thrown. (Drift watches scores more cheaply: the batcher's
// client hands each answered score to it as the batch is delivered, see SchedulerClient.onScore.)

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { INPUT_HASH_HEX_DIGITS, inputHash } from '../observability/input-hash';
import type { PredictionEntry, PredictionLog, RuntimeVersions } from '../observability/prediction-log';
import type { ScoreResult } from '../postprocess/decision-bands';
import { INFERGATE_VERSION } from '../version';
import type { LoadedVersion } from './model-generation';

/** The prediction log as the request path sees it (PredictionLog is one). */
export type PredictionSink = Pick<PredictionLog, 'write' | 'shouldSample'>;

/** Which side of the traffic policy answered a request. */
export type TrafficSide = NonNullable<PredictionEntry['traffic']>;

let requestCounter = 0;
const REQUEST_PREFIX = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

/** A request id unique in this process and across restarts: cheap, no randomness on the hot path. */
export function nextRequestId(): string {
  return `${REQUEST_PREFIX}-${(++requestCounter).toString(36)}`;
}

/**
 * The input hash of a preprocessed row (the tensor APIs, where no raw record exists): SHA-256 of
 * its float32 bytes, as many hex digits as a record's hash (docs/prediction-log.md).
 */
export function rowHash(row: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength)).digest('hex').slice(0, INPUT_HASH_HEX_DIGITS);
}

export interface ObservedRequest {
  requestId: string;
  version: LoadedVersion;
  traffic: TrafficSide;
  startedAt: number;
}

export class PredictionObserver {
  /** Observer failures (a sink that threw): counted so that a broken log is visible, never fatal. */
  failures = 0;

  constructor(
    private readonly model: string,
    private readonly sink: PredictionSink | undefined,
  ) {}

  get active(): boolean {
    return this.sink !== undefined;
  }

  /**
   * Watches a record's answer. `submit` sends the record, passing on a callback that hears its
   * batch's size; returns the caller's promise unchanged.
   */
  record(submit: (onBatch: (rows: number) => void) => Promise<ScoreResult>, record: unknown, req: ObservedRequest): Promise<ScoreResult> {
    let batchSize = 0;
    const answer = submit((rows) => (batchSize = rows));
    answer.then(
      (result) => {
        try {
          if (!this.sink) return;
          const entry = this.entry(req, result.score, result.decision, batchSize, inputHash(record));
          if (this.sink.shouldSample()) {
            entry.input = record;
            const features = this.features(req.version, record);
            if (features) entry.features = features;
          }
          this.sink.write(entry);
        } catch {
          this.failures++;
        }
      },
      () => undefined,
    );
    return answer;
  }

  /** Watches one preprocessed row's answer (the tensor API). */
  row(answer: Promise<number>, row: Float32Array, score: () => number, decide: (s: number) => string | undefined, req: ObservedRequest): void {
    answer.then(
      (batchSize) => {
        try {
          const s = score();
          if (!this.sink) return;
          const entry = this.entry(req, s, decide(s), batchSize, rowHash(row));
          if (this.sink.shouldSample()) entry.features = Array.from(row);
          this.sink.write(entry);
        } catch {
          this.failures++;
        }
      },
      () => undefined,
    );
  }

  /** One line's fields, in one object literal (this runs once per prediction). */
  private entry(req: ObservedRequest, score: number, decision: string | undefined, batchSize: number, hash: string): PredictionEntry {
    const v = req.version;
    const degraded = v.forwarder?.stats.degraded ?? false;
    const ranHere = v.mode === 'local' || degraded;
    return {
      requestId: req.requestId,
      model: this.model,
      version: String(v.version),
      preprocessHash: v.preprocessor?.hash,
      score,
      decision,
      latencyMs: performance.now() - req.startedAt,
      backend: v.mode === 'local' ? 'local' : degraded ? 'fallback' : 'triton',
      batchSize,
      traffic: req.traffic,
      inputHash: hash,
      runtime: ranHere ? localRuntime() : { infergate: INFERGATE_VERSION, tritonServer: (v.backend as { serverVersion?: string }).serverVersion ?? 'unknown' },
    };
  }

  private features(v: LoadedVersion, record: unknown): number[] | undefined {
    return v.preprocessor ? Array.from(v.preprocessor.one(record)) : undefined;
  }
}

let local: RuntimeVersions | undefined;
/** infergate's and onnxruntime-node's versions, read once. */
function localRuntime(): RuntimeVersions {
  if (!local) {
    let onnxruntime = 'unknown';
    try {
      onnxruntime = (require('onnxruntime-node/package.json') as { version: string }).version;
    } catch {
      // a package without its package.json: name no version rather than fail the log
    }
    local = { infergate: INFERGATE_VERSION, onnxruntime };
  }
  return local;
}
