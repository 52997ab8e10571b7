// An open-loop load generator: requests arrive at a constant rate whatever the system under test
// does, the way independent users arrive at a service.
//
// Request i is due at t0 + i/rate. A timer tick sends every request whose time has come and never
// waits for an answer. Latency is counted from the time a request was DUE, not from when it was
// sent, so a generator that falls behind (a blocked event loop delays its timer too) is charged to
// the system under test instead of hiding it (no coordinated omission). The generator's own
// lateness is reported separately as sendLag.
//
// A step is a warmup (sent, not measured) then a measured window, then a drain. Requests in flight
// are capped: past the cap a due request is dropped and counted, so overload cannot eat memory.

import { performance } from 'node:perf_hooks';
import { type HostSample, HostMeter } from './host-meter';
import { type LatencySummary, LatencyHistogram } from './latency-histogram';

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  /** Load before the measured window; its requests are not recorded. */
  warmupMs: number;
  /** The measured window. */
  durationMs: number;
  /** Requests in flight past which a due request is dropped (and the step fails). */
  maxOutstanding: number;
  /** A measured request slower than this ends the step early: the system is overloaded. */
  abortLatencyMs: number;
  /**
   * If set, the step ends early once more than 1 % of its measured requests took longer than this:
   * its p99 is then certainly above it. For searches, where only pass/fail matters.
   */
  failFastAboveMs?: number;
  /** How long to wait, after the last send, for the requests still in flight. */
  drainTimeoutMs: number;
}

export interface OpenLoopResult {
  rate: number;
  /** Requests due in the measured window that were sent. */
  sent: number;
  /** Of those, answered successfully. */
  completed: number;
  /** Failed requests, warmup included. */
  errors: number;
  /** Requests (warmup or measured) not sent because maxOutstanding were in flight. */
  dropped: number;
  /** Requests still in flight when the drain timed out. */
  unfinished: number;
  /** Why the step ended early, if it did. */
  aborted: string | undefined;
  /** Latency from due time to answer, of the measured requests that succeeded. */
  latency: LatencySummary;
  /** How late the generator sent measured requests (99th percentile), ms. */
  sendLagP99Ms: number;
  /** Answers per second during the measured window (any request's). */
  achievedRate: number;
  /** Host cost over the measured window (see host-meter.ts). */
  host: HostSample;
  /** Main-thread event-loop busy time per answer in the window, µs. */
  eventLoopUsPerRequest: number | null;
  /** Main-thread on-CPU time per answer in the window, µs; null where it cannot be read. */
  mainThreadCpuUsPerRequest: number | null;
  firstError: string | undefined;
}

export function runOpenLoop(send: () => Promise<unknown>, options: OpenLoopOptions): Promise<OpenLoopResult> {
  return new Promise((resolve) => new OpenLoopStep(send, options, resolve).start());
}

