// The entry point of the embedded API: load a model repository, hand out models, change what they
// serve while they serve (reload, hot swap, traffic policy, rollback), close.
//
//   const rt = await Runtime.load({ repository: 'models' });
//   const r = await rt.model('fraud').infer(record);   // { score, decision, modelVersion, batchSize }
//   await rt.loadModel('fraud');                        // picks up a new version folder, warmed, hot
//   await rt.rollback('fraud');                         // back to the version served before
//   await rt.close();

import * as path from 'node:path';
import { OnnxExecutor } from '../backends/onnx/onnx-executor';
import type { BatchingOptions } from '../batching/batching-options';
import { invalidArgument, modelNotLoaded, notFound, unavailable } from '../errors';
import { DriftMonitor } from '../observability/drift-monitor';
import { readScoreReference } from '../observability/score-reference';
import { type Logger, stderrLogger } from '../observability/logger';
import { PredictionLog, type PredictionLogOptions } from '../observability/prediction-log';
import { type BackendMode, readModelSettings } from '../repository/model-settings';
import { type ModelDescription, describeModel, listModels } from '../repository/repository';
import { ShadowComparator } from '../routing/shadow-comparison';
import type { TrafficPolicy } from '../routing/traffic-policy';
import { type GenerationContext, addShadowInstance, backendModeOf, loadGeneration } from './generation-loader';
import { type DriftWatch, Model, type ModelServices, type TrafficChange } from './model';
import { type ModelGeneration, shadowKey } from './model-generation';
import { TritonLink, type TritonRuntimeOptions } from './triton-link';

export interface RepositoryEntry {
  name: string;
  /** "" when the model is not loaded. */
  version: string;
  state: 'READY' | 'UNAVAILABLE';
  reason: string;
}

export interface RuntimeOptions {
  /** The model repository folder (Triton's layout). */
  repository: string;
  /** Load only these models; default: every model in the repository. */
  models?: string[];
  /** ONNX Runtime intra-op threads per session; overrides `infergate.intra_op_threads`. Default 1. */
  intraOpThreads?: number;
  /** ONNX Runtime execution providers, e.g. ["cuda", "cpu"]; overrides the config. Default ["cpu"]. */
  executionProviders?: string[];
  /** Executor worker threads, each with one ONNX Runtime session per model version. Default: CPU cores. */
  executorThreads?: number;
  /** Overrides of config.pbtxt's dynamic_batching, for every model or per model name. */
  batching?: BatchingOptions & { models?: Record<string, BatchingOptions> };
  /**
   * Where batches run, overriding config.pbtxt's `infergate.backend`: one mode for every model, or
   * per model name. "local" (ONNX Runtime here), "triton" (forwarded to a Triton cluster),
   * "triton-with-local-fallback" (forwarded; served locally while no replica is available).
   */
  backend?: BackendMode | Record<string, BackendMode>;
  /** The Triton cluster (endpoints, TLS, credentials, retries, health, shared memory). */
  triton?: TritonRuntimeOptions;
  /** Where operational events go (replica ejected, degraded, drift, swaps...); default JSON lines on stderr. */
  logger?: Logger;
  /** Writes one JSON line per prediction (docs/prediction-log.md); default: no prediction log. */
  predictionLog?: PredictionLogOptions;
  /** Shadow comparison: pairs in the sliding window, and disagreements kept (docs/rollouts.md). */
  shadowComparison?: { windowSize?: number; disagreementSamples?: number };
}

/** What a rollback did: the policies before and after, and how long the switch took. */
export interface RollbackResult extends TrafficChange {
  /** Whether the earlier version had to be loaded again (false: it was still loaded, an atomic switch). */
  reloaded: boolean;
  /** From the call until the earlier version took traffic (the old one then drains). */
  milliseconds: number;
}

