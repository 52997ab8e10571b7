// The local executor: a Piscina pool of ONNX Runtime workers, fed whole batches. The main thread
// only moves batch ids: when a scheduler reports sealed batches, the pump takes the highest-priority
// ready batch of each scheduler in turn and hands its id to a free worker. At most one batch per
// worker is in flight, so a backlog waits in the schedulers' priority rings, not in Piscina's FIFO
// queue, and priorities hold under load. A worker that dies fails only its own batch.

import * as os from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import { type NativeBatchScheduler, RowStatus } from '../../native/addon';
import type { Tensor } from '../../tensor';
import type { OnnxSessionSpec, SessionDescription } from './onnx-session-spec';
import type { BatchReport, WorkerTask } from './onnx-worker';

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
  private next = 0;
  private inFlight = 0;
  private exitNextWorker = false;
  private paused = false;
  private readonly counters: ExecutorStats = { batches: 0, rows: 0, inPlaceBatches: 0, workerFailures: 0 };

  constructor(options: ExecutorOptions = {}) {
    this.threads = options.threads ?? Math.max(1, os.availableParallelism());
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new RangeError(`executor threads must be an integer >= 1, got ${options.threads}`);
    this.pool = new Piscina({
      filename: path.join(__dirname, 'onnx-worker.js'),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Infinity,
    });
  }

  get stats(): ExecutorStats {
    return { ...this.counters };
  }

  /** Opens the session in a worker and reports its tensors (for load-time checks). */
  describe(session: OnnxSessionSpec): Promise<SessionDescription> {
    return this.pool.run({ kind: 'describe', session } satisfies WorkerTask) as Promise<SessionDescription>;
  }

  /** Runs caller-batched tensors (the KServe tensor API) on a worker. */
  runTensors(session: OnnxSessionSpec, inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>> {
    return this.pool.run({ kind: 'tensors', session, inputs, outputs: [...outputs] } satisfies WorkerTask) as Promise<Record<string, Tensor>>;
  }

  /** Starts executing a scheduler's sealed batches. */
  attach(source: BatchSource): void {
    this.sources.push(source);
    source.scheduler.onSealed(() => this.pump());
    this.pump();
  }

  detach(scheduler: NativeBatchScheduler): void {
    const i = this.sources.findIndex((s) => s.scheduler === scheduler);
    if (i >= 0) this.sources.splice(i, 1);
  }

  /**
   * Stops handing batches to workers (batches in flight finish); sealed batches wait in their
   * schedulers' priority rings, bounded by max_queue_size. For maintenance windows and tests.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Chaos drill for tests: the worker that takes the next batch exits without answering. */
  exitWorkerOnNextBatch(): void {
    this.exitNextWorker = true;
  }

  async close(): Promise<void> {
    this.sources.length = 0;
    await this.pool.destroy();
  }

  private pump(): void {
    while (!this.paused && this.inFlight < this.threads && this.sources.length > 0) {
      let dispatched = false;
      for (let k = 0; k < this.sources.length && this.inFlight < this.threads; k++) {
        const source = this.sources[(this.next + k) % this.sources.length] as BatchSource;
        const batch = source.scheduler.take();
        if (batch < 0) continue;
        this.dispatch(source, batch);
        dispatched = true;
      }
      this.next = (this.next + 1) % Math.max(1, this.sources.length);
      if (!dispatched) return;
    }
  }

  private dispatch(source: BatchSource, batch: number): void {
    this.inFlight++;
    const task: WorkerTask = {
      kind: 'batch',
      session: source.session,
      scheduler: source.scheduler.name,
      batch,
      input: source.input,
      output: source.output,
      ...(this.exitNextWorker ? { exitWorker: true } : {}),
    };
    this.exitNextWorker = false;
    (this.pool.run(task) as Promise<BatchReport>).then(
      (report) => {
        this.counters.batches++;
        this.counters.rows += report.rows;
        if (report.inPlace) this.counters.inPlaceBatches++;
      },
      (err: Error) => {
        // The worker died before answering: only this batch's requests fail; Piscina replaces it.
        this.counters.workerFailures++;
        try {
          source.scheduler.fail(batch, RowStatus.Unavailable, `the executor worker running this batch failed: ${err.message}`);
        } catch {
          // The worker had answered the batch before it went away: nothing is left to fail.
        }
      },
    ).finally(() => {
      this.inFlight--;
      this.pump();
    });
  }
}
