// The producer face of one native batch scheduler, in one thread: submits encoded records, and
// settles each request's promise when its batch's results reach this thread's port. Works the same
// on the main thread and in any worker_thread (the scheduler is process-wide).

import { InferError, type ErrorCode } from '../errors';
import { type NativeBatchScheduler, RowStatus, SubmitRejection } from '../native/addon';
import type { RecordEncoder } from '../preprocess/record-encoder';

const STATUS_CODES: Record<number, ErrorCode> = {
  [RowStatus.InvalidArgument]: 'invalid_argument',
  [RowStatus.DeadlineExceeded]: 'deadline_exceeded',
  [RowStatus.ResourceExhausted]: 'resource_exhausted',
  [RowStatus.Unavailable]: 'unavailable',
  [RowStatus.Internal]: 'internal',
};

/** Errors of submissions a closed batcher refused: never admitted, so safe to send elsewhere. */
const refusedAsClosed = new WeakSet<InferError>();

/** Whether `err` is a submission refused because its batcher was closed (a retired version's). */
export function refusedByClosedBatcher(err: unknown): boolean {
  return err instanceof InferError && refusedAsClosed.has(err);
}

/** The options of a call that passes none: shared, so the hot path allocates no object for them. */
const NO_OPTIONS: SubmitOptions = Object.freeze({});

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
 *
 * Waiting requests sit in a table of slots, not in a Map keyed by ticket: a request's slot index
 * travels through the scheduler as its tag and comes back with its answer, so settling it is an
 * array read, and a freed slot is reused by the next request. (A Map reallocated its backing store
 * as it grew and shrank with every batch, and those stores outlived young-generation collections:
 * at 10,000 requests/s about half of what this thread allocated survived each scavenge, which then
 * paused the thread for 5-11 ms, the largest single source of tail latency. See
 * docs/embedded-latency.md.)
 */
