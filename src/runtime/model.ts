// A loaded model: its versions (each a backend, and a preprocessor when the model takes raw
// records), the postprocessing that turns a score into a decision, and the checks that keep a
// request's tensors true to config.pbtxt. Both the embedded API and the servers call into this.

import type { Backend } from '../backends/backend';
import type { BatchForwarder } from '../backends/triton/batch-forwarder';
import type { SchedulerClient, SubmitOptions } from '../batching/scheduler-client';
import { InferError, asInferError, invalidArgument, notFound, unavailable } from '../errors';
import type { NativeBatchScheduler } from '../native/addon';
import type { Preprocessor } from '../preprocess/preprocessor';
import type { ScoreResult } from '../postprocess/decision-bands';
import type { SharedModelHandle } from './attached-model';
import type { ModelConfig } from '../repository/model-config';
import type { BackendMode, ModelSettings } from '../repository/model-settings';
import type { VersionStatistics } from '../observability/model-statistics';
import { versionStatistics } from './version-statistics';
import { type Tensor, elementCount } from '../tensor';

export type { ScoreResult };

export interface InferOptions extends SubmitOptions {
  /** A loaded version; default: the newest loaded. */
  version?: number | string;
}

export interface TensorInferOptions extends InferOptions {
  /** Outputs to return; default: every output in config.pbtxt. */
  outputs?: readonly string[];
  /** Cancels the call (a Triton-served model cancels its RPC). */
  signal?: AbortSignal;
  /** KServe v2 request parameters, passed on to a Triton-served model. */
  parameters?: Record<string, string | number | boolean>;
}

export interface TensorInferResult {
  modelVersion: string;
  outputs: Record<string, Tensor>;
}

export interface LoadedVersion {
  version: number;
  backend: Backend;
  preprocessor: Preprocessor | undefined;
  /** Records go through the native batcher: its scheduler, and this thread's client of it. */
  batching: { scheduler: NativeBatchScheduler; client: SchedulerClient<ScoreResult> } | undefined;
  /** Forwards the version's batches to Triton (backend "triton..."); undefined when local. */
  forwarder: BatchForwarder | undefined;
  /** Called once the version has drained, before its backend closes. */
  release: () => void | Promise<void>;
}

export interface ModelStats {
  /** Requests admitted to a batch. */
  requests: number;
  batches: number;
  rows: number;
  /** Requests refused at admission, by reason. */
  rejected: { queueFull: number; deadline: number };
  /** Requests admitted and not yet executing. */
  queued: number;
  /** Sealed batches waiting for an executor. */
  readyBatches: number;
  /** Where batches run, and for Triton-served models how forwarding goes. */
  backend: {
    mode: BackendMode;
    /** Serving from the local session because no Triton replica is available. */
    degraded: boolean;
    /** Batches forwarded and answered by Triton, failed there, and run locally instead. */
    forwardedBatches: number;
    failedBatches: number;
    fallbackBatches: number;
    degradedEntries: number;
  };
}

