// A served model, stable across reloads: the generation it serves now (config.pbtxt and the
// versions loaded from it), the traffic policy that picks a version per request (primary, canary,
// pinned by the caller) and copies requests to a shadow, and the observers of its answers
// (prediction log, drift). The embedded API and the servers hold this object; a hot swap replaces
// the generation inside it in one assignment, so no caller ever holds a retired model.

import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type { SubmitOptions } from '../batching/scheduler-client';
import { InferError, asInferError, invalidArgument, notFound, unavailable } from '../errors';
import type { ScoreResult } from '../postprocess/decision-bands';
import type { SharedModelHandle } from './attached-model';
import type { ModelConfig } from '../repository/model-config';
import type { BackendMode, ModelSettings } from '../repository/model-settings';
import type { VersionStatistics } from '../observability/model-statistics';
import { goesToCanary, recordKey } from '../routing/canary-split';
import { type ShadowAnswer, type ShadowSink, ShadowTraffic, type ShadowTrafficStats } from '../routing/shadow-traffic';
import { type ResolvedTraffic, type TrafficPolicy, describeTraffic, resolveTraffic } from '../routing/traffic-policy';
import { type LoadedVersion, type ModelGeneration, shadowKey } from './model-generation';
import { type ObservedRequest, PredictionObserver, type PredictionSink, nextRequestId } from './prediction-observer';
import { versionStatistics } from './version-statistics';
import { type Tensor, elementCount } from '../tensor';

export type { ScoreResult, LoadedVersion };

export interface InferOptions extends SubmitOptions {
  /** A loaded version, bypassing the traffic policy; default: the policy's choice. */
  version?: number | string;
  /** The canary's sticky key (e.g. a customer id); default: the record's field named by the policy. */
  routingKey?: string;
  /** The id written to the prediction log; default: generated. */
  requestId?: string;
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

/** The shadow comparator as the model sees it: fed pairs, read as a JSON summary. */
export interface ShadowComparison extends ShadowSink {
  summary(): object;
}

/** The drift monitor as the model sees it. */
export interface DriftWatch {
  observe(score: number): void;
  state(): object;
}

/** What a model needs from its runtime to observe and compare. */
export interface ModelServices {
  predictionLog?: PredictionSink;
  /** A fresh comparator each time a shadow starts. */
  shadowComparator: () => ShadowComparison;
}

/** What a swap or a traffic change did, for the caller (and `infergate rollback`) to report. */
export interface TrafficChange {
  model: string;
  from: TrafficPolicy;
  to: TrafficPolicy;
}

/** The options of a call that passes none: shared, so the hot path allocates no object for them. */
const NO_OPTIONS: InferOptions = Object.freeze({});

/** Traffic policies kept for rollback. */
const HISTORY_LIMIT = 16;

type ShadowInput = { record: unknown } | { row: Float32Array };

export class Model {
  private gen: ModelGeneration;
  private traffic: ResolvedTraffic;
  private shadow: ShadowTraffic<ShadowInput> | undefined;
  private comparison: ShadowComparison | undefined;
  private readonly observer: PredictionObserver;
  /** Earlier policies, newest last: rollback returns to the last one whose primary differs. */
  private readonly history: TrafficPolicy[] = [];
  private draining = false;
  /** The side of the policy the last route() took. */
  private routedAs: ObservedRequest['traffic'] = 'primary';
  /** Where new handles for attached threads are posted (see share()). */
  private readonly updatesChannel = `infergate:model:${randomUUID()}`;
  /** Off while constructing: nobody can have attached yet. */
  private announceChanges = false;
  private closing: Promise<void> | undefined;
  /** Generations swapped out and still finishing their requests (their counters still count). */
  private readonly retiring = new Map<ModelGeneration, Promise<void>>();
  /** Counters of generations already retired, so that totals never go backwards. */
  private readonly retiredTotals = { requests: 0, batches: 0, rows: 0, queueFull: 0, deadline: 0 };

