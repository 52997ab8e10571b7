// The replicas of one Triton cluster, and the policy over them:
//   - balancing: each call goes to the usable replica with the fewest calls in flight;
//   - health: ServerReady and ModelReady (for every watched model) are probed every interval; a
//     replica that fails a probe is ejected, and re-admitted when a probe passes again;
//   - retries: a call that fails with unavailable goes to another replica, at most maxAttempts
//     times in all and never past its deadline;
//   - a circuit breaker per replica (circuit-breaker.ts).
// Listeners hear when the cluster as a whole becomes unavailable or available again (fallback).

import type { Logger } from '../../observability/logger';
import type { ModelInferResponse } from './proto';
import type { InferRequestInit } from './request-types';
import { Replica, TritonCallError } from './replica';

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
/** Calls that may wait for a slot, per slot of capacity. */
const WAITERS_PER_SLOT = 4;
import type { ResolvedTritonClientOptions } from './triton-options';

export interface WatchedModel {
  name: string;
  /** "" = the server's choice of version. */
  version: string;
}

export interface ReplicaStats {
  endpoint: string;
  health: string;
  circuit: string;
  outstanding: number;
  calls: number;
  failures: number;
  lastError: string;
}

/** No replica could take the call, or every attempt failed with unavailable. */
export class TritonUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TritonUnavailableError';
  }
}

export class ReplicaPool {
  readonly replicas: Replica[];
  private readonly watched: WatchedModel[] = [];
  private readonly listeners = new Set<(available: boolean) => void>();
  private readonly readyHooks: ((r: Replica) => Promise<void>)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private wasAvailable: boolean | undefined;
  private rotation = 0;
  private inFlight = 0;
  private readonly waiters: { resolve: () => void; timer: NodeJS.Timeout | undefined }[] = [];
  private closed = false;
  retries = 0;

  constructor(
    readonly options: ResolvedTritonClientOptions,
    private readonly log: Logger,
  ) {
    this.replicas = options.endpoints.map((e) => new Replica(e, options));
  }

  /** Adds a model to the health probes. */
  watch(model: WatchedModel): void {
    if (!this.watched.some((m) => m.name === model.name && m.version === model.version)) this.watched.push(model);
  }

  unwatch(model: WatchedModel): void {
    const i = this.watched.findIndex((m) => m.name === model.name && m.version === model.version);
    if (i >= 0) this.watched.splice(i, 1);
  }

  /**
   * Runs `hook` on every replica before it is admitted (at start, and again after each ejection).
   * A hook that throws keeps the replica out; one that sets `replica.mismatch` keeps it out for good.
   */
  async onReplicaReady(hook: (r: Replica) => Promise<void>): Promise<void> {
    this.readyHooks.push(hook);
    // Replicas admitted before this hook existed get it now.
    await Promise.all(
      this.replicas
        .filter((r) => r.health === 'ready')
        .map((r) =>
          hook(r).catch((err: Error) => {
            r.lastError = err.message;
            this.eject(r, err.message);
          }),
        ),
    );
  }

