// The runtime's connections to Triton clusters: one replica pool per endpoint list, shared by the
// models served there, and the per-version wiring — health probes for the model, the load-time
// check of the server's model against config.pbtxt, shared-memory registration, and the
// forwarder that sends the version's sealed batches.

import { BatchForwarder, type LocalFallback } from '../backends/triton/batch-forwarder';
import { TritonModelMismatchError, compareModel } from '../backends/triton/model-check';
import type { ModelConfigResponse, ModelMetadataResponse, ServerMetadataResponse } from '../backends/triton/proto';
import type { Replica } from '../backends/triton/replica';
import { ReplicaPool, type WatchedModel } from '../backends/triton/replica-pool';
import { type RegionSpec, registerRegion, unregisterOrphans, unregisterRegion } from '../backends/triton/shared-memory';
import { TritonBackend } from '../backends/triton/triton-backend';
import { type TritonClientOptions, resolveTritonOptions } from '../backends/triton/triton-options';
import { type NativeBatchScheduler, nativeAddon } from '../native/addon';
import type { Logger } from '../observability/logger';
import type { ModelConfig } from '../repository/model-config';

/** Runtime-level Triton options; endpoints here override every model's `infergate.triton.endpoints`. */
export interface TritonRuntimeOptions extends Partial<TritonClientOptions> {
  /** Use system shared memory for every Triton-served model (co-located servers only). */
  sharedMemory?: boolean;
}

export interface TritonVersionSpec {
  config: ModelConfig;
  endpoints: string[];
  remote: WatchedModel;
}

const CHECK_MS = 5000;

export class TritonLink {
  private readonly pools = new Map<string, ReplicaPool>();
  private readonly sweptOrphans = new WeakSet<ReplicaPool>();
  private sweptFiles = false;

  constructor(
    private readonly options: TritonRuntimeOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Unlinks the /dev/shm objects of infergate processes that died without cleaning up; once, before
   * the first shared-memory scheduler is created (a new process may reuse a dead one's pid).
   */
  sweepSharedMemoryOnce(): void {
    if (this.sweptFiles) return;
    this.sweptFiles = true;
    for (const key of nativeAddon().sweepSharedMemory()) this.log.log('info', 'triton.shm_orphan_unlinked', { key });
  }

  /** The endpoints a model uses: the runtime's, else its config's; an error naming both when neither. */
  endpointsFor(model: string, fromConfig: string[] | undefined): string[] {
    const e = this.options.endpoints ?? fromConfig;
    if (!e || e.length === 0) {
      throw new Error(`model "${model}" runs on Triton but no endpoints are set: give "infergate.triton.endpoints" in config.pbtxt or the runtime's triton.endpoints`);
    }
    return e;
  }

  private pool(endpoints: string[]): ReplicaPool {
    const key = endpoints.join(',');
    let p = this.pools.get(key);
    if (!p) {
      p = new ReplicaPool(resolveTritonOptions({ ...this.options, endpoints }), this.log);
      this.pools.set(key, p);
    }
    return p;
  }

  /**
   * Connects a model version: probes the replicas, checks the server's model against config.pbtxt
   * (a mismatch fails the load), and returns the tensor backend. `requireReplica`: fail the load
   * when no replica is ready (no local fallback).
   */
  async connect(spec: TritonVersionSpec, requireReplica: boolean): Promise<{ pool: ReplicaPool; backend: TritonBackend }> {
    const pool = this.pool(spec.endpoints);
    pool.watch(spec.remote);
    await pool.onReplicaReady((r) => checkReplica(r, spec));
    await pool.start();
    const mismatched = pool.replicas.find((r) => r.mismatch !== undefined);
    if (mismatched) throw new Error(mismatched.mismatch);
    if (requireReplica && !pool.available) {
      const states = pool.stats().map((s) => `${s.endpoint}: ${s.lastError || s.health}`).join('; ');
      throw new Error(`model "${spec.config.name}": no Triton replica is ready [${states}]`);
    }
    return { pool, backend: new TritonBackend(pool, spec.config, spec.remote.name, spec.remote.version) };
  }

  /**
   * Starts forwarding a scheduler's batches. With shared memory, the scheduler's region is
   * registered on every replica first (and again on each that comes back). Returns the release.
   */
  async forward(
    pool: ReplicaPool,
    scheduler: NativeBatchScheduler,
    spec: TritonVersionSpec,
    target: { input: string; output: string; sendPriority: boolean },
    fallback: LocalFallback | undefined,
    sharedMemory: boolean,
  ): Promise<{ forwarder: BatchForwarder; release: () => Promise<void> }> {
    let region: RegionSpec | undefined;
    if (sharedMemory) {
      const r = scheduler.sharedMemoryRegion();
      if (!r) throw new Error(`the scheduler of model "${spec.config.name}" has no shared-memory region`);
      region = { name: r.key.replace(/^\//, ''), key: r.key, byteSize: r.byteSize };
      if (!this.sweptOrphans.has(pool)) {
        this.sweptOrphans.add(pool);
        await pool.onReplicaReady((rep) => unregisterOrphans(rep, this.log).then(() => undefined));
      }
      const reg = region;
      await pool.onReplicaReady((rep) => registerRegion(rep, reg));
    }
    const forwarder = new BatchForwarder(
      scheduler,
      pool,
      { model: spec.remote.name, version: spec.remote.version, ...target },
      this.log,
      fallback,
      region && { region: region.name },
    );
    const release = async () => {
      forwarder.close();
      pool.unwatch(spec.remote);
      if (region) {
        const name = region.name;
        await Promise.all(
          pool.replicas
            .filter((r) => r.health === 'ready')
            .map((r) => unregisterRegion(r, name).catch((err: Error) => this.log.log('warn', 'triton.shm_unregister_failed', { endpoint: r.endpoint, region: name, error: err.message }))),
        );
      }
    };
    return { forwarder, release };
  }

  /** Replica states of every cluster, for stats. */
  stats(): ReturnType<ReplicaPool['stats']> {
    return [...this.pools.values()].flatMap((p) => p.stats());
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}

/** The load-time check on one replica; a mismatch keeps that replica out for good. */
async function checkReplica(r: Replica, spec: TritonVersionSpec): Promise<void> {
  const deadline = performance.now() + CHECK_MS;
  const request = { name: spec.remote.name, version: spec.remote.version };
  const metadata = await r.call<ModelMetadataResponse>('ModelMetadata', request, deadline);
  // Servers that do not offer the configuration extension still give metadata; compare what there is.
  const config = await r.call<ModelConfigResponse>('ModelConfig', request, deadline).catch(() => undefined);
  const server = await r.call<ServerMetadataResponse>('ServerMetadata', {}, deadline).catch(() => undefined);
  if (server) r.serverVersion = server.version;
  const problems = compareModel(spec.config, metadata, config);
  if (problems.length > 0) {
    r.mismatch = new TritonModelMismatchError(r.endpoint, spec.remote.name, problems).message;
    throw new Error(r.mismatch);
  }
}
