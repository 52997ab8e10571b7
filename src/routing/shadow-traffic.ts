// Shadow traffic: copies of live requests sent to another version or backend, whose answers are
// compared with the primary's and then discarded. It is kept off the critical path: offering a copy
// is an O(1) push onto a bounded queue (a full queue drops the copy and counts it), copies are sent
// from a later turn of the event loop with bounded concurrency, and nothing the shadow does (fail,
// hang, answer late) reaches the primary's caller.

import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../errors';

/** What either side answered, as far as comparing them goes. */
export interface ShadowAnswer {
  score: number;
  decision?: string | undefined;
}

/** Where the finished pairs go (the shadow comparator). */
export interface ShadowSink {
  record(pair: {
    primaryScore: number;
    shadowScore: number;
    primaryDecision?: string | undefined;
    shadowDecision?: string | undefined;
    primaryLatencyMs: number;
    shadowLatencyMs: number;
    input?: unknown;
    at?: number;
  }): void;
  recordShadowFailure(code: string): void;
  recordDrop(): void;
}

export interface ShadowTrafficOptions {
  sampleRate: number;
  maxQueue: number;
  maxConcurrency: number;
}

interface Job<I> {
  input: I;
  offeredAt: number;
  primary: Promise<ShadowAnswer>;
}

export interface ShadowTrafficStats {
  offered: number;
  sent: number;
  dropped: number;
  queued: number;
  inFlight: number;
  failed: number;
}

/**
 * `run` sends one copy to the shadow and resolves with its answer; `I` is whatever it needs (a raw
 * record, or the rows of a tensor request).
 */
export class ShadowTraffic<I> {
  private readonly queue: (Job<I> | undefined)[];
  private head = 0;
  private size = 0;
  private inFlight = 0;
  private pumpScheduled = false;
  private closed = false;
  private readonly counts = { offered: 0, sent: 0, dropped: 0, failed: 0 };

  constructor(
    readonly options: ShadowTrafficOptions,
    private readonly sink: ShadowSink,
    private readonly run: (input: I) => Promise<ShadowAnswer>,
    /** What a sampled disagreement keeps of the input (a plain, JSON-ready value). */
    private readonly sampleOf: (input: I) => unknown = (input) => input,
    private readonly random: () => number = Math.random,
  ) {
    this.queue = new Array<Job<I> | undefined>(options.maxQueue);
  }

  /**
   * Offers a copy of a request whose primary answer will settle `primary`. Never throws, never waits;
   * the caller's promise is left untouched (a rejection of `primary` is observed here, not raised).
   */
  offer(input: I, primary: Promise<ShadowAnswer>): void {
    if (this.closed) return;
    if (this.options.sampleRate < 1 && this.random() >= this.options.sampleRate) return;
    this.counts.offered++;
    if (this.size === this.queue.length) {
      this.counts.dropped++;
      this.sink.recordDrop();
      // The primary's rejection, if any, is its caller's to handle; here it must not go unhandled.
      primary.catch(() => undefined);
      return;
    }
    this.queue[(this.head + this.size) % this.queue.length] = { input, offeredAt: performance.now(), primary };
    this.size++;
    this.schedulePump();
  }

  stats(): ShadowTrafficStats {
    return { ...this.counts, queued: this.size, inFlight: this.inFlight };
  }

  /**
   * Stops taking copies and drops those still queued (counted). Copies in flight finish on their
   * own: the shadow instance's retirement answers them, so nothing here waits on a shadow that hangs.
   */
  close(): void {
    this.closed = true;
    while (this.size > 0) {
      const job = this.take();
      job.primary.catch(() => undefined);
      this.counts.dropped++;
      this.sink.recordDrop();
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // A later turn: the primary's own work (and its neighbours') goes first.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private take(): Job<I> {
    const job = this.queue[this.head] as Job<I>;
    this.queue[this.head] = undefined;
    this.head = (this.head + 1) % this.queue.length;
    this.size--;
    return job;
  }

  private pump(): void {
    while (this.size > 0 && this.inFlight < this.options.maxConcurrency && !this.closed) this.send(this.take());
  }

  private send(job: Job<I>): void {
    this.inFlight++;
    this.counts.sent++;
    const sentAt = performance.now();
    let shadow: Promise<ShadowAnswer>;
    try {
      shadow = this.run(job.input);
    } catch (err) {
      shadow = Promise.reject(err);
    }
    const shadowSettled = shadow.then(
      (answer) => ({ answer, latencyMs: performance.now() - sentAt }),
      (err: unknown) => ({ error: err, latencyMs: performance.now() - sentAt }),
    );
    const primarySettled = job.primary.then(
      (answer) => ({ answer, latencyMs: performance.now() - job.offeredAt }),
      () => undefined,
    );
    void Promise.all([primarySettled, shadowSettled]).then(([p, s]) => {
      this.inFlight--;
      try {
        this.compare(job, p, s);
      } finally {
        if (this.size > 0) this.schedulePump();
      }
    });
  }

  private compare(
    job: Job<I>,
    p: { answer: ShadowAnswer; latencyMs: number } | undefined,
    s: { answer: ShadowAnswer; latencyMs: number } | { error: unknown; latencyMs: number },
  ): void {
    // A primary that failed (a record both sides refuse, say) has nothing to compare with.
    if (!p) return;
    if ('error' in s) {
      this.counts.failed++;
      this.sink.recordShadowFailure(errorCode(s.error));
      return;
    }
    this.sink.record({
      primaryScore: p.answer.score,
      shadowScore: s.answer.score,
      primaryDecision: p.answer.decision,
      shadowDecision: s.answer.decision,
      primaryLatencyMs: p.latencyMs,
      shadowLatencyMs: s.latencyMs,
      input: this.sampleOf(job.input),
      at: Date.now(),
    });
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: ErrorCode } | null)?.code;
  return typeof code === 'string' ? code : 'internal';
}