class OpenLoopStep {
  private readonly intervalMs: number;
  private readonly total: number;
  private readonly firstMeasured: number;
  private readonly latency = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();
  private readonly meter = new HostMeter();
  private host: HostSample | undefined;
  private t0 = 0;
  private next = 0;
  private outstanding = 0;
  private sent = 0;
  private completed = 0;
  private errors = 0;
  private dropped = 0;
  private slow = 0;
  private answersInWindow = 0;
  private aborted: string | undefined;
  private firstError: string | undefined;
  private sendingDone = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly send: () => Promise<unknown>,
    private readonly o: OpenLoopOptions,
    private readonly done: (r: OpenLoopResult) => void,
  ) {
    if (!(o.rate > 0) || !(o.durationMs > 0) || !(o.warmupMs >= 0)) throw new RangeError('open loop: rate and duration must be > 0');
    this.intervalMs = 1000 / o.rate;
    this.firstMeasured = Math.ceil(o.warmupMs / this.intervalMs);
    this.total = this.firstMeasured + Math.max(1, Math.round(o.durationMs / this.intervalMs));
  }

  start(): void {
    this.t0 = performance.now();
    this.tick();
  }

  private dueAt(i: number): number {
    return this.t0 + i * this.intervalMs;
  }

  private tick = (): void => {
    const now = performance.now();
    while (this.next < this.total && this.aborted === undefined && this.dueAt(this.next) <= now) this.fire(this.next++);
    // The measured window runs from the due time of the first measured request to that of the
    // request after the last one; the meter is read at the first tick past each edge.
    if (!this.meter.running && this.host === undefined && this.next > this.firstMeasured) this.meter.start();
    const windowEnd = this.dueAt(this.total);
    if (this.aborted !== undefined || now >= windowEnd) return this.endSending();
    const wait = (this.next < this.total ? this.dueAt(this.next) : windowEnd) - performance.now();
    // Behind schedule: yield to I/O and answers, then send again. Otherwise sleep until the next due
    // time (timers fire up to ~1 ms late; that lateness is charged as latency, and shown as sendLag).
    if (wait <= 0) setImmediate(this.tick);
    else setTimeout(this.tick, Math.max(1, Math.floor(wait)));
  };

  private fire(i: number): void {
    const due = this.dueAt(i);
    const measured = i >= this.firstMeasured;
    if (this.outstanding >= this.o.maxOutstanding) {
      this.dropped++;
      this.aborted ??= `dropped: ${this.o.maxOutstanding} requests in flight`;
      return;
    }
    if (measured) {
      this.sent++;
      this.sendLag.recordMs(performance.now() - due);
    }
    this.outstanding++;
    let p: Promise<unknown>;
    try {
      p = this.send();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      () => this.answered(due, measured, false),
      (err: unknown) => this.answered(due, measured, true, err),
    );
  }

  private answered(due: number, measured: boolean, failed: boolean, err?: unknown): void {
    this.outstanding--;
    if (this.meter.running) this.answersInWindow++;
    if (failed) {
      this.errors++;
      this.firstError ??= err instanceof Error ? err.message : String(err);
    } else if (measured) {
      const ms = performance.now() - due;
      this.completed++;
      this.latency.recordMs(ms);
      if (ms > this.o.abortLatencyMs) this.aborted ??= `overloaded: a request took ${Math.round(ms)} ms`;
      if (this.o.failFastAboveMs !== undefined && ms > this.o.failFastAboveMs) {
        this.slow++;
        if (this.slow > 0.01 * (this.total - this.firstMeasured)) this.aborted ??= `p99 certainly > ${this.o.failFastAboveMs} ms`;
      }
    }
    if (this.sendingDone && this.outstanding === 0) this.finish();
  }

  private endSending(): void {
    if (this.sendingDone) return;
    this.sendingDone = true;
    if (this.meter.running) this.host = this.meter.stop();
    if (this.outstanding === 0) return this.finish();
    this.drainTimer = setTimeout(() => this.finish(), this.o.drainTimeoutMs);
  }

  /** Milliseconds of the window per answer in it, in µs to 0.1. */
  private perAnswer(ms: number): number | null {
    return this.answersInWindow > 0 ? Math.round((ms * 1000 * 10) / this.answersInWindow) / 10 : null;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    // An abort during warmup leaves no window: measure an empty one so the result has its shape.
    if (!this.host) {
      this.meter.start();
      this.host = this.meter.stop();
    }
    const windowS = this.host.wallMs / 1000;
    this.done({
      rate: this.o.rate,
      sent: this.sent,
      completed: this.completed,
      errors: this.errors,
      dropped: this.dropped,
      unfinished: this.outstanding,
      aborted: this.aborted,
      latency: this.latency.summary(),
      sendLagP99Ms: this.sendLag.summary().p99Ms,
      achievedRate: windowS > 0 ? Math.round(this.answersInWindow / windowS) : 0,
      host: this.host,
      eventLoopUsPerRequest: this.perAnswer(this.host.eventLoopActiveMs),
      mainThreadCpuUsPerRequest: this.host.mainThreadCpuMs === null ? null : this.perAnswer(this.host.mainThreadCpuMs),
      firstError: this.firstError,
    });
  }
}