export class Model {
  private readonly byVersion: Map<number, LoadedVersion>;
  private readonly newest: LoadedVersion;
  private inFlight = 0;
  private draining = false;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    readonly config: ModelConfig,
    readonly settings: ModelSettings,
    versions: LoadedVersion[],
    /** Where this model's batches run. */
    readonly backendMode: BackendMode = 'local',
  ) {
    this.byVersion = new Map(versions.map((v) => [v.version, v]));
    this.newest = this.byVersion.get(Math.max(...this.byVersion.keys())) as LoadedVersion;
  }

  get name(): string {
    return this.config.name;
  }

  /** Loaded versions, ascending. */
  get versions(): number[] {
    return [...this.byVersion.keys()].sort((a, b) => a - b);
  }

  get ready(): boolean {
    return this.closing === undefined;
  }

  /** SHA-256 of the preprocess.json a version uses (undefined if it takes tensors only). */
  preprocessHash(version?: number | string): string | undefined {
    return this.resolve(version).preprocessor?.hash;
  }

  /**
   * Scores one raw record: it is validated and encoded here, preprocessed natively straight into
   * its row of the open batch, run with the rest of its batch on an executor thread, and the score
   * comes back with its decision.
   */
  infer(record: unknown, options: InferOptions = {}): Promise<ScoreResult> {
    if (this.closing) return Promise.reject(unavailable(`model "${this.name}" is shutting down`, { model: this.name }));
    let v: LoadedVersion;
    try {
      v = this.resolve(options.version);
    } catch (err) {
      return Promise.reject(err);
    }
    const batching = v.batching;
    if (!batching) {
      return Promise.reject(
        invalidArgument(`model "${this.name}" has no preprocess.json, so it takes tensors, not records: use the KServe v2 infer API`, {
          model: this.name,
        }),
      );
    }
    // The client counts what is in flight (close() waits for it); its promise is the request's own.
    const result = batching.client.score(record, options);
    // While draining nobody waits for company: the request's batch runs now.
    if (this.draining) batching.scheduler.flush();
    return result;
  }

  /**
   * Scores many records; they share batches with each other and with concurrent requests. Each
   * record gets its own answer: a record that fails validation gets its error, the others a score.
   */
  async inferMany(records: readonly unknown[], options: InferOptions = {}): Promise<(ScoreResult | InferError)[]> {
    return Promise.all(records.map((r) => this.infer(r, options).catch((err: unknown) => asInferError(err, { model: this.name }))));
  }

  /** A handle another thread passes to AttachedModel.attach() to submit into the same batches. */
  share(): SharedModelHandle {
    const bands = this.settings.decisionBands;
    const versions = [...this.byVersion.values()].filter((v) => v.batching);
    return {
      model: this.name,
      versions: versions.map((v) => ({ version: v.version, scheduler: v.batching!.scheduler.name })),
      scoreIndex: this.settings.scoreIndex,
      decisionBands: bands && { bands: [...bands.bands], fallback: bands.fallback },
      priorityLevels: versions[0]?.batching?.client.priorityLevels ?? 1,
    };
  }

  /** Counters of the batchers of every loaded version. */
  stats(): ModelStats {
    const backend: ModelStats['backend'] = {
      mode: this.backendMode,
      degraded: false,
      forwardedBatches: 0,
      failedBatches: 0,
      fallbackBatches: 0,
      degradedEntries: 0,
    };
    const total: ModelStats = { requests: 0, batches: 0, rows: 0, rejected: { queueFull: 0, deadline: 0 }, queued: 0, readyBatches: 0, backend };
    for (const v of this.byVersion.values()) {
      const f = v.forwarder?.stats;
      if (f) {
        backend.degraded ||= f.degraded;
        backend.forwardedBatches += f.batches;
        backend.failedBatches += f.failedBatches;
        backend.fallbackBatches += f.fallbackBatches;
        backend.degradedEntries += f.degradedEntries;
      }
      const s = v.batching?.scheduler.stats();
      if (!s) continue;
      total.requests += s.accepted ?? 0;
      total.batches += s.batchesExecuted ?? 0;
      total.rows += s.rowsExecuted ?? 0;
      total.rejected.queueFull += s.rejectedQueueFull ?? 0;
      total.rejected.deadline += s.rejectedDeadlineUnmeetable ?? 0;
      total.queued += s.queueDepth ?? 0;
      total.readyBatches += s.readyBatches ?? 0;
    }
    return total;
  }

  /** Triton-shaped statistics of every loaded version (ModelStatistics, /v2/models/{name}/stats, /metrics). */
  statistics(): VersionStatistics[] {
    return [...this.byVersion.values()].map((v) => versionStatistics(this.name, v));
  }

  /** Runs already-preprocessed tensors (the KServe v2 infer API), checked against config.pbtxt. */
  async inferTensors(inputs: Record<string, Tensor>, options: TensorInferOptions = {}): Promise<TensorInferResult> {
    return this.track(async () => {
      const v = this.resolve(options.version);
      this.checkInputs(inputs);
      const outputs = options.outputs ?? this.config.outputs.map((o) => o.name);
      for (const name of outputs) {
        if (!this.config.outputs.some((o) => o.name === name)) {
          throw invalidArgument(
            `model "${this.name}" has no output "${name}"; its outputs are: ${this.config.outputs.map((o) => o.name).join(', ')}`,
            { field: name, model: this.name },
          );
        }
      }
      // A single preprocessed-row input, asking for the scored output only: the rows join the
      // batcher's batches (with records and other callers' rows) instead of running alone.
      const batching = v.batching;
      if (batching && outputs.length === 1 && outputs[0] === this.settings.scoreOutput && this.config.inputs.length === 1) {
        const input = inputs[this.config.inputs[0]!.name]!;
        if (input.data instanceof Float32Array) return { modelVersion: String(v.version), outputs: await this.batchRows(batching.client, input.data, input.shape[0]!, options) };
      }
      const timeoutMs = options.timeoutMicroseconds !== undefined && options.timeoutMicroseconds > 0 ? options.timeoutMicroseconds / 1000 : undefined;
      const call = {
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.parameters ? { parameters: options.parameters } : {}),
      };
      return { modelVersion: String(v.version), outputs: await v.backend.infer(inputs, outputs, call) };
    });
  }

  /** Submits each row to the batcher and assembles the score output of all of them. */
  private async batchRows(client: SchedulerClient<ScoreResult>, data: Float32Array, rows: number, options: TensorInferOptions): Promise<Record<string, Tensor>> {
    const spec = this.config.outputs.find((o) => o.name === this.settings.scoreOutput)!;
    const width = spec.dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(rows * width);
    const submit = { ...(options.priority !== undefined ? { priority: options.priority } : {}), ...(options.timeoutMicroseconds !== undefined ? { timeoutMicroseconds: options.timeoutMicroseconds } : {}) };
    const result = { [spec.name]: { datatype: 'FP32' as const, shape: [rows, ...spec.dims], data: out } };
    if (rows === 1) {
      // The common case (batch-of-one clients): one row, one promise, nothing to gather.
      const answer = client.submitRow(data, 0, out, 0, submit);
      if (this.draining) this.flushAll();
      await answer;
      return result;
    }
    const answers: Promise<void>[] = [];
    for (let r = 0; r < rows; r++) answers.push(client.submitRow(data, r, out, r, submit));
    if (this.draining) this.flushAll();
    // A request is atomic: a failing row fails it (the others still run, and are dropped).
    const settled = await Promise.allSettled(answers);
    const failed = settled.filter((x) => x.status === 'rejected') as PromiseRejectedResult[];
    const extra = client.rowsBeyondRequests;
    if (failed.length === 0) {
      extra.succeeded += rows - 1;
      return result;
    }
    // Rows refused at admission were never counted natively; the others were, as rows.
    const admitted = failed.filter((x) => !(x.reason instanceof InferError && x.reason.code === 'resource_exhausted')).length;
    extra.succeeded += rows - failed.length;
    extra.failed += Math.max(0, admitted - 1);
    throw failed[0]!.reason;
  }

  /** Seals every version's open batches now. */
  private flushAll(): void {
    for (const v of this.byVersion.values()) v.batching?.scheduler.flush();
  }

  /**
   * Shutdown, first step: requests are still taken, but no batch waits for its queue delay any
   * more, so everything admitted finishes promptly (the server drains its connections meanwhile).
   */
  drain(): void {
    this.draining = true;
    this.flushAll();
  }

  /** Stops taking requests, waits for those in flight, then releases every version's backend. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Requests waiting for company will get none: run their batches now.
      this.flushAll();
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      for (const v of this.byVersion.values()) {
        const client = v.batching?.client;
        if (client && client.outstanding > 0) await new Promise<void>((resolve) => (client.onIdle = resolve));
      }
      await Promise.all([...this.byVersion.values()].map((v) => v.release()));
      await Promise.all([...this.byVersion.values()].map((v) => v.backend.close()));
    })();
    return this.closing;
  }

  private checkInputs(inputs: Record<string, Tensor>): void {
    const model = this.name;
    const names = Object.keys(inputs);
    for (const name of names) {
      if (!this.config.inputs.some((i) => i.name === name)) {
        throw invalidArgument(`model "${model}" has no input "${name}"; its inputs are: ${this.config.inputs.map((i) => i.name).join(', ')}`, {
          field: name,
          model,
        });
      }
    }
    let batch: number | undefined;
    for (const spec of this.config.inputs) {
      const t = inputs[spec.name];
      if (!t) throw invalidArgument(`input "${spec.name}" is required by model "${model}"`, { field: spec.name, model });
      if (t.datatype !== spec.datatype) {
        throw invalidArgument(`input "${spec.name}" must have datatype ${spec.datatype}, got ${t.datatype}`, { field: spec.name, model });
      }
      const batched = this.config.maxBatchSize > 0;
      const expected = batched ? [-1, ...spec.dims] : spec.dims;
      const shapeOk =
        t.shape.length === expected.length &&
        t.shape.every((d, i) => Number.isInteger(d) && d >= 0 && (expected[i] === -1 || expected[i] === d));
      if (!shapeOk) {
        throw invalidArgument(`input "${spec.name}" must have shape [${expected.join(', ')}] (-1: any), got [${t.shape.join(', ')}]`, {
          field: spec.name,
          model,
        });
      }
      if (batched) {
        const b = t.shape[0] as number;
        if (b < 1 || b > this.config.maxBatchSize) {
          throw invalidArgument(`input "${spec.name}": batch size ${b} must be between 1 and max_batch_size ${this.config.maxBatchSize}`, {
            field: spec.name,
            model,
          });
        }
        if (batch !== undefined && b !== batch) {
          throw invalidArgument(`input "${spec.name}": batch size ${b} differs from the other inputs' ${batch}`, { field: spec.name, model });
        }
        batch = b;
      }
      if (t.data.length !== elementCount(t.shape)) {
        throw invalidArgument(`input "${spec.name}": shape [${t.shape.join(', ')}] needs ${elementCount(t.shape)} elements, got ${t.data.length}`, {
          field: spec.name,
          model,
        });
      }
    }
  }

  private resolve(version: number | string | undefined): LoadedVersion {
    if (version === undefined || version === '') return this.newest;
    const n = typeof version === 'number' ? version : /^[0-9]+$/.test(version) ? Number(version) : NaN;
    const v = this.byVersion.get(n);
    if (!v) {
      throw notFound(`model "${this.name}" has no version "${version}" loaded (loaded: ${this.versions.join(', ')})`, {
        model: this.name,
        field: 'version',
      });
    }
    return v;
  }

  /** Counts a request in flight for close(); no async frame of its own on the hot path. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(unavailable(`model "${this.name}" is shutting down`, { model: this.name }));
    let promise: Promise<T>;
    try {
      promise = work();
    } catch (err) {
      return Promise.reject(err);
    }
    this.inFlight++;
    const done = () => {
      if (--this.inFlight === 0 && this.drained) this.drained();
    };
    promise.then(done, done);
    return promise;
  }
}
