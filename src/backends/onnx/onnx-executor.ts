// The local executor: a Piscina pool of ONNX Runtime workers that run whole batches. When a
// scheduler reports sealed batches and a worker is free, the pump sends that worker a "drain" task:
// it takes the highest-priority sealed batch, runs it, and takes the next, until none is left. A
// backlog therefore waits in the schedulers' priority rings (bounded, priority-ordered), never in
// Piscina's FIFO queue, and a busy pool moves from batch to batch without the main thread. Each
// task records the batch in hand in a shared control block, so a worker that dies fails only that
// batch; Piscina replaces the worker.
//
// Every worker keeps a drain task. Between batches it waits on the executor's ready signal, which
// the schedulers raise as they seal (one idle worker wakes per batch, the one that waited last). The
// main thread hears of seals only while some worker has no drain task (to start one there): once
// every worker has one, a seal costs the event loop nothing.

import * as os from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import { type NativeBatchScheduler, RowStatus, nativeAddon } from '../../native/addon';
import type { Tensor } from '../../tensor';
import type { OnnxSessionSpec, SessionDescription } from './onnx-session-spec';
import { ExecutorControl } from './executor-control';
import type { DrainSource, WorkerTask } from './onnx-worker';

export interface ExecutorOptions {
  /** Worker threads; default: the number of CPU cores. */
  threads?: number;
}

export interface BatchSource {
  scheduler: NativeBatchScheduler;
  session: OnnxSessionSpec;
  input: string;
  output: string;
}

export interface ExecutorStats {
  batches: number;
  rows: number;
  /** Batches whose input ONNX Runtime read in place from native memory. */
  inPlaceBatches: number;
  workerFailures: number;
}

const RETIRED_LIMIT = 256;

export class OnnxExecutor {
  readonly threads: number;
  private readonly pool: Piscina;
  private readonly sources: BatchSource[] = [];
  /** What a drain task needs of `sources`, as plain data; rebuilt when a source comes or goes. */
  private drainSources: DrainSource[] = [];
  /** Sessions and schedulers of retired versions, newest last, bounded: workers release them. */
  private readonly retired: string[] = [];
  private inFlight = 0;
  private readonly control: ExecutorControl;
  /** The ready signal this executor's schedulers raise and its idle workers wait on. */
  private readonly signal: number;
  private readonly freeSlots: number[];
  private workerFailures = 0;
  /** Whether the sources' onSealed callbacks are on (only while a worker has no drain task). */
  private sealedCallbacks = true;
  /** Set by close(): called once the last drain task has returned. */
  private onTasksDone: (() => void) | undefined;

  constructor(options: ExecutorOptions = {}) {
    this.threads = options.threads ?? Math.max(1, os.availableParallelism());
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new RangeError(`executor threads must be an integer >= 1, got ${options.threads}`);
    this.pool = new Piscina({
      filename: path.join(__dirname, 'onnx-worker.js'),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Infinity,
    });
    this.control = new ExecutorControl(this.threads);
    this.signal = nativeAddon().createReadySignal();
    this.freeSlots = Array.from({ length: this.threads }, (_, i) => i);
  }

  get stats(): ExecutorStats {
    const c = this.control;
    return { batches: c.batches, rows: c.rows, inPlaceBatches: c.inPlaceBatches, workerFailures: this.workerFailures };
  }

  /** Opens the session in a worker and reports its tensors (for load-time checks). */
  describe(session: OnnxSessionSpec): Promise<SessionDescription> {
    return this.runOther({ kind: 'describe', session, retired: [...this.retired] }) as Promise<SessionDescription>;
  }