  /** Calls `listener(available)` whenever the cluster's availability flips. Returns an unsubscribe. */
  onAvailability(listener: (available: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while at least one replica can take calls. */
  get available(): boolean {
    return this.replicas.some((r) => r.usable);
  }

  /** Calls in flight the pool accepts before batches wait in the scheduler. */
  get capacity(): number {
    return this.replicas.length * this.options.maxOutstandingPerReplica;
  }

  /** Starts the periodic probes, after one probe of every replica now. */
  async start(): Promise<void> {
    await this.probe();
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => void this.probe(), this.options.healthIntervalMs);
    this.timer.unref();
  }

  /** Probes every replica once (concurrent probes are coalesced). */
  probe(): Promise<void> {
    this.probing ??= Promise.all(this.replicas.map((r) => this.probeReplica(r))).then(() => {
      this.probing = undefined;
      this.notify();
    });
    return this.probing;
  }

  private async probeReplica(r: Replica): Promise<void> {
    const started = performance.now();
    const deadline = started + Math.max(this.options.healthIntervalMs, 1000);
    try {
      const server = await r.call<{ ready: boolean }>('ServerReady', {}, deadline);
      if (!server.ready) throw new Error('ServerReady answered not ready');
      for (const m of this.watched) {
        const model = await r.call<{ ready: boolean }>('ModelReady', { name: m.name, version: m.version }, deadline);
        if (!model.ready) throw new Error(`model "${m.name}"${m.version ? ` version ${m.version}` : ''} is not ready`);
      }
      if (r.health !== 'ready') {
        // A replica that is new or back from the dead (maybe restarted, with none of our state):
        // the hooks check its models and register shared memory before it takes a call.
        for (const hook of this.readyHooks) await hook(r);
        if (r.health === 'ejected') this.log.log('info', 'triton.replica_readmitted', { endpoint: r.endpoint });
        r.health = 'ready';
      }
    } catch (err) {
      // A probe that timed out behind a backlog on the shared channel, while calls keep succeeding,
      // says the replica is busy, not down.
      if (err instanceof TritonCallError && err.grpcCode === DEADLINE_EXCEEDED && r.health === 'ready' && r.lastSuccessAt >= started) return;
      r.lastError = (err as Error).message;
      if (r.health !== 'ejected') {
        this.log.log('warn', 'triton.replica_ejected', { endpoint: r.endpoint, reason: r.lastError });
        r.health = 'ejected';
      }
    }
  }

  /**
   * Takes a replica out at once (a refused connection, say) instead of at the next probe, and probes
   * soon: a replica that only answered one request "unavailable" is back within a probe.
   */
  private eject(r: Replica, reason: string): void {
    if (r.health === 'ejected') return;
    r.health = 'ejected';
    this.log.log('warn', 'triton.replica_ejected', { endpoint: r.endpoint, reason });
    this.notify();
    if (!this.closed) setTimeout(() => void this.probe(), Math.min(100, this.options.healthIntervalMs)).unref();
  }

  private notify(): void {
    const now = this.available;
    if (now === this.wasAvailable) return;
    this.wasAvailable = now;
    for (const l of this.listeners) l(now);
  }

  /** The usable replica with the fewest calls in flight, not among `tried`; rotation breaks ties. */
  private pick(tried: ReadonlySet<Replica>): Replica | undefined {
    let best: Replica | undefined;
    const n = this.replicas.length;
    const start = this.rotation++ % n;
    for (let k = 0; k < n; k++) {
      const r = this.replicas[(start + k) % n] as Replica;
      if (tried.has(r) || !r.usable) continue;
      if (!best || r.outstanding < best.outstanding) best = r;
    }
    return best;
  }

  /**
   * Sends one ModelInfer, retrying on another replica when a replica is unavailable, within
   * `deadlineAt` (ms, performance.now()'s clock) and maxAttempts.
   */
  async infer(request: InferRequestInit, deadlineAt: number, signal?: AbortSignal): Promise<ModelInferResponse> {
    await this.admit(deadlineAt);
    try {
      return await this.send(request, deadlineAt, signal);
    } finally {
      this.release();
    }
  }

  /**
   * Bounds the calls in flight to the pool's capacity; past it a call waits its turn in a bounded
   * FIFO (resource_exhausted beyond that, or when its deadline passes while it waits). Keeps a
   * backlog in infergate, where it is bounded and ordered, not queued on the channels.
   */
  private admit(deadlineAt: number): Promise<void> {
    if (this.inFlight < this.capacity) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.capacity * WAITERS_PER_SLOT) {
      return Promise.reject(new TritonCallError('-', 'ModelInfer', RESOURCE_EXHAUSTED, `${this.inFlight} calls in flight and ${this.waiters.length} waiting: the Triton pool is full`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, timer: undefined as NodeJS.Timeout | undefined };
      waiter.timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new TritonCallError('-', 'ModelInfer', DEADLINE_EXCEEDED, 'the deadline passed while the call waited for a free slot'));
      }, Math.max(0, deadlineAt - performance.now()));
      waiter.timer.unref();
      this.waiters.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    } else {
      this.inFlight--;
    }
  }

  private async send(request: InferRequestInit, deadlineAt: number, signal?: AbortSignal): Promise<ModelInferResponse> {
    const tried = new Set<Replica>();
    let last: Error | undefined;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      if (signal?.aborted) throw new TritonCallError('-', 'ModelInfer', 1, 'cancelled by the caller');
      if (attempt > 0 && performance.now() >= deadlineAt) break;
      const r = this.pick(tried);
      if (!r) break;
      if (!r.breaker.acquire()) {
        tried.add(r);
        continue;
      }
      tried.add(r);
      if (attempt > 0) this.retries++;
      try {
        const res = await r.call<ModelInferResponse>('ModelInfer', request, deadlineAt, signal);
        r.breaker.success();
        return res;
      } catch (err) {
        last = err as Error;
        if (!(err instanceof TritonCallError)) {
          r.breaker.release();
          throw err;
        }
        if (err.replicaFault) {
          r.breaker.failure();
          r.lastError = err.message;
          if (err.grpcCode === UNAVAILABLE) this.eject(r, err.message);
        } else {
          r.breaker.release();
        }
        if (!err.retryable) throw err;
      }
    }
    this.notify();
    if (last instanceof TritonCallError && !last.retryable) throw last;
    throw new TritonUnavailableError(this.describeUnavailable(last));
  }

  /** One call to some usable replica (metadata, config, shared-memory registration). */
  async callAny<Res>(method: string, request: unknown, timeoutMs = this.options.defaultTimeoutMs): Promise<Res> {
    const r = this.pick(new Set());
    if (!r) throw new TritonUnavailableError(this.describeUnavailable(undefined));
    return r.call<Res>(method, request, performance.now() + timeoutMs);
  }

  private describeUnavailable(last: Error | undefined): string {
    const states = this.replicas
      .map((r) => `${r.endpoint}: ${r.mismatch ? 'model mismatch' : r.health}, circuit ${r.breaker.state}${r.lastError ? ` (${r.lastError})` : ''}`)
      .join('; ');
    return `no Triton replica could run the request${last ? ` (last error: ${last.message})` : ''} [${states}]`;
  }

  stats(): ReplicaStats[] {
    return this.replicas.map((r) => ({
      endpoint: r.endpoint,
      health: r.health,
      circuit: r.breaker.state,
      outstanding: r.outstanding,
      calls: r.calls,
      failures: r.failures,
      lastError: r.lastError,
    }));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    for (const r of this.replicas) r.close();
  }
}