  constructor(
    generation: ModelGeneration,
    policy: TrafficPolicy,
    private readonly services: ModelServices,
    private drift?: DriftWatch,
  ) {
    this.gen = generation;
    this.traffic = resolveTraffic(generation.config.name, policy, generation.versions, generation.mode);
    this.observer = new PredictionObserver(generation.config.name, services.predictionLog);
    watchScores(generation, drift);
    this.startShadow();
    this.announceChanges = true;
  }

  get name(): string {
    return this.gen.config.name;
  }

  get config(): ModelConfig {
    return this.gen.config;
  }

  get settings(): ModelSettings {
    return this.gen.settings;
  }

  /** Where this model's batches run. */
  get backendMode(): BackendMode {
    return this.gen.mode;
  }

  /** The generation serving now (the runtime builds and swaps them). */
  get generation(): ModelGeneration {
    return this.gen;
  }

  /** Loaded versions, ascending. */
  get versions(): number[] {
    return this.gen.versions;
  }

  get ready(): boolean {
    return this.closing === undefined;
  }

  /** The traffic policy in force, defaults filled in. */
  get trafficPolicy(): TrafficPolicy {
    return describeTraffic(this.traffic);
  }

  /** The policy a rollback would restore (the last one with another primary), if any. */
  get previousPolicy(): TrafficPolicy | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (this.history[i]!.primary !== this.traffic.primary) return this.history[i];
    }
    return undefined;
  }

  /** SHA-256 of the preprocess.json a version uses (undefined if it takes tensors only). */
  preprocessHash(version?: number | string): string | undefined {
    return this.pinned(version).preprocessor?.hash;
  }

  /**
   * Scores one raw record: it is validated and encoded here, preprocessed natively straight into
   * its row of the open batch, run with the rest of its batch on an executor thread, and the score
   * comes back with its decision. The traffic policy picks the version unless `options.version` does.
   */
  infer(record: unknown, options: InferOptions = NO_OPTIONS): Promise<ScoreResult> {
    if (this.closing) return Promise.reject(unavailable(`model "${this.name}" is shutting down`, { model: this.name }));
    let v: LoadedVersion;
    let arm: ObservedRequest['traffic'];
    try {
      v = this.route(options, record);
      arm = this.routedAs;
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
    // The client counts what is in flight (retiring waits for it); its promise is the request's own.
    const result = this.observer.active
      ? this.observer.record((onBatch) => batching.client.score(record, options, onBatch), record, {
          requestId: options.requestId ?? nextRequestId(),
          version: v,
          traffic: arm,
          startedAt: performance.now(),
        })
      : batching.client.score(record, options);
    // While draining nobody waits for company: the request's batch runs now.
    if (this.draining) batching.scheduler.flush();
    // Requests that name their version are outside the policy: no copy (it could even be the shadow's).
    if (arm !== 'pinned') this.shadow?.offer({ record }, result);
    return result;
  }

  /**
   * Scores many records; they share batches with each other and with concurrent requests. Each
   * record gets its own answer: a record that fails validation gets its error, the others a score.
   */
  async inferMany(records: readonly unknown[], options: InferOptions = {}): Promise<(ScoreResult | InferError)[]> {
    return Promise.all(records.map((r) => this.infer(r, options).catch((err: unknown) => asInferError(err, { model: this.name }))));
  }

  /**
   * A handle another thread passes to AttachedModel.attach() to submit into the same batches. After
   * each swap the new generation's handle is posted on `updates` (a BroadcastChannel), so attached
   * threads follow reloads and rollbacks without failing a request.
   */
  share(): SharedModelHandle {
    const bands = this.settings.decisionBands;
    const versions = [...this.gen.byVersion.values()].filter((v) => v.batching);
    return {
      model: this.name,
      updates: this.updatesChannel,
      versions: versions.map((v) => ({ version: v.version, scheduler: v.batching!.scheduler.name })),
      scoreIndex: this.settings.scoreIndex,
      decisionBands: bands && { bands: [...bands.bands], fallback: bands.fallback },
      priorityLevels: versions[0]?.batching?.client.priorityLevels ?? 1,
      primary: this.traffic.primary,
      canary: this.traffic.canary && { ...this.traffic.canary },
    };
  }

  /** Counters of the batchers of every loaded version (and of those retired, so totals only grow). */
  stats(): ModelStats {
    const backend: ModelStats['backend'] = {
      mode: this.backendMode,
      degraded: false,
      forwardedBatches: 0,
      failedBatches: 0,
      fallbackBatches: 0,
      degradedEntries: 0,
    };
    const r = this.retiredTotals;
    const total: ModelStats = {
      requests: r.requests,
      batches: r.batches,
      rows: r.rows,
      rejected: { queueFull: r.queueFull, deadline: r.deadline },
      queued: 0,
      readyBatches: 0,
      backend,
    };
    for (const v of this.gen.byVersion.values()) {
      const f = v.forwarder?.stats;
      if (f) {
        backend.degraded ||= f.degraded;
        backend.forwardedBatches += f.batches;
        backend.failedBatches += f.failedBatches;
        backend.fallbackBatches += f.fallbackBatches;
        backend.degradedEntries += f.degradedEntries;
      }
    }
    for (const v of [this.gen, ...this.retiring.keys()].flatMap((g) => [...g.byVersion.values()])) {
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
    return [...this.gen.byVersion.values()].map((v) => versionStatistics(this.name, v));
  }

  /** The shadow's comparison with the primary, and its queue's counters; undefined when no shadow runs. */
  shadowReport(): { policy: NonNullable<TrafficPolicy['shadow']>; traffic: ShadowTrafficStats; comparison: object } | undefined {
    if (!this.shadow || !this.comparison || !this.traffic.shadow) return undefined;
    return { policy: { ...this.traffic.shadow }, traffic: this.shadow.stats(), comparison: this.comparison.summary() };
  }

  /** The live score distribution against the model's reference (undefined: no reference configured). */
  driftState(): object | undefined {
    return this.drift?.state();
  }

  /** Observer failures (a prediction log or drift monitor that threw); answers are never affected. */
  get observerFailures(): number {
    return this.observer.failures;
  }

  /**
   * Sets the traffic policy at once (blue/green is a change of `primary`). It must name loaded
   * versions; a shadow on another backend needs its instance, which Runtime.setTraffic loads.
   */
  setTraffic(policy: TrafficPolicy): TrafficChange {
    const resolved = resolveTraffic(this.name, policy, this.gen.versions, this.gen.mode);
    const s = resolved.shadow;
    if (s && s.backend !== this.gen.mode && !this.gen.shadowInstances.has(shadowKey(s.version, s.backend))) {
      throw invalidArgument(
        `model "${this.name}": no instance of version ${s.version} on backend "${s.backend}" is loaded for the shadow; set it through Runtime.setTraffic, which loads it`,
        { model: this.name, field: 'shadow.backend' },
      );
    }
    this.checkShadowTakesRecords(resolved);
    return this.apply(resolved);
  }

  /**
   * Serves `next` from now on (one assignment: a request is routed wholly by the old generation or
   * wholly by the new), and retires the old one once its requests are answered (`retired`).
   */
  swap(next: ModelGeneration, policy: TrafficPolicy, drift: DriftWatch | undefined): { change: TrafficChange; retired: Promise<void> } {
    if (this.closing) throw unavailable(`model "${this.name}" is shutting down`, { model: this.name });
    const resolved = resolveTraffic(next.config.name, policy, next.versions, next.mode);
    const old = this.gen;
    this.gen = next;
    this.drift = drift;
    watchScores(next, drift);
    const change = this.apply(resolved);
    if (this.draining) next.flush();
    return { change, retired: this.retire(old) };
  }

  /** Runs already-preprocessed tensors (the KServe v2 infer API), checked against config.pbtxt. */
  inferTensors(inputs: Record<string, Tensor>, options: TensorInferOptions = {}): Promise<TensorInferResult> {
    if (this.closing) return Promise.reject(unavailable(`model "${this.name}" is shutting down`, { model: this.name }));
    const gen = this.gen;
    let work: Promise<TensorInferResult>;
    try {
      work = this.runTensors(gen, inputs, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return gen.track(work);
  }

  private async runTensors(gen: ModelGeneration, inputs: Record<string, Tensor>, options: TensorInferOptions): Promise<TensorInferResult> {
    const v = this.route(options, undefined, gen);
    const arm = this.routedAs;
    this.checkInputs(gen.config, inputs);
    const outputs = options.outputs ?? gen.config.outputs.map((o) => o.name);
    for (const name of outputs) {
      if (!gen.config.outputs.some((o) => o.name === name)) {
        throw invalidArgument(
          `model "${this.name}" has no output "${name}"; its outputs are: ${gen.config.outputs.map((o) => o.name).join(', ')}`,
          { field: name, model: this.name },
        );
      }
    }
    // A single preprocessed-row input, asking for the scored output only: the rows join the
    // batcher's batches (with records and other callers' rows) instead of running alone.
    if (v.batching && outputs.length === 1 && outputs[0] === gen.settings.scoreOutput && gen.config.inputs.length === 1) {
      const input = inputs[gen.config.inputs[0]!.name]!;
      if (input.data instanceof Float32Array) {
        return { modelVersion: String(v.version), outputs: await this.batchRows(gen, v, arm, input.data, input.shape[0]!, options) };
      }
    }
    const timeoutMs = options.timeoutMicroseconds !== undefined && options.timeoutMicroseconds > 0 ? options.timeoutMicroseconds / 1000 : undefined;
    const call = {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.parameters ? { parameters: options.parameters } : {}),
    };
    return { modelVersion: String(v.version), outputs: await v.backend.infer(inputs, outputs, call) };
  }

  /** Submits each row to the batcher and assembles the score output of all of them. */
  private async batchRows(
    gen: ModelGeneration,
    v: LoadedVersion,
    arm: ObservedRequest['traffic'],
    data: Float32Array,
    rows: number,
    options: TensorInferOptions,
  ): Promise<Record<string, Tensor>> {
    const client = v.batching!.client;
    const spec = gen.config.outputs.find((o) => o.name === gen.settings.scoreOutput)!;
    const width = spec.dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(rows * width);
    const submit = {
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(options.timeoutMicroseconds !== undefined ? { timeoutMicroseconds: options.timeoutMicroseconds } : {}),
    };
    const result = { [spec.name]: { datatype: 'FP32' as const, shape: [rows, ...spec.dims], data: out } };
    const inputWidth = data.length / rows;
    const watched = this.shadow !== undefined || this.observer.active;
    const requestId = watched ? (options.requestId ?? nextRequestId()) : '';
    const startedAt = watched ? performance.now() : 0;
    const scoreIndex = gen.settings.scoreIndex;
    const bands = gen.settings.decisionBands;
    // Only a watched request (a shadow, a prediction log) pays for the closures below.
    const watch = !watched
      ? undefined
      : (answer: Promise<number>, r: number): void => {
          const row = data.subarray(r * inputWidth, (r + 1) * inputWidth);
          const score = (): number => out[r * width + scoreIndex] as number;
          const decide = (s: number): string | undefined => bands?.decide(s);
          if (this.shadow && arm !== 'pinned') this.shadow.offer({ row }, answer.then(() => ({ score: score(), decision: decide(score()) })));
          if (this.observer.active) {
            const requestOf = { requestId: rows === 1 ? requestId : `${requestId}/${r}`, version: v, traffic: arm, startedAt };
            this.observer.row(answer, row, score, decide, requestOf);
          }
        };
    if (rows === 1) {
      // The common case (batch-of-one clients): one row, one promise, nothing to gather.
      const answer = client.submitRow(data, 0, out, 0, submit);
      if (this.draining) gen.flush();
      watch?.(answer, 0);
      await answer;
      return result;
    }
    const answers: Promise<number>[] = [];
    for (let r = 0; r < rows; r++) {
      const answer = client.submitRow(data, r, out, r, submit);
      answers.push(answer);
      watch?.(answer, r);
    }
    if (this.draining) gen.flush();
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

  /**
   * Shutdown, first step: requests are still taken, but no batch waits for its queue delay any
   * more, so everything admitted finishes promptly (the server drains its connections meanwhile).
   */
  drain(): void {
    this.draining = true;
    this.gen.flush();
  }

  /** Stops taking requests, waits for those in flight, then releases every version's backend. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.shadow?.close();
      await this.retire(this.gen);
      await Promise.all([...this.retiring.values()]);
    })();
    return this.closing;
  }

  /** Tells attached threads (AttachedModel) which batchers serve now. */
  private announce(): void {
    const channel = new BroadcastChannel(this.updatesChannel);
    try {
      channel.postMessage(this.share());
    } finally {
      channel.close();
    }
  }

  /**
   * Picks the version for a request: pinned by the caller, else canary or primary; which of these
   * it was is left in `routedAs` for the caller to read at once (no pair allocated per request).
   */
  private route(options: InferOptions, record: unknown, gen: ModelGeneration = this.gen): LoadedVersion {
    if (options.version !== undefined && options.version !== '') {
      this.routedAs = 'pinned';
      return this.pinned(options.version, gen);
    }
    const t = this.traffic;
    const c = t.canary;
    if (c && goesToCanary(c.percent, options.routingKey ?? recordKey(record, c.key))) {
      const v = gen.byVersion.get(c.version);
      if (v) {
        this.routedAs = 'canary';
        return v;
      }
    }
    this.routedAs = 'primary';
    // A generation swapped in under a request still being validated has the primary, or its newest.
    return gen.byVersion.get(t.primary) ?? gen.newest;
  }

  private pinned(version: number | string | undefined, gen: ModelGeneration = this.gen): LoadedVersion {
    if (version === undefined || version === '') return gen.byVersion.get(this.traffic.primary) ?? gen.newest;
    const n = typeof version === 'number' ? version : /^[0-9]+$/.test(version) ? Number(version) : NaN;
    const v = gen.byVersion.get(n);
    if (!v) {
      throw notFound(`model "${this.name}" has no version "${version}" loaded (loaded: ${gen.versions.join(', ')})`, {
        model: this.name,
        field: 'version',
      });
    }
    return v;
  }

  private apply(resolved: ResolvedTraffic): TrafficChange {
    // A record may carry the canary's key field beside its features.
    for (const v of this.gen.instances()) if (v.preprocessor) v.preprocessor.encoder.routingField = resolved.canary?.key;
    const from = describeTraffic(this.traffic);
    const shadowChanged = JSON.stringify(resolved.shadow) !== JSON.stringify(this.traffic.shadow);
    this.traffic = resolved;
    if (from.primary !== resolved.primary) {
      this.history.push(from);
      if (this.history.length > HISTORY_LIMIT) this.history.shift();
    }
    if (shadowChanged) this.startShadow();
    if (this.announceChanges) this.announce();
    return { model: this.name, from, to: describeTraffic(resolved) };
  }

  /** (Re)starts the shadow for the current policy, with a fresh comparison. */
  private startShadow(): void {
    this.shadow?.close();
    this.shadow = undefined;
    this.comparison = undefined;
    const s = this.traffic.shadow;
    if (!s) return;
    const comparison = this.services.shadowComparator();
    this.comparison = comparison;
    this.shadow = new ShadowTraffic<ShadowInput>(
      s,
      comparison,
      (input) => this.runShadow(input),
      // A view, not a copy: the comparator copies the few inputs it keeps (disagreements).
      (input) => ('record' in input ? input.record : { features: input.row }),
    );
  }

  /** Runs one copy on the shadow instance of the generation serving now. */
  private runShadow(input: ShadowInput): Promise<ShadowAnswer> {
    const s = this.traffic.shadow;
    if (!s) return Promise.reject(unavailable(`model "${this.name}": the shadow was stopped`, { model: this.name }));
    const gen = this.gen;
    const target = s.backend === gen.mode ? gen.byVersion.get(s.version) : gen.shadowInstances.get(shadowKey(s.version, s.backend));
    const batching = target?.batching;
    if (!batching) return Promise.reject(unavailable(`model "${this.name}": the shadow's version ${s.version} is not loaded`, { model: this.name }));
    // Unobserved: a copy's score is no live answer, so it stays out of the drift window.
    if ('record' in input) return batching.client.score(input.record, {}, undefined, true);
    const out = new Float32Array(batching.scheduler.outputWidth);
    const bands = gen.settings.decisionBands;
    return batching.client.submitRow(input.row, 0, out, 0, {}, true).then(() => {
      const score = out[gen.settings.scoreIndex] as number;
      return { score, decision: bands?.decide(score) };
    });
  }

  private checkShadowTakesRecords(resolved: ResolvedTraffic): void {
    const s = resolved.shadow;
    if (!s) return;
    const target = s.backend === this.gen.mode ? this.gen.byVersion.get(s.version) : this.gen.shadowInstances.get(shadowKey(s.version, s.backend));
    if (!target?.batching) {
      throw invalidArgument(`model "${this.name}": the shadow's version ${s.version} has no preprocess.json, so it cannot score the primary's records`, {
        model: this.name,
        field: 'shadow.version',
      });
    }
  }

  private retire(gen: ModelGeneration): Promise<void> {
    const existing = this.retiring.get(gen);
    if (existing) return existing;
    const done = gen.retire().then(() => {
      this.retiring.delete(gen);
      // The serving generation retires only at close: its counters stay where stats() reads them.
      if (gen === this.gen) return;
      for (const v of gen.byVersion.values()) {
        const s = v.batching?.scheduler.stats();
        if (!s) continue;
        this.retiredTotals.requests += s.accepted ?? 0;
        this.retiredTotals.batches += s.batchesExecuted ?? 0;
        this.retiredTotals.rows += s.rowsExecuted ?? 0;
        this.retiredTotals.queueFull += s.rejectedQueueFull ?? 0;
        this.retiredTotals.deadline += s.rejectedDeadlineUnmeetable ?? 0;
      }
    });
    this.retiring.set(gen, done);
    return done;
  }

  private checkInputs(config: ModelConfig, inputs: Record<string, Tensor>): void {
    const model = this.name;
    const names = Object.keys(inputs);
    for (const name of names) {
      if (!config.inputs.some((i) => i.name === name)) {
        throw invalidArgument(`model "${model}" has no input "${name}"; its inputs are: ${config.inputs.map((i) => i.name).join(', ')}`, {
          field: name,
          model,
        });
      }
    }
    let batch: number | undefined;
    for (const spec of config.inputs) {
      const t = inputs[spec.name];
      if (!t) throw invalidArgument(`input "${spec.name}" is required by model "${model}"`, { field: spec.name, model });
      if (t.datatype !== spec.datatype) {
        throw invalidArgument(`input "${spec.name}" must have datatype ${spec.datatype}, got ${t.datatype}`, { field: spec.name, model });
      }
      const batched = config.maxBatchSize > 0;
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
        if (b < 1 || b > config.maxBatchSize) {
          throw invalidArgument(`input "${spec.name}": batch size ${b} must be between 1 and max_batch_size ${config.maxBatchSize}`, {
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
}

/** Hands every score a generation's versions answer to the drift monitor, as batches are delivered. */
function watchScores(gen: ModelGeneration, drift: DriftWatch | undefined): void {
  // A model that answers NaN (or a monitor that throws) must not stop the delivery of a batch.
  const observe =
    drift &&
    ((score: number) => {
      if (Number.isFinite(score)) drift.observe(score);
    });
  for (const v of gen.byVersion.values()) if (v.batching) v.batching.client.onScore = observe;
}