  /** Runs caller-batched tensors (the KServe tensor API) on a worker. */
  runTensors(session: OnnxSessionSpec, inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>> {
    return this.runOther({ kind: 'tensors', session, inputs, outputs: [...outputs] }) as Promise<Record<string, Tensor>>;
  }

  /**
   * Runs one batch that the caller has taken from `source`'s scheduler (a Triton backend that could
   * not forward it); the worker answers it. A worker that dies fails the batch (unavailable).
   */
  runTaken(source: BatchSource, batch: number): Promise<void> {
    const drainSource: DrainSource = { session: source.session, scheduler: source.scheduler.name, input: source.input, output: source.output };
    return this.runOther({ kind: 'batch', source: drainSource, batch, control: this.control.buffer }).then(
      () => undefined,
      (err: Error) => {
        this.workerFailures++;
        try {
          source.scheduler.fail(batch, RowStatus.Unavailable, `the executor worker running this batch failed: ${err.message}`);
        } catch {
          // Answered before the worker went away.
        }
      },
    );
  }

  /** A task other than draining: lingering drain tasks give their workers back while it waits. */
  private runOther(task: WorkerTask): Promise<unknown> {
    this.control.otherTask(1);
    this.wakeWorkers();
    const done = () => {
      this.control.otherTask(-1);
      this.pump();
    };
    const p = this.pool.run(task);
    p.then(done, done);
    return p;
  }

  /** Starts executing a scheduler's sealed batches. */
  attach(source: BatchSource): void {
    this.sources.push(source);
    this.describeSources();
    source.scheduler.setReadySignal(this.signal);
    source.scheduler.setSealedCallbacks(this.sealedCallbacks);
    source.scheduler.onSealed(() => this.pump());
    this.pump();
  }

  /**
   * Lets every worker release a retired version's session (and its scheduler handle): they are
   * named in each drain task from now on, which restarts with the new list. The list keeps the last
   * RETIRED_LIMIT names: by then every worker has seen them.
   */
  release(sessionKey: string, schedulerName?: string): void {
    this.retired.push(sessionKey);
    if (schedulerName !== undefined) this.retired.push(schedulerName);
    if (this.retired.length > RETIRED_LIMIT) this.retired.splice(0, this.retired.length - RETIRED_LIMIT);
    this.describeSources();
  }

  detach(scheduler: NativeBatchScheduler): void {
    const i = this.sources.findIndex((s) => s.scheduler === scheduler);
    if (i >= 0) this.sources.splice(i, 1);
    // Back in its default state, for whoever drains it next (a Triton forwarder, after a fallback).
    scheduler.setReadySignal(null);
    scheduler.setSealedCallbacks(true);
    this.describeSources();
  }

  /** Rebuilds what drain tasks are given, and stops those running with the old list. */
  private describeSources(): void {
    this.drainSources = this.sources.map((src) => ({
      session: src.session,
      scheduler: src.scheduler.name,
      input: src.input,
      output: src.output,
    }));
    this.control.bumpSourcesGeneration();
    this.wakeWorkers();
  }

  /** Makes every waiting drain task look at the control block now, not at its next batch. */
  private wakeWorkers(): void {
    nativeAddon().wakeReadyWaiters(this.signal);
  }

  /** Turns the sources' onSealed callbacks on or off; see the header. */
  private setSealedCallbacks(enabled: boolean): void {
    if (this.sealedCallbacks === enabled) return;
    this.sealedCallbacks = enabled;
    for (const src of this.sources) src.scheduler.setSealedCallbacks(enabled);
  }

  /**
   * Stops handing batches to workers (batches in flight finish); sealed batches wait in their
   * schedulers' priority rings, bounded by max_queue_size. For maintenance windows and tests.
   */
  pause(): void {
    this.control.paused = true;
    this.wakeWorkers();
  }

  resume(): void {
    this.control.paused = false;
    this.pump();
  }

  /** Chaos drill for tests: the worker that takes the next batch exits without answering. */
  exitWorkerOnNextBatch(): void {
    this.control.armExit();
  }

  async close(): Promise<void> {
    // Drain tasks stay on their workers: stop them (no sources left, so none starts again) and let
    // them return before the pool goes, so that no task finishes into a pool being destroyed.
    this.sources.length = 0;
    this.describeSources();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.onTasksDone = resolve));
    await this.pool.destroy();
  }

  private pump(): void {
    if (this.control.paused) return;
    // On before looking: a batch sealed from here on either calls back or is seen below.
    if (this.inFlight < this.threads) this.setSealedCallbacks(true);
    // Every worker keeps a drain task, sealed batches or not: between batches it waits on the ready
    // signal. While a task of another kind waits for a worker, only sealed batches start one.
    while (this.inFlight < this.threads && this.sources.length > 0 && (!this.control.othersWaiting || this.anyReady())) {
      this.dispatch();
    }
    // Every worker has a drain task: the event loop need not wake for seals.
    if (this.inFlight === this.threads) this.setSealedCallbacks(false);
  }

  private anyReady(): boolean {
    return this.sources.some((src) => (src.scheduler.stats().readyBatches ?? 0) > 0);
  }

  private dispatch(): void {
    const slot = this.freeSlots.pop() as number;
    this.inFlight++;
    const sources = this.drainSources;
    const task: WorkerTask = {
      kind: 'drain',
      sources,
      retired: this.retired,
      generation: this.control.sourcesGeneration,
      signal: this.signal,
      control: this.control.buffer,
      slot,
    };
    this.pool.run(task).then(
      () => undefined,
      (err: Error) => {
        // The worker died: only the batch it had in hand fails; Piscina replaces the worker.
        this.workerFailures++;
        const { batch, source: index } = this.control.runningBatch(slot);
        const source = this.sources.find((src) => src.scheduler.name === sources[index]?.scheduler);
        if (batch >= 0 && source) {
          try {
            source.scheduler.fail(batch, RowStatus.Unavailable, `the executor worker running this batch failed: ${err.message}`);
          } catch {
            // The worker had answered it before it went away: nothing is left to fail.
          }
        }
      },
    ).finally(() => {
      this.control.setRunning(slot, -1);
      this.freeSlots.push(slot);
      this.inFlight--;
      if (this.inFlight === 0) this.onTasksDone?.();
      this.pump();
    });
  }
}
