// The producer face of one native batch scheduler, in one thread: submits encoded records, and
// settles each request's promise when its batch's results reach this thread's port. Works the same
// on the main thread and in any worker_thread (the scheduler is process-wide).

import { InferError, type ErrorCode } from '../errors';
import { type NativeBatchScheduler, RowStatus, SubmitRejection } from '../native/addon';
import type { RecordEncoder } from '../preprocess/record-encoder';

interface Pending<T> {
  resolve: (result: T) => void;
  reject: (err: InferError) => void;
}

/** A preprocessed row (the tensor API): its whole output row is copied into `into` at row `at`. */
interface PendingRow {
  resolve: () => void;
  reject: (err: InferError) => void;
  into: Float32Array;
  at: number;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  [RowStatus.InvalidArgument]: 'invalid_argument',
  [RowStatus.DeadlineExceeded]: 'deadline_exceeded',
  [RowStatus.ResourceExhausted]: 'resource_exhausted',
  [RowStatus.Unavailable]: 'unavailable',
  [RowStatus.Internal]: 'internal',
};

/** What a full queue tells clients to wait before retrying (HTTP Retry-After). */
const RETRY_AFTER_SECONDS = 1;

export interface SubmitOptions {
  /** 1 is the highest; 0 or absent: the model's default_priority_level. */
  priority?: number;
  /** Give up (deadline exceeded) after this long; 0 or absent: the model's default timeout. */
  timeoutMicroseconds?: number;
}

/**
 * `T` is what a request resolves with, made from its score by `toResult` when the batch's results
 * arrive: one promise per request, settled directly by the delivery.
 */
export class SchedulerClient<T = number> {
  private readonly pending = new Map<number, Pending<T>>();
  private readonly pendingRows = new Map<number, PendingRow>();
  /** Called each time the last outstanding request of this thread is answered. */
  onIdle: (() => void) | undefined;
  private readonly port: number;
  private readonly raw: Float64Array;
  private closed = false;
  /** Deliveries for a ticket this thread no longer waits on (a duplicate, or after close). */
  unmatchedDeliveries = 0;

  constructor(
    private readonly scheduler: NativeBatchScheduler,
    private readonly encoder: RecordEncoder,
    private readonly model: string,
    private readonly scoreIndex: number,
    readonly priorityLevels: number,
    private readonly toResult: (score: number) => T,
  ) {
    this.raw = new Float64Array(encoder.fieldCount);
    this.port = scheduler.openPort((tickets, statuses, outputs, messages) => this.deliver(tickets, statuses, outputs, messages));
  }

  /** Requests refused here, before the batcher, as invalid (bad record, priority or timeout). */
  invalidRequests = 0;
  /**
   * The native counters count rows; Triton counts requests. A multi-row tensor request answered
   * as one (ok, or failed as a whole) records here how many rows to take off each count.
   */
  readonly rowsBeyondRequests = { succeeded: 0, failed: 0 };

  get outstanding(): number {
    return this.pending.size + this.pendingRows.size;
  }

  /**
   * Submits row `row` of `rows` (already preprocessed: the scheduler's input width) into the same
   * batches as records; resolves once its output row has been copied into `into` at row `at`.
   */
  submitRow(rows: Float32Array, row: number, into: Float32Array, at: number, options: SubmitOptions = {}): Promise<void> {
    const priority = options.priority ?? 0;
    const timeout = options.timeoutMicroseconds ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > this.priorityLevels) {
      this.invalidRequests++;
      return Promise.reject(this.error('invalid_argument', `priority must be an integer in [1, ${this.priorityLevels}] (or 0 for the default), got ${priority}`, 'priority'));
    }
    if (this.closed) return Promise.reject(this.error('unavailable', `model "${this.model}" is shutting down`));
    const ticket = this.scheduler.submit(rows, row, this.port, priority, timeout);
    if (ticket < 0) return Promise.reject(this.rejection(ticket));
    return new Promise<void>((resolve, reject) => this.pendingRows.set(ticket, { resolve, reject, into, at }));
  }

  /** Validates and encodes the record, then claims its row in the open batch. */
  score(record: unknown, options: SubmitOptions = {}): Promise<T> {
    const priority = options.priority ?? 0;
    const timeout = options.timeoutMicroseconds ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > this.priorityLevels) {
      this.invalidRequests++;
      return Promise.reject(this.error('invalid_argument', `priority must be an integer in [1, ${this.priorityLevels}] (or 0 for the default), got ${priority}`, 'priority'));
    }
    if (!Number.isInteger(timeout) || timeout < 0) {
      this.invalidRequests++;
      return Promise.reject(this.error('invalid_argument', `timeout must be a non-negative integer number of microseconds, got ${timeout}`, 'timeout'));
    }
    try {
      this.encoder.encode(record, this.raw, 0);
    } catch (err) {
      this.invalidRequests++;
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(this.error('unavailable', `model "${this.model}" is shutting down`));
    const ticket = this.scheduler.submit(this.raw, 0, this.port, priority, timeout);
    if (ticket < 0) return Promise.reject(this.rejection(ticket));
    return new Promise<T>((resolve, reject) => this.pending.set(ticket, { resolve, reject }));
  }

  /** Stops this thread's port; requests still pending are answered unavailable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.closePort(this.port);
    for (const p of [...this.pending.values(), ...this.pendingRows.values()]) p.reject(this.error('unavailable', `model "${this.model}" is shutting down`));
    this.pending.clear();
    this.pendingRows.clear();
  }

  private deliver(tickets: Float64Array, statuses: Int32Array, outputs: Float32Array, messages: (string | undefined)[] | undefined): void {
    const width = tickets.length > 0 ? outputs.length / tickets.length : 0;
    for (let i = 0; i < tickets.length; i++) {
      const ticket = tickets[i] as number;
      const p = this.pending.get(ticket);
      if (!p) {
        this.deliverRow(ticket, statuses[i] as number, outputs, i, width, messages);
        continue;
      }
      this.pending.delete(ticket);
      const status = statuses[i] as number;
      if (status === RowStatus.Ok) p.resolve(this.toResult(outputs[i * width + this.scoreIndex] as number));
      else p.reject(this.error(STATUS_CODES[status] ?? 'internal', messages?.[i] ?? `request failed with status ${status}`));
    }
    if (this.pending.size === 0 && this.pendingRows.size === 0) this.onIdle?.();
  }

  private deliverRow(ticket: number, status: number, outputs: Float32Array, i: number, width: number, messages: (string | undefined)[] | undefined): void {
    const p = this.pendingRows.get(ticket);
    if (!p) {
      this.unmatchedDeliveries++;
      return;
    }
    this.pendingRows.delete(ticket);
    if (status !== RowStatus.Ok) {
      p.reject(this.error(STATUS_CODES[status] ?? 'internal', messages?.[i] ?? `request failed with status ${status}`));
      return;
    }
    p.into.set(outputs.subarray(i * width, (i + 1) * width), p.at * width);
    p.resolve();
  }

  private rejection(code: number): InferError {
    switch (code) {
      case SubmitRejection.QueueFull:
        return new InferError('resource_exhausted', `model "${this.model}": the queue is full; retry later`, {
          model: this.model,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        });
      case SubmitRejection.DeadlineUnmeetable:
        return this.error('deadline_exceeded', `model "${this.model}": the request's deadline cannot be met given the current batch execution time`);
      default:
        return this.error('unavailable', `model "${this.model}" is shutting down`);
    }
  }

  private error(code: ErrorCode, message: string, field?: string): InferError {
    return new InferError(code, message, { model: this.model, ...(field !== undefined ? { field } : {}) });
  }
}
