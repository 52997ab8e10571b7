// The local executor: a Piscina pool of ONNX Runtime workers that run whole batches. When a
// scheduler reports sealed batches and a worker is free, the pump sends that worker a "drain" task:
// it takes the highest-priority sealed batch, runs it, and takes the next, until none is left. A
// backlog therefore waits in the schedulers' priority rings (bounded, priority-ordered), never in
// Piscina's FIFO queue, and a busy pool moves from batch to batch without the main thread. Each
// task records the batch in hand in a shared control block, so a worker that dies fails only that
// batch; Piscina replaces the worker.

import * as os from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import { type NativeBatchScheduler, RowStatus } from '../../native/addon';
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

export class OnnxExecutor {
  readonly threads: number;
  private readonly pool: Piscina;
  private readonly sources: BatchSource[] = [];
  /** What a drain task needs of `sources`, as plain data; rebuilt when a source comes or goes. */
  private drainSources: DrainSource[] = [];
  private inFlight = 0;
  private readonly control: ExecutorControl;
  private readonly freeSlots: number[];
  private workerFailures = 0;

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
    this.freeSlots = Array.from({ length: this.threads }, (_, i) => i);
  }

  get stats(): ExecutorStats {
    const c = this.control;
    return { batches: c.batches, rows: c.rows, inPlaceBatches: c.inPlaceBatches, workerFailures: this.workerFailures };
  }

  /** Opens the session in a worker and reports its tensors (for load-time checks). */
  describe(session: OnnxSessionSpec): Promise<SessionDescription> {
    return this.runOther({ kind: 'describe', session }) as Promise<SessionDescription>;
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
    source.scheduler.onSealed(() => this.pump());
    this.pump();
  }

  detach(scheduler: NativeBatchScheduler): void {
    const i = this.sources.findIndex((s) => s.scheduler === scheduler);
    if (i >= 0) this.sources.splice(i, 1);
    this.describeSources();
  }

  private describeSources(): void {
    this.drainSources = this.sources.map((src) => ({
      session: src.session,
      scheduler: src.scheduler.name,
      input: src.input,
      output: src.output,
    }));
  }

  /**
   * Stops handing batches to workers (batches in flight finish); sealed batches wait in their
   * schedulers' priority rings, bounded by max_queue_size. For maintenance windows and tests.
   */
  pause(): void {
    this.control.paused = true;
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
    this.sources.length = 0;
    this.describeSources();
    await this.pool.destroy();
  }

  private pump(): void {
    if (this.control.paused) return;
    while (this.inFlight < this.threads && this.sources.some((src) => (src.scheduler.stats().readyBatches ?? 0) > 0)) {
      this.dispatch();
    }
  }

  private dispatch(): void {
    const slot = this.freeSlots.pop() as number;
    this.inFlight++;
    const sources = this.drainSources;
    const task: WorkerTask = { kind: 'drain', sources, control: this.control.buffer, slot };
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
      this.pump();
    });
  }
}
