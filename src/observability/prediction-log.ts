// The prediction log: one JSON line per prediction, written by pino, so that any answer infergate gave
// can be traced to the model version, the preprocessing and the runtime that produced it, and (when
// sampled) to the raw input and the tensor the model actually saw. docs/prediction-log.md describes
// every field.
//
// write() costs one serialization and one buffer append on the caller's thread; the bytes reach the
// file on libuv's thread pool (LogDestination). The buffer is bounded: past maxBufferBytes a line is
// dropped and counted. close() writes everything accepted before it resolves, which is what a SIGTERM
// handler awaits; flushSync() is for 'exit' handlers, where nothing asynchronous completes.

import pino from 'pino';
import { inputHash } from './input-hash';
import { LogDestination, type RotateSettings } from './log-destination';
import { stderrLogger, type Logger } from './logger';

export interface PredictionLogOptions {
  /** 'stdout', or the path of a file to append to (its directory must exist). */
  destination: 'stdout' | string;
  /** Bytes that may wait to be written; a line that would pass it is dropped and counted. Default 4 MiB. */
  maxBufferBytes?: number;
  /** Rotation by size (file destinations only); omitted: the file grows without rotation. */
  rotate?: { maxBytes?: number; maxFiles?: number };
  /** Share of predictions whose raw input and features are logged, 0..1. Default 0. */
  sampleInputs?: number;
  /** Where I/O errors are reported (the first of each kind); stderr by default. */
  logger?: Logger;
}

export const PREDICTION_LOG_DEFAULTS = {
  maxBufferBytes: 4 * 1024 * 1024,
  rotateMaxBytes: 100 * 1024 * 1024,
  rotateMaxFiles: 5,
  sampleInputs: 0,
} as const;

/** Bounds on the options: a buffer up to 1 GiB, up to 100 rotated files. */
const MAX_BUFFER_BYTES = 1024 * 1024 * 1024;
const MAX_ROTATED_FILES = 100;

/** The versions of the software that produced a prediction. */
export interface RuntimeVersions {
  infergate: string;
  /** onnxruntime-node's version, when the model ran locally. */
  onnxruntime?: string;
  /** The Triton server's version (ServerMetadata), when the model ran on Triton. */
  tritonServer?: string;
}

/** Which backend answered: the local ONNX Runtime, Triton, or the local fallback of a Triton model. */
export type PredictionBackend = 'local' | 'triton' | 'fallback' | (string & {});

export interface PredictionEntry {
  requestId: string;
  model: string;
  version: string;
  /** Hash of the model's preprocess.json, when it has one. */
  preprocessHash?: string;
  runtime: RuntimeVersions;
  /** inputHash(record) of the raw input. */
  inputHash: string;
  score: number;
  /** The decision band the score fell in, when the model has bands. */
  decision?: string;
  /** From the request's arrival to its answer, in milliseconds. */
  latencyMs: number;
  backend: PredictionBackend;
  /** Rows in the batch this prediction ran in. */
  batchSize: number;
  /** Which side of a traffic split answered. */
  traffic?: 'primary' | 'canary' | 'pinned';
  /** The raw input record: attach only when shouldSample() said so. */
  input?: unknown;
  /** The preprocessed row the model saw: attach only when shouldSample() said so. Copied at write(). */
  features?: ArrayLike<number>;
}

export interface PredictionLogStats {
  /** Lines accepted for writing. After close() resolves, each of them is in the file. */
  written: number;
  /** Lines refused: the buffer was full, the destination broken, or the log closed. */
  dropped: number;
  rotations: number;
  /** Bytes accepted and not yet written. */
  bufferedBytes: number;
  /** I/O errors met (write, open, rename). */
  errors: number;
}

/**
 * pino's `,"time":"<ISO 8601>"` fragment, formatted once per millisecond rather than once per line:
 * at thousands of lines a second most lines share their millisecond with the one before.
 */
let timeMs = -1;
let timeFragment = '';
function isoTimeCached(): string {
  const now = Date.now();
  if (now !== timeMs) {
    timeMs = now;
    timeFragment = `,"time":"${new Date(now).toISOString()}"`;
  }
  return timeFragment;
}

