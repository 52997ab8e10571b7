// Forwards each sealed batch of one model version's scheduler to the Triton cluster as ONE
// ModelInfer, and fans the answer back out by row. Runs on the main thread, where gRPC lives:
// when the scheduler seals a batch, the forwarder takes it and sends it, up to the pool's capacity
// in flight; the backlog waits in the scheduler's bounded priority rings.
//
// The batch travels as raw contents read from the slab (the gRPC encoder's copy is the only one),
// or, with system shared memory, not at all: the request names the slab's region and offsets, and
// Triton writes the outputs straight into the slab. Each batch carries its earliest deadline (gRPC
// deadline and Triton's `timeout`) and its priority level.
//
// With a local fallback, when no replica is available the scheduler is handed to the local ONNX
// executors until the cluster is back (degraded), and a batch whose forwarding failed with
// unavailable runs locally instead of failing.

import { setMaxListeners } from 'node:events';
import { type NativeBatchScheduler, RowStatus } from '../../native/addon';
import type { Logger } from '../../observability/logger';
import type { ModelInferResponse } from './proto';
import type { InferRequestInit, ParameterInit } from './request-types';
import { TritonCallError } from './replica';
import { type ReplicaPool, TritonUnavailableError } from './replica-pool';

export interface ForwardTarget {
  /** The model's name on the server. */
  model: string;
  /** "" = the server's choice. */
  version: string;
  input: string;
  output: string;
  /** Send Triton's priority parameter (the model has several priority levels). */
  sendPriority: boolean;
}

export interface LocalFallback {
  /** Local executors start draining the scheduler's sealed batches. */
  engage(): void;
  /** They stop; the forwarder takes the scheduler back. */
  release(): void;
  /** Runs one batch the forwarder has taken on a local executor, which answers it. */
  run(batch: number): Promise<void>;
}

/** The system shared-memory region that holds the scheduler's slabs, registered with Triton. */
export interface SharedMemoryPlacement {
  /** The name the region is registered under with Triton. */
  region: string;
}

export interface ForwarderStats {
  batches: number;
  rows: number;
  failedBatches: number;
  /** Batches run locally because Triton was unavailable. */
  fallbackBatches: number;
  inFlight: number;
  degraded: boolean;
  /** Times the model entered degraded mode. */
  degradedEntries: number;
}

export class BatchForwarder {
  private inFlight = 0;
  private degraded = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly abort = new AbortController();
  private readonly counters = { batches: 0, rows: 0, failedBatches: 0, fallbackBatches: 0, degradedEntries: 0 };
  private readonly width: number;
  private readonly outWidth: number;
  private readonly pump = () => this.drain();

  constructor(
    private readonly scheduler: NativeBatchScheduler,
    private readonly pool: ReplicaPool,
    private readonly target: ForwardTarget,
    private readonly log: Logger,
    private readonly fallback: LocalFallback | undefined,
    private readonly shm: SharedMemoryPlacement | undefined,
  ) {
    this.width = scheduler.inputWidth;
    this.outWidth = scheduler.outputWidth;
    // One listener per call in flight, up to the pool's capacity: not a leak.
    setMaxListeners(0, this.abort.signal);
    this.unsubscribe = pool.onAvailability((available) => this.onAvailability(available));
    scheduler.onSealed(this.pump);
    if (!pool.available) this.onAvailability(false);
    this.drain();
  }

  get stats(): ForwarderStats {
    return { ...this.counters, inFlight: this.inFlight, degraded: this.degraded };
  }

  private onAvailability(available: boolean): void {
    if (this.closed || !this.fallback) return;
    if (!available && !this.degraded) {
      this.degraded = true;
      this.counters.degradedEntries++;
      this.log.log('warn', 'triton.degraded', { model: this.target.model, detail: 'no Triton replica is available; serving from the local ONNX Runtime session' });
      this.fallback.engage();
    } else if (available && this.degraded) {
      this.degraded = false;
      this.log.log('info', 'triton.recovered', { model: this.target.model, detail: 'a Triton replica is available again; forwarding resumes' });
      // The executor hands the scheduler back in its default state; its seals come here again.
      this.fallback.release();
      this.scheduler.onSealed(this.pump);
      this.drain();
    }
  }

  /** Takes sealed batches while there is room in flight. */
  private drain(): void {
    while (!this.closed && !this.degraded && this.inFlight < this.pool.capacity) {
      const batch = this.scheduler.take();
      if (batch < 0) return;
      this.forward(batch);
    }
  }

  private forward(batch: number): void {
    this.inFlight++;
    let request: InferRequestInit;
    let deadlineAt: number;
    try {
      const info = this.scheduler.batchInfo(batch);
      deadlineAt = performance.now() + (info.deadlineMicroseconds >= 0 ? info.deadlineMicroseconds / 1000 : this.pool.options.defaultTimeoutMs);
      request = this.request(batch, info.rows, info.priorityLevel, info.deadlineMicroseconds);
    } catch (err) {
      this.finish(batch, () => this.scheduler.fail(batch, RowStatus.Internal, `forwarding to Triton failed: ${(err as Error).message}`));
      return;
    }
    this.pool.infer(request, deadlineAt, this.abort.signal).then(
      (response) => this.finish(batch, () => this.answer(batch, response)),
      (err: Error) => this.onFailure(batch, err),
    );
  }

