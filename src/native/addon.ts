// Loads the compiled addon (native/binding) and gives it types. Nothing else in src/ touches the
// .node file directly.

import * as path from 'node:path';

export type FieldType = 'number' | 'string' | 'boolean';
export type MissingPolicy = 'impute' | 'reject';

export interface PlanField {
  name: string;
  type: FieldType;
  missing: MissingPolicy;
  min?: number;
  max?: number;
  /** String fields: every string the plan knows, in first-seen order; a record sends its index. */
  vocabulary?: string[];
}

/** A compiled preprocess.json (docs/preprocess.md). Immutable; safe to share. */
export interface NativePreprocessPlan {
  readonly width: number;
  readonly outputName: string;
  readonly fields: PlanField[];
  /**
   * Runs the plan over `rows` encoded records (`raw`: rows × fields float64) and writes
   * rows × width float32 into `out`, in place.
   */
  run(raw: Float64Array, rows: number, out: Float32Array): void;
}

export interface NativeAddon {
  readonly version: string;
  PreprocessPlan: new (specJson: string) => NativePreprocessPlan;
  BatchScheduler: NativeBatchSchedulerClass;
  /** Where a typed array's data starts (zero-copy checks). */
  addressOf(view: ArrayBufferView): bigint;
  /** A new ready signal: what sealed batches of the schedulers an executor serves raise (one per executor). */
  createReadySignal(): number;
  /** Changes whenever the signal is raised. */
  readyEpoch(signal: number): number;
  /**
   * Unless the signal's epoch already differs from `seen`, blocks the calling thread until the
   * signal wakes it or `timeoutMs` passes; false on a timeout. A sealed batch wakes one waiter: the
   * one that started waiting last. Executor workers only.
   */
  waitReady(signal: number, seen: number, timeoutMs: number): boolean;
  /** Raises the signal and wakes every waiter (to make them look at their flags). */
  wakeReadyWaiters(signal: number): void;
  /**
   * Removes the shared-memory regions (`/dev/shm/infergate-<pid>-...`) whose process has died and
   * returns their keys, so that they can be unregistered from Triton as well. Live regions stay.
   */
  sweepSharedMemory(): string[];
  SharedMemoryMapping: SharedMemoryMappingClass;
}

/**
 * A mapping of [offset, offset + byteSize) of an existing POSIX shared-memory object that a client
 * created (Triton's system shared memory, server side; native/core/shm_mapping.hpp). Construction
 * throws an Error with code 'ERR_SHARED_MEMORY' naming the key (no such object, object too small).
 */
export interface SharedMemoryMapping {
  /** The mapped bytes, in place (writes reach the client). Detached, byteLength 0, once closed. */
  readonly buffer: ArrayBuffer;
  readonly key: string;
  readonly offset: number;
  readonly byteSize: number;
  /** Detaches `buffer` (every view of it reads as empty), then unmaps. Idempotent. */
  close(): void;
}

export interface SharedMemoryMappingClass {
  new (key: string, offset: number, byteSize: number): SharedMemoryMapping;
}

// dist/src/native/addon.js → the package root is three levels up.
const ADDON_PATH = path.resolve(__dirname, '..', '..', '..', 'build', 'native', 'Release', 'infergate_native.node');

let cached: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (cached === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(ADDON_PATH) as NativeAddon;
    } catch (err) {
      throw new Error(
        `infergate's native addon could not be loaded from ${ADDON_PATH} (${(err as Error).message}). ` +
          'It is compiled by `npm ci` / `npm install`; rebuild it with `npm run build`.',
      );
    }
  }
  return cached;
}

/** Options of the native dynamic batch scheduler (Triton's dynamic_batching names, camel-cased). */
export interface NativeSchedulerOptions {
  name: string;
  maxBatchSize: number;
  maxQueueDelayMicroseconds: number;
  preferredBatchSize: number[];
  priorityLevels: number;
  defaultPriorityLevel: number;
  timeoutAction: 'reject' | 'delay';
  defaultTimeoutMicroseconds: number;
  allowTimeoutOverride: boolean;
  maxQueueSize: number;
  slabCount: number;
  inputWidth: number;
  outputWidth: number;
  plan: NativePreprocessPlan | undefined;
  adaptiveDelay?: { targetLatencyMicroseconds: number } | undefined;
  /** 0 or absent: off. A batch opened longer than this after the previous one of its level is sealed by its first request. */
  sparseSealGapMicroseconds?: number | undefined;
  /**
   * Place every batch's input and output in one POSIX shared-memory region that a co-located Triton
   * can register (system shared memory) and read and write in place. Default false: process memory.
   */
  sharedMemory?: boolean | undefined;
}

/** A scheduler's shared-memory region: the key to register with Triton and its whole size. */
export interface SharedMemoryRegion {
  /** The POSIX shm name, e.g. `/infergate-4242-0-fraud_1` (the file `/dev/shm/infergate-4242-0-fraud_1`). */
  key: string;
  byteSize: number;
}