export class PredictionLog {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly destination: LogDestination,
    private readonly logger: pino.Logger,
    private readonly sampleRate: number,
  ) {}

  /** Validates the options and opens the destination; throws naming the option that is wrong. */
  static open(options: PredictionLogOptions): PredictionLog {
    const o = validate(options);
    const report = o.logger ?? stderrLogger;
    const reported = new Set<string>();
    const destination = LogDestination.open({
      destination: o.destination,
      maxBufferBytes: o.maxBufferBytes,
      rotate: o.rotate,
      onError: (err) => {
        // An error tends to repeat on every write (a full disk): report each kind once, count them all.
        const code = err.code ?? err.message;
        if (reported.has(code) || reported.size >= 16) return;
        reported.add(code);
        report.log('error', 'prediction_log.io_error', { destination: o.destination, code: err.code, message: err.message });
      },
    });
    const logger = pino(
      {
        base: null,
        timestamp: isoTimeCached,
        // pino opens every line with the level; a prediction has none, so the slot names the line's kind
        // instead, as the operational log's "event" does.
        formatters: { level: () => ({ event: 'prediction' }) },
      },
      destination,
    );
    return new PredictionLog(destination, logger, o.sampleInputs);
  }

  /** A stable hash of a raw input record (see input-hash.ts). */
  static inputHash(record: unknown): string {
    return inputHash(record);
  }

  /** Whether this prediction's input and features should be attached, at the configured rate. */
  shouldSample(): boolean {
    return this.sampleRate > 0 && Math.random() < this.sampleRate;
  }

  /** Appends one line. Never blocks on I/O and never throws for I/O; a full buffer drops the line. */
  write(entry: PredictionEntry): void {
    const line: Record<string, unknown> = {
      request_id: entry.requestId,
      model: entry.model,
      version: entry.version,
      preprocess_hash: entry.preprocessHash ?? null,
      runtime: {
        infergate: entry.runtime.infergate,
        onnxruntime: entry.runtime.onnxruntime ?? null,
        triton_server: entry.runtime.tritonServer ?? null,
      },
      input_hash: entry.inputHash,
      score: entry.score,
      decision: entry.decision ?? null,
      latency_ms: entry.latencyMs,
      backend: entry.backend,
      batch_size: entry.batchSize,
      traffic: entry.traffic ?? null,
    };
    if (entry.input !== undefined) line.input = entry.input;
    if (entry.features !== undefined) line.features = Array.from(entry.features);
    this.logger.info(line);
  }

  stats(): PredictionLogStats {
    return this.destination.counts();
  }

  /** Resolves when every line accepted so far is written; rejects on an I/O error met meanwhile. */
  flush(): Promise<void> {
    return this.destination.flush();
  }

  /** Writes what is buffered synchronously: for process 'exit' handlers only (it blocks). */
  flushSync(): void {
    this.destination.flushSync();
  }

  /** Refuses further lines (they count as dropped), writes the rest and closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.destination.close();
    return this.closing;
  }
}

interface ValidOptions {
  destination: string;
  maxBufferBytes: number;
  rotate: RotateSettings | undefined;
  sampleInputs: number;
  logger: Logger | undefined;
}

const OPTION_NAMES = ['destination', 'maxBufferBytes', 'rotate', 'sampleInputs', 'logger'];
const ROTATE_NAMES = ['maxBytes', 'maxFiles'];

function validate(options: PredictionLogOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('prediction log: options must be an object');
  rejectUnknown(options, OPTION_NAMES, 'prediction log');
  const { destination } = options;
  if (typeof destination !== 'string' || destination === '') {
    throw new TypeError(`prediction log: destination must be "stdout" or a file path, got ${describe(destination)}`);
  }
  const maxBufferBytes = integer(options.maxBufferBytes, 'maxBufferBytes', PREDICTION_LOG_DEFAULTS.maxBufferBytes, 1, MAX_BUFFER_BYTES);
  const sampleInputs = options.sampleInputs ?? PREDICTION_LOG_DEFAULTS.sampleInputs;
  if (typeof sampleInputs !== 'number' || !(sampleInputs >= 0 && sampleInputs <= 1)) {
    throw new RangeError(`prediction log: sampleInputs must be a number from 0 to 1, got ${describe(sampleInputs)}`);
  }
  let rotate: RotateSettings | undefined;
  if (options.rotate !== undefined) {
    if (typeof options.rotate !== 'object' || options.rotate === null) {
      throw new TypeError(`prediction log: rotate must be an object { maxBytes, maxFiles }, got ${describe(options.rotate)}`);
    }
    if (destination === 'stdout') throw new TypeError('prediction log: rotate needs a file destination, not stdout');
    rejectUnknown(options.rotate, ROTATE_NAMES, 'prediction log: rotate');
    rotate = {
      maxBytes: integer(options.rotate.maxBytes, 'rotate.maxBytes', PREDICTION_LOG_DEFAULTS.rotateMaxBytes, 1, Number.MAX_SAFE_INTEGER),
      maxFiles: integer(options.rotate.maxFiles, 'rotate.maxFiles', PREDICTION_LOG_DEFAULTS.rotateMaxFiles, 1, MAX_ROTATED_FILES),
    };
  }
  const { logger } = options;
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof logger.log !== 'function')) {
    throw new TypeError('prediction log: logger must be a Logger (an object with a log(level, event, fields) method)');
  }
  return { destination, maxBufferBytes, rotate, sampleInputs, logger };
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`prediction log: ${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return v;
}

function rejectUnknown(object: object, known: string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option "${key}" (expected one of ${known.join(', ')})`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : typeof value;
}