export class SchedulerClient<T = number> {
  /** Per slot: the ticket of the request waiting there (-1: the slot is free), and its settlers. */
  private readonly slotTickets: number[] = [];
  private readonly resolvers: (((result: T) => void) | undefined)[] = [];
  private readonly rejecters: (((err: InferError) => void) | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private waiting = 0;
  /** The slot that the promise under construction settles (see `fillSlot`). */
  private filling = 0;
  /** One executor for every request's promise: no closure is made per request. */
  private readonly fillSlot = (resolve: (result: T) => void, reject: (err: InferError) => void): void => {
    this.resolvers[this.filling] = resolve;
    this.rejecters[this.filling] = reject;
  };
  /**
   * Hears every score this thread's requests are answered with (drift monitoring), except those
   * submitted `unobserved` (shadow copies); cheap: no promise, one call per answered row.
   */
  onScore: ((score: number) => void) | undefined;
  /** Per slot: whether onScore skips its answer. */
  private readonly unobserved: boolean[] = [];
  /** Called each time the last outstanding request of this thread is answered. */
  onIdle: (() => void) | undefined;
  private readonly port: number;
  /** Output floats per row. */
  private readonly width: number;
  private readonly raw: Float64Array;
  private closed = false;
  /** Deliveries for a ticket this thread no longer waits on (a duplicate, or after close). */
  unmatchedDeliveries = 0;
  /** Requests refused here, before the batcher, as invalid (bad record, priority or timeout). */
  invalidRequests = 0;
  /**
   * The native counters count rows; Triton counts requests. A multi-row tensor request answered
   * as one (ok, or failed as a whole) records here how many rows to take off each count.
   */
  readonly rowsBeyondRequests = { succeeded: 0, failed: 0 };
  /** Per slot, for a preprocessed row (submitRow): where its whole output row goes, and at which row. */
  private readonly rowTargets: (Float32Array | undefined)[] = [];
  private readonly rowAt: number[] = [];
  /** Per slot, who wants the answered batch's row count (see `score`); mostly empty. */
  private readonly watchers: (((batchRows: number) => void) | undefined)[] = [];

  constructor(
    private readonly scheduler: NativeBatchScheduler,
    private readonly encoder: RecordEncoder,
    private readonly model: string,
    private readonly scoreIndex: number,
    readonly priorityLevels: number,
    private readonly toResult: (score: number) => T,
  ) {
    this.raw = new Float64Array(encoder.fieldCount);
    this.width = scheduler.outputWidth;
    this.port = scheduler.openPort((count, tickets, statuses, outputs, messages, tags, batchRows) =>
      this.deliver(count, tickets, statuses, outputs, messages, tags, batchRows),
    );
  }

  get outstanding(): number {
    return this.waiting;
  }

  /**
   * Validates and encodes the record, then claims its row in the open batch. `onBatch`, if given,
   * hears the rows of the batch the request ran in, just before it resolves (prediction logs).
   */
  score(record: unknown, options: SubmitOptions = NO_OPTIONS, onBatch?: (batchRows: number) => void, unobserved = false): Promise<T> {
    const priority = options.priority ?? 0;
    const timeout = options.timeoutMicroseconds ?? 0;
    const refused = this.checkOptions(priority, timeout);
    if (refused) return Promise.reject(refused);
    try {
      this.encoder.encode(record, this.raw, 0);
    } catch (err) {
      this.invalidRequests++;
      return Promise.reject(err);
    }
    return this.submit(this.raw, 0, priority, timeout, undefined, 0, onBatch, unobserved) as Promise<T>;
  }

  /**
   * Submits row `row` of `rows` (already preprocessed: the scheduler's input width) into the same
   * batches as records; resolves, with the rows of the batch it ran in, once its whole output row has
   * been copied into `into` at row `at`.
   */
  submitRow(rows: Float32Array, row: number, into: Float32Array, at: number, options: SubmitOptions = {}, unobserved = false): Promise<number> {
    const priority = options.priority ?? 0;
    const timeout = options.timeoutMicroseconds ?? 0;
    const refused = this.checkOptions(priority, timeout);
    if (refused) return Promise.reject(refused);
    return this.submit(rows, row, priority, timeout, into, at, undefined, unobserved) as Promise<number>;
  }

  private checkOptions(priority: number, timeout: number): InferError | undefined {
    if (!Number.isInteger(priority) || priority < 0 || priority > this.priorityLevels) {
      this.invalidRequests++;
      return this.error('invalid_argument', `priority must be an integer in [1, ${this.priorityLevels}] (or 0 for the default), got ${priority}`, 'priority');
    }
    if (!Number.isInteger(timeout) || timeout < 0) {
      this.invalidRequests++;
      return this.error('invalid_argument', `timeout must be a non-negative integer number of microseconds, got ${timeout}`, 'timeout');
    }
    return undefined;
  }

  private submit(
    rows: Float64Array | Float32Array,
    row: number,
    priority: number,
    timeout: number,
    into?: Float32Array,
    at = 0,
    onBatch?: (batchRows: number) => void,
    unobserved = false,
  ): Promise<T | number> {
    if (this.closed) return Promise.reject(this.error('unavailable', `model "${this.model}" is shutting down`));
    const fresh = this.freeSlots.length === 0;
    const slot = fresh ? this.slotTickets.length : (this.freeSlots.pop() as number);
    const ticket = this.scheduler.submit(rows, row, this.port, priority, timeout, slot);
    if (ticket < 0) {
      if (!fresh) this.freeSlots.push(slot);
      return Promise.reject(this.rejection(ticket));
    }
    this.slotTickets[slot] = ticket;
    this.rowTargets[slot] = into;
    this.rowAt[slot] = at;
    this.watchers[slot] = onBatch;
    this.unobserved[slot] = unobserved;
    this.waiting++;
    this.filling = slot;
    return new Promise<T>(this.fillSlot);
  }

  /** Stops this thread's port; requests still pending are answered unavailable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.closePort(this.port);
    for (let slot = 0; slot < this.slotTickets.length; slot++) {
      if ((this.slotTickets[slot] as number) >= 0) this.rejecters[slot]?.(this.error('unavailable', `model "${this.model}" is shutting down`));
    }
    this.slotTickets.length = 0;
    this.rowTargets.length = 0;
    this.watchers.length = 0;
    this.resolvers.length = 0;
    this.rejecters.length = 0;
    this.freeSlots.length = 0;
    this.waiting = 0;
  }

  /** The port's arrays are refilled by each delivery: everything is read here, before returning. */
  private deliver(
    count: number,
    tickets: Float64Array,
    statuses: Int32Array,
    outputs: Float32Array,
    messages: (string | undefined)[] | undefined,
    tags: Uint32Array,
    batchRows: number,
  ): void {
    const width = this.width;
    for (let i = 0; i < count; i++) {
      const slot = tags[i] as number;
      // An answer this thread no longer waits for (a duplicate, or one after close) finds its slot
      // free or holding another request's ticket.
      if (this.slotTickets[slot] !== tickets[i]) {
        this.unmatchedDeliveries++;
        continue;
      }
      const resolve = this.resolvers[slot] as (result: T) => void;
      const reject = this.rejecters[slot] as (err: InferError) => void;
      const into = this.rowTargets[slot];
      this.slotTickets[slot] = -1;
      this.resolvers[slot] = undefined;
      this.rejecters[slot] = undefined;
      this.rowTargets[slot] = undefined;
      this.freeSlots.push(slot);
      this.waiting--;
      const status = statuses[i] as number;
      const watcher = this.watchers[slot];
      if (watcher) {
        this.watchers[slot] = undefined;
        if (status === RowStatus.Ok) watcher(batchRows);
      }
      if (status === RowStatus.Ok) {
        const score = outputs[i * width + this.scoreIndex] as number;
        if (this.onScore && !this.unobserved[slot]) this.onScore(score);
        if (into) {
          // A preprocessed row (the tensor API): its whole output row, copied where the caller assembles them.
          into.set(outputs.subarray(i * width, (i + 1) * width), (this.rowAt[slot] as number) * width);
          (resolve as (rows: number) => void)(batchRows);
        } else resolve(this.toResult(score));
      } else reject(this.error(STATUS_CODES[status] ?? 'internal', messages?.[i] ?? `request failed with status ${status}`));
    }
    if (this.waiting === 0) this.onIdle?.();
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
      default: {
        const err = this.error('unavailable', `model "${this.model}" is shutting down`);
        refusedAsClosed.add(err);
        return err;
      }
    }
  }

  private error(code: ErrorCode, message: string, field?: string): InferError {
    return new InferError(code, message, { model: this.model, ...(field !== undefined ? { field } : {}) });
  }
}