/** Status codes a port delivers per request. */
export const enum RowStatus {
  Ok = 0,
  InvalidArgument = 1,
  DeadlineExceeded = 2,
  ResourceExhausted = 3,
  Unavailable = 4,
  Internal = 5,
}

/** Negative results of submit(): the request was not admitted. */
export const enum SubmitRejection {
  QueueFull = -1,
  DeadlineUnmeetable = -2,
  Closed = -3,
}

/** One (batch, port) delivery: row i of each array is one request's answer. */
/**
 * One delivery to a port: the first `count` entries of each array (rows of `outputs`) are its
 * answers. The arrays are the port's own and are refilled by the next delivery: read them during
 * the call, and copy what must outlive it.
 */
export type PortCallback = (
  count: number,
  tickets: Float64Array,
  statuses: Int32Array,
  /** `outputWidth` floats per row; NaN rows for statuses that are not ok. */
  outputs: Float32Array,
  /** undefined when every status is ok. */
  messages: (string | undefined)[] | undefined,
  /** Each request's `tag`, as passed to submit(). */
  tags: Uint32Array,
  /** Rows answered by the batch these requests ran in (all of one delivery share a batch). */
  batchRows: number,
) => void;

export interface BatchInfo {
  rows: number;
  priorityLevel: number;
  /** Microseconds until the earliest deadline of the batch's live requests; 0 once passed; -1: none. */
  deadlineMicroseconds: number;
}

/** Outcomes of the requests a scheduler answered (native/core/request_stats.hpp). */
export interface RequestStatistics {
  succeeded: number;
  succeededMicroseconds: number;
  failed: number;
  failedMicroseconds: number;
  /** How long ago the last request was answered; -1 when none was. */
  lastAnswerAgeMicroseconds: number;
  /** Upper bounds of the latency buckets (µs); counts has one more entry, for everything above. */
  latencyBoundsMicroseconds: number[];
  latencyCounts: number[];
  /** Batch sizes that ran, with how many batches and their total compute time. */
  batchSizes: { batchSize: number; count: number; computeMicroseconds: number }[];
}

export interface SchedulerStats {
  [counter: string]: number;
}

/** The process-wide native batch scheduler of one model version (native/core/batch_scheduler). */
export interface NativeBatchScheduler {
  readonly name: string;
  readonly inputWidth: number;
  readonly outputWidth: number;
  readonly fields: PlanField[] | undefined;
  readonly estimatedExecMicroseconds: number;
  openPort(callback: PortCallback): number;
  closePort(port: number): void;
  /** A ticket (>= 0), or a SubmitRejection. `tag` (0..2^32-1, default 0) comes back with the answer. */
  submit(raw: Float64Array | Float32Array, row: number, port: number, priority: number, timeoutMicroseconds: number, tag?: number): number;
  onSealed(callback: () => void): void;
  /** Whether seals call the onSealed callback (default true). Seals always raise the ready signal. */
  setSealedCallbacks(enabled: boolean): void;
  /** The ready signal (createReadySignal) this scheduler raises when it seals a batch; null: none. */
  setReadySignal(signal: number | null): void;
  take(): number;
  rows(batch: number): number;
  /** A taken batch's size, priority level (1 = highest) and time left until its earliest deadline (-1: none). */
  batchInfo(batch: number): BatchInfo;
  inputView(batch: number): Float32Array;
  outputView(batch: number): Float32Array;
  complete(batch: number): void;
  fail(batch: number, status: RowStatus, message: string): void;
  slabAddress(batch: number): bigint;
  /** The region holding every batch, or undefined without `sharedMemory`. Its name is removed by close(). */
  sharedMemoryRegion(): SharedMemoryRegion | undefined;
  /** Byte offset of a taken batch's input (rows × inputWidth float32) within the region. */
  inputOffset(batch: number): number;
  /** Byte offset of a taken batch's output (rows × outputWidth float32) within the region. */
  outputOffset(batch: number): number;
  stats(): SchedulerStats;
  requestStatistics(): RequestStatistics;
  /** Seals every open batch now, whatever its age. */
  flush(): void;
  /**
   * Refuses every later submit (SubmitRejection.Closed, from any thread) and changes nothing else:
   * what was accepted is still batched, run and answered. Retiring a version: stop, drain, close.
   */
  stopAdmission(): void;
  close(): void;
}

export interface NativeBatchSchedulerClass {
  new (options: NativeSchedulerOptions): NativeBatchScheduler;
  attach(name: string): NativeBatchScheduler;
}

export function batchSchedulerClass(): NativeBatchSchedulerClass {
  return nativeAddon().BatchScheduler;
}

export function sharedMemoryMappingClass(): SharedMemoryMappingClass {
  return nativeAddon().SharedMemoryMapping;
}

export function addressOf(view: ArrayBufferView): bigint {
  return nativeAddon().addressOf(view);
}