  private request(batch: number, rows: number, priorityLevel: number, deadlineMicroseconds: number): InferRequestInit {
    const parameters: Record<string, ParameterInit> = {};
    // Triton's own queue then drops the batch once nobody waits for it any more.
    if (deadlineMicroseconds >= 0) parameters.timeout = { int64_param: Math.max(1, Math.floor(deadlineMicroseconds)) };
    if (this.target.sendPriority) parameters.priority = { uint64_param: priorityLevel };
    const inputBytes = rows * this.width * 4;
    const outputBytes = rows * this.outWidth * 4;
    const input = { name: this.target.input, datatype: 'FP32', shape: [rows, this.width], parameters: {} as Record<string, ParameterInit> };
    const output = { name: this.target.output, parameters: {} as Record<string, ParameterInit> };
    const raw: Buffer[] = [];
    if (this.shm) {
      input.parameters = shmParameters(this.shm.region, this.scheduler.inputOffset(batch), inputBytes);
      output.parameters = shmParameters(this.shm.region, this.scheduler.outputOffset(batch), outputBytes);
    } else {
      const view = this.scheduler.inputView(batch);
      raw.push(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
    }
    return {
      model_name: this.target.model,
      model_version: this.target.version,
      id: '',
      parameters,
      inputs: [input],
      outputs: [output],
      raw_input_contents: raw,
    };
  }

  /** Copies the output rows into the slab (unless Triton wrote them there) and answers the batch. */
  private answer(batch: number, response: ModelInferResponse): void {
    const index = response.outputs.findIndex((o) => o.name === this.target.output);
    if (index < 0) throw new Error(`Triton's response has no output "${this.target.output}"`);
    const out = response.outputs[index]!;
    const rows = this.scheduler.rows(batch);
    if (out.datatype !== 'FP32') throw new Error(`output "${out.name}" came back as ${out.datatype}, expected FP32`);
    const shape = out.shape.map(Number);
    if (shape[0] !== rows || shape.slice(1).reduce((a, b) => a * b, 1) !== this.outWidth) {
      throw new Error(`output "${out.name}" came back with shape [${shape.join(', ')}], expected [${rows}, ${this.outWidth}]`);
    }
    if (!this.shm) {
      const raw = response.raw_output_contents[index];
      const view = this.scheduler.outputView(batch);
      if (!raw || raw.length !== view.byteLength) {
        throw new Error(`output "${out.name}" carried ${raw?.length ?? 0} bytes, expected ${view.byteLength}`);
      }
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(raw);
    }
    this.counters.batches++;
    this.counters.rows += rows;
    this.scheduler.complete(batch);
  }

  private onFailure(batch: number, err: Error): void {
    if (this.fallback && !this.closed && err instanceof TritonUnavailableError) {
      this.counters.fallbackBatches++;
      this.fallback.run(batch).finally(() => this.finish(batch, () => undefined));
      return;
    }
    this.counters.failedBatches++;
    this.finish(batch, () => this.scheduler.fail(batch, statusOf(err), `Triton: ${err.message}`));
  }

  /** Runs `settle` for a batch in flight, counting it out, and takes the next batches. */
  private finish(batch: number, settle: () => void): void {
    try {
      settle();
    } catch (err) {
      try {
        this.counters.failedBatches++;
        this.scheduler.fail(batch, RowStatus.Internal, `Triton's answer could not be used: ${(err as Error).message}`);
      } catch {
        // Already answered.
      }
    }
    this.inFlight--;
    this.drain();
  }

  /** Stops taking batches and cancels the calls in flight (their requests fail unavailable). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.abort.abort();
    if (this.degraded) this.fallback?.release();
  }

  /** Calls in flight; close() waits for zero. */
  get pending(): number {
    return this.inFlight;
  }
}

function shmParameters(region: string, offset: number, byteSize: number): Record<string, ParameterInit> {
  return {
    shared_memory_region: { string_param: region },
    shared_memory_offset: { int64_param: offset },
    shared_memory_byte_size: { int64_param: byteSize },
  };
}

function statusOf(err: Error): RowStatus {
  if (err instanceof TritonUnavailableError) return RowStatus.Unavailable;
  if (err instanceof TritonCallError) {
    switch (err.grpcCode) {
      case 4: return RowStatus.DeadlineExceeded;
      case 8: return RowStatus.ResourceExhausted;
      case 1:
      case 14: return RowStatus.Unavailable;
      case 3: return RowStatus.InvalidArgument;
      default: return RowStatus.Internal;
    }
  }
  return RowStatus.Internal;
}