export class Runtime {
  private closed = false;
  private readonly loaded = new Map<string, Model>();
  private readonly unloadReasons = new Map<string, string>();
  /** One load, reload, rollback or traffic change at a time per model. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly services: ModelServices;
  private readonly context: GenerationContext;
  private readonly log: Logger;

  private constructor(
    readonly repository: string,
    /** The executor pool; tests use it for chaos drills and to read its counters. */
    readonly executor: OnnxExecutor,
    /** Connections to Triton clusters (replica states for stats). */
    readonly triton: TritonLink,
    private readonly options: RuntimeOptions,
    /** The prediction log, when one was configured. */
    readonly predictionLog: PredictionLog | undefined,
  ) {
    this.log = options.logger ?? stderrLogger;
    this.context = { options, executor, triton };
    const comparison = options.shadowComparison ?? {};
    this.services = {
      ...(predictionLog ? { predictionLog } : {}),
      shadowComparator: () => new ShadowComparator(comparison),
    };
  }

  /** Loads the repository's models. Any model that fails to load fails the whole load, naming it. */
  static async load(options: RuntimeOptions): Promise<Runtime> {
    if (!options || typeof options.repository !== 'string' || options.repository === '') {
      throw new TypeError('Runtime.load: options.repository must be the path of a model repository folder');
    }
    const repository = path.resolve(options.repository);
    const names = options.models ?? (await listModels(repository));
    if (names.length === 0) throw new Error(`model repository "${repository}" holds no model (no <name>/config.pbtxt)`);
    const predictionLog = options.predictionLog ? PredictionLog.open(options.predictionLog) : undefined;
    const executor = new OnnxExecutor(options.executorThreads !== undefined ? { threads: options.executorThreads } : {});
    const triton = new TritonLink(options.triton ?? {}, options.logger ?? stderrLogger);
    const rt = new Runtime(repository, executor, triton, { ...options, repository }, predictionLog);
    try {
      for (const name of names) await rt.loadModel(name);
    } catch (err) {
      await rt.close();
      throw err;
    }
    return rt;
  }

  /**
   * A loaded model; throws not_found worded by modelNotLoaded, which names no other model: the
   * servers pass this answer to callers whose allow-list may not include the models loaded.
   */
  model(name: string): Model {
    const m = this.loaded.get(name);
    if (!m || this.closed) throw modelNotLoaded(name);
    return m;
  }

  models(): Model[] {
    return [...this.loaded.values()];
  }

  /**
   * Loads a model from the repository, or reloads it (Triton's RepositoryModelLoad): config.pbtxt
   * is read again, the versions its version_policy selects are loaded and warmed up beside those
   * serving, then the model switches to them at once and the old ones drain (requests in flight
   * finish) and close. The traffic policy becomes config.pbtxt's again. `versions` loads exactly
   * those version folders instead of the policy's choice.
   */
  loadModel(name: string, options: { versions?: number[] } = {}): Promise<Model> {
    return this.exclusive(name, async () => {
      const started = performance.now();
      const desc = await this.describe(name, options.versions);
      const model = await this.install(desc);
      this.log.log('info', 'model.loaded', { model: name, versions: model.versions, primary: model.trafficPolicy.primary, milliseconds: Math.round(performance.now() - started) });
      return model;
    });
  }

  /** Stops serving a model: new requests get not_found, those in flight finish. RepositoryModelUnload. */
  unloadModel(name: string): Promise<void> {
    return this.exclusive(name, async () => {
      const m = this.loaded.get(name);
      if (!m) throw modelNotLoaded(name);
      this.loaded.delete(name);
      this.unloadReasons.set(name, 'unloaded');
      await m.close();
      this.log.log('info', 'model.unloaded', { model: name });
    });
  }

  /**
   * Changes a model's traffic policy at once: the primary (blue/green), a canary share, a shadow.
   * A shadow on another backend than the model's (say a local model shadowed on Triton) loads
   * that instance first. Lasts until the next load of the model, which restores config.pbtxt's.
   */
  setTraffic(name: string, policy: TrafficPolicy): Promise<TrafficChange> {
    return this.exclusive(name, async () => {
      const m = this.model(name);
      const s = policy.shadow;
      if (s && s.backend !== undefined && s.backend !== m.backendMode) {
        const version = s.version ?? policy.primary ?? m.trafficPolicy.primary ?? Math.max(...m.versions);
        // Loaded into the serving generation: the versions serving now are not touched.
        if (!m.generation.shadowInstances.has(shadowKey(version, s.backend))) await addShadowInstance(m.generation, this.context, version, s.backend);
      }
      const change = m.setTraffic(policy);
      this.log.log('info', 'model.traffic', { ...change });
      return change;
    });
  }

  /**
   * Returns a model to the traffic policy it had before its primary last changed (a reload, a
   * blue/green switch, an earlier rollback): an atomic switch when that version is still loaded,
   * else it is loaded and warmed up first. The version rolled back from then drains.
   */
  rollback(name: string): Promise<RollbackResult> {
    return this.exclusive(name, async () => {
      const started = performance.now();
      const m = this.model(name);
      const previous = m.previousPolicy;
      if (!previous || previous.primary === undefined) {
        throw invalidArgument(`model "${name}" has no earlier version to roll back to (it has served version ${m.trafficPolicy.primary} since it was loaded)`, {
          model: name,
        });
      }
      let change: TrafficChange;
      let reloaded = false;
      let retired: Promise<void> | undefined;
      if (m.versions.includes(previous.primary)) {
        change = m.setTraffic(onlyLoaded(previous, m.versions));
      } else {
        const desc = await this.describe(name, [previous.primary]);
        const policy = onlyLoaded(previous, [previous.primary]);
        const next = await loadGeneration(desc, this.context, shadowsFor(policy, newestOf(desc), m.backendMode));
        const swapped = await this.swapIn(m, desc, next, policy);
        change = swapped.change;
        retired = swapped.retired;
        reloaded = true;
      }
      const milliseconds = performance.now() - started;
      this.log.log('info', 'model.rollback', { ...change, reloaded, milliseconds: Math.round(milliseconds * 10) / 10 });
      await retired;
      return { ...change, reloaded, milliseconds };
    });
  }

  /** Every model of the repository with its state, as Triton's RepositoryIndex reports it. */
  async repositoryIndex(): Promise<RepositoryEntry[]> {
    const names = new Set([...(await listModels(this.repository)), ...this.loaded.keys()]);
    const out: RepositoryEntry[] = [];
    for (const name of [...names].sort()) {
      const m = this.loaded.get(name);
      if (m) for (const v of m.versions) out.push({ name, version: String(v), state: 'READY', reason: '' });
      else out.push({ name, version: '', state: 'UNAVAILABLE', reason: this.unloadReasons.get(name) ?? 'not loaded' });
    }
    return out;
  }

  get ready(): boolean {
    return !this.closed && [...this.loaded.values()].every((m) => m.ready);
  }

  /** Runs every batch without waiting for its queue delay, from now on (see Model.drain). */
  drain(): void {
    this.executor.resume();
    for (const m of this.loaded.values()) m.drain();
  }

  /** Finishes the requests in flight, then releases every model and flushes the prediction log. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Admitted requests are answered, so a paused executor runs again.
    this.executor.resume();
    await Promise.all([...this.loaded.values()].map((m) => m.close()));
    this.triton.close();
    await this.executor.close();
    await this.predictionLog?.close();
  }

  /** Loads a new model, or swaps a new generation into a loaded one. */
  private async install(desc: ModelDescription): Promise<Model> {
    const settings = readModelSettings(desc.config, path.join(desc.dir, 'config.pbtxt'));
    const existing = this.loaded.get(desc.name);
    const mode = backendModeOf(this.options.backend, desc.name) ?? settings.backend ?? 'local';
    const next = await loadGeneration(desc, this.context, shadowsFor(settings.traffic, newestOf(desc), mode));
    if (existing) {
      await (await this.swapIn(existing, desc, next, next.settings.traffic)).retired;
      return existing;
    }
    try {
      const model = new Model(next, next.settings.traffic, this.services, await this.driftFor(desc, next));
      this.loaded.set(desc.name, model);
      this.unloadReasons.delete(desc.name);
      return model;
    } catch (err) {
      await next.retire();
      throw err;
    }
  }

  /**
   * Swaps `next` into a serving model. Everything that can fail (the drift reference, the policy)
   * is checked first: on failure `next` is released and the model is left as it was.
   */
  private async swapIn(
    m: Model,
    desc: ModelDescription,
    next: ModelGeneration,
    policy: TrafficPolicy,
  ): Promise<{ change: TrafficChange; retired: Promise<void> }> {
    try {
      return m.swap(next, policy, await this.driftFor(desc, next));
    } catch (err) {
      await next.retire();
      throw err;
    }
  }

  private async describe(name: string, versions: number[] | undefined): Promise<ModelDescription> {
    if (this.closed) throw unavailable('the runtime is closed');
    if (typeof name !== 'string' || !/^[^/\\]+$/.test(name) || name === '.' || name === '..') {
      throw invalidArgument(`model name must be a plain folder name, got ${JSON.stringify(name)}`, { field: 'name' });
    }
    try {
      return await describeModel(this.repository, name, versions);
    } catch (err) {
      throw notFound((err as Error).message, { model: name });
    }
  }

  private async driftFor(desc: ModelDescription, gen: ModelGeneration): Promise<DriftWatch | undefined> {
    const d = gen.settings.drift;
    if (!d) return undefined;
    const reference = readScoreReference(path.join(desc.dir, d.reference));
    return new DriftMonitor(reference, {
      ...(d.window !== undefined ? { windowSize: d.window } : {}),
      ...(d.warnAt !== undefined ? { warnAt: d.warnAt } : {}),
      ...(d.alertAt !== undefined ? { alertAt: d.alertAt } : {}),
      onChange: (event) => this.log.log(event.to === 'alert' ? 'error' : event.to === 'warn' ? 'warn' : 'info', `drift.${event.to}`, { model: desc.name, ...event }),
    });
  }

  private exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(name) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    });
    return run;
  }
}

/** What a policy's shadow needs loaded beside the versions: an instance on another backend. */
function shadowsFor(policy: TrafficPolicy, newest: number, mode: BackendMode): { version: number; mode: BackendMode }[] {
  const s = policy.shadow;
  if (!s || s.backend === undefined || s.backend === mode) return [];
  return [{ version: s.version ?? policy.primary ?? newest, mode: s.backend }];
}

function newestOf(desc: ModelDescription): number {
  return Math.max(...desc.versions.map((v) => v.version));
}

/** A recorded policy without the parts that name versions no longer loaded. */
function onlyLoaded(policy: TrafficPolicy, versions: readonly number[]): TrafficPolicy {
  const { canary, shadow, ...rest } = policy;
  return {
    ...rest,
    ...(canary && versions.includes(canary.version) ? { canary } : {}),
    ...(shadow && (shadow.version === undefined || versions.includes(shadow.version)) ? { shadow } : {}),
  };
}
