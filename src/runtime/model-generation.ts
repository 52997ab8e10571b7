// One load of a model: the config.pbtxt it was read from and the versions built from it. A reload
// builds a new generation beside the serving one and swaps it in at once; the old one then retires:
// it takes no new request, finishes those it admitted, and releases its batchers and sessions.

import type { Backend } from '../backends/backend';
import type { BatchForwarder } from '../backends/triton/batch-forwarder';
import type { SchedulerClient } from '../batching/scheduler-client';
import type { NativeBatchScheduler } from '../native/addon';
import type { Preprocessor } from '../preprocess/preprocessor';
import type { ScoreResult } from '../postprocess/decision-bands';
import type { ModelConfig } from '../repository/model-config';
import type { ModelDescription } from '../repository/repository';
import type { BackendMode, ModelSettings } from '../repository/model-settings';

export interface LoadedVersion {
  version: number;
  backend: Backend;
  /** Where this instance's batches run (a shadow instance may run elsewhere than the model). */
  mode: BackendMode;
  preprocessor: Preprocessor | undefined;
  /** Records go through the native batcher: its scheduler, and this thread's client of it. */
  batching: { scheduler: NativeBatchScheduler; client: SchedulerClient<ScoreResult> } | undefined;
  /** Forwards the version's batches to Triton (backend "triton..."); undefined when local. */
  forwarder: BatchForwarder | undefined;
  /** Called once the version has drained, before its backend closes. */
  release: () => void | Promise<void>;
}

export class ModelGeneration {
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private retiring: Promise<void> | undefined;
  readonly byVersion: ReadonlyMap<number, LoadedVersion>;
  /** The newest loaded version: the primary unless the traffic policy names another. */
  readonly newest: LoadedVersion;

  /** Instances serving only shadow copies (a version on another backend), keyed by `shadowKey`. */
  private readonly shadows = new Map<string, LoadedVersion>();

  constructor(
    /** The repository description this generation was built from (its config, its version files). */
    readonly source: ModelDescription,
    readonly settings: ModelSettings,
    readonly mode: BackendMode,
    versions: LoadedVersion[],
  ) {
    if (versions.length === 0) throw new Error(`model "${source.name}": a generation needs at least one version`);
    this.byVersion = new Map(versions.map((v) => [v.version, v]));
    this.newest = this.byVersion.get(Math.max(...this.byVersion.keys())) as LoadedVersion;
  }

  get config(): ModelConfig {
    return this.source.config;
  }

  get shadowInstances(): ReadonlyMap<string, LoadedVersion> {
    return this.shadows;
  }

  /** Adds an instance that serves shadow copies only; it retires with the generation. */
  addShadowInstance(v: LoadedVersion): void {
    if (this.retired) throw new Error(`model "${this.source.name}": a retired generation takes no new instance`);
    this.shadows.set(shadowKey(v.version, v.mode), v);
  }

  /** Loaded versions, ascending. */
  get versions(): number[] {
    return [...this.byVersion.keys()].sort((a, b) => a - b);
  }

  get retired(): boolean {
    return this.retiring !== undefined;
  }

  /** Every instance: the versions, then the shadow-only ones. */
  instances(): LoadedVersion[] {
    return [...this.byVersion.values(), ...this.shadows.values()];
  }

  /** Counts a request in flight on this generation until `promise` settles (retire waits for it). */
  track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight++;
    const done = (): void => {
      if (--this.inFlight === 0 && this.drained) this.drained();
    };
    promise.then(done, done);
    return promise;
  }

  /** Seals every instance's open batches now. */
  flush(): void {
    for (const v of this.instances()) v.batching?.scheduler.flush();
  }

  /**
   * Finishes what was admitted, then releases every instance. The caller has already stopped
   * routing requests here. Idempotent.
   */
  retire(): Promise<void> {
    this.retiring ??= (async () => {
      // Requests waiting for company will get none: run their batches now.
      this.flush();
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      for (const v of this.instances()) {
        const client = v.batching?.client;
        if (client && client.outstanding > 0) await new Promise<void>((resolve) => (client.onIdle = resolve));
      }
      // Other threads (AttachedModel) may still have requests in these batchers, and may try to
      // submit more until the new generation's handle reaches them: from now on those are refused
      // (never admitted; the thread sends them again to the new batcher), and what was admitted is
      // answered before the batcher closes, so closing fails no request.
      for (const v of this.instances()) v.batching?.scheduler.stopAdmission();
      for (const v of this.instances()) if (v.batching) await answeredAll(v.batching.scheduler);
      await Promise.all(this.instances().map((v) => v.release()));
      await Promise.all(this.instances().map((v) => v.backend.close()));
    })();
    return this.retiring;
  }
}

/** How long a retiring batcher may keep requests of other threads before it is closed anyway. */
const OTHER_THREADS_DRAIN_MS = 30_000;

/**
 * Resolves once the scheduler has answered every request it accepted (or after the bound above).
 * The native count of accepted requests is read from counters that a batch moves between (open,
 * sealed, taken) one after the other, so a read can fall between two of them: the answer must hold
 * at two reads a poll apart before the batcher may close.
 */
async function answeredAll(scheduler: NativeBatchScheduler): Promise<void> {
  const until = Date.now() + OTHER_THREADS_DRAIN_MS;
  const answered = () => {
    const accepted = scheduler.stats().accepted ?? 0;
    const r = scheduler.requestStatistics();
    return r.succeeded + r.failed >= accepted;
  };
  let held = 0;
  for (;;) {
    held = answered() ? held + 1 : 0;
    if (held >= 2 || Date.now() > until) return;
    scheduler.flush();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The key of a shadow-only instance: a version run on a backend the model does not use. */
export function shadowKey(version: number, mode: BackendMode): string {
  return `${version}@${mode}`;
}
