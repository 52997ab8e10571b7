// A model reached from another thread of the host application. The native schedulers are
// process-wide, so a worker_thread that holds a model's handle submits to the very batches the main
// thread's requests go into; preprocessing runs on the submitting thread, execution on the executor.
//
//   // main thread
//   new Worker(file, { workerData: { fraud: rt.model('fraud').share() } });
//   // worker thread
//   const fraud = AttachedModel.attach(workerData.fraud);
//   const r = await fraud.infer(record);
//
// It follows the model: each reload, rollback or traffic change posts a new handle on the model's
// update channel (a BroadcastChannel), and the thread moves to the batchers it names. A request that
// reached a retired batcher just as it closed was refused, never admitted: it is sent again to the
// new one. The canary split applies here as on the main thread; shadow copies are the main thread's.

import { BroadcastChannel } from 'node:worker_threads';
import { SchedulerClient, type SubmitOptions, refusedByClosedBatcher } from '../batching/scheduler-client';
import { notFound, unavailable } from '../errors';
import { batchSchedulerClass } from '../native/addon';
import { type DecisionBand, DecisionBands, type ScoreResult, scoreResults } from '../postprocess/decision-bands';
import { RecordEncoder } from '../preprocess/record-encoder';
import { goesToCanary, recordKey } from '../routing/canary-split';

/** Plain data (structured-clonable): what another thread needs to reach a model's batchers. */
export interface SharedModelHandle {
  model: string;
  /** The BroadcastChannel on which the model posts its next handle. */
  updates: string;
  versions: { version: number; scheduler: string }[];
  scoreIndex: number;
  decisionBands: { bands: DecisionBand[]; fallback: string } | undefined;
  priorityLevels: number;
  /** The traffic policy's primary and canary (shadow copies are made by the main thread only). */
  primary: number;
  canary: { version: number; percent: number; key: string | undefined } | undefined;
}

/** How long a request refused by a retired batcher waits for the model's next handle. */
const NEXT_HANDLE_MS = 10_000;

export class AttachedModel {
  private clients: Map<number, SchedulerClient<ScoreResult>>;
  private handle: SharedModelHandle;
  private readonly channel: BroadcastChannel;
  private nextHandle: { promise: Promise<void>; resolve: () => void } | undefined;
  private detached = false;
  /** How many newer handles this thread has moved to. */
  private follows = 0;

  private constructor(handle: SharedModelHandle) {
    this.handle = handle;
    this.clients = AttachedModel.clientsOf(handle);
    this.channel = new BroadcastChannel(handle.updates);
    // Listening must not keep the thread alive.
    this.channel.unref();
    this.channel.onmessage = (event) => this.follow((event as { data: SharedModelHandle }).data);
  }

  static attach(handle: SharedModelHandle): AttachedModel {
    return new AttachedModel(handle);
  }

  private static clientsOf(handle: SharedModelHandle): Map<number, SchedulerClient<ScoreResult>> {
    const clients = new Map<number, SchedulerClient<ScoreResult>>();
    const bands = handle.decisionBands && DecisionBands.of(handle.decisionBands.bands, handle.decisionBands.fallback);
    for (const v of handle.versions) {
      const scheduler = batchSchedulerClass().attach(v.scheduler);
      const fields = scheduler.fields;
      if (!fields) throw new Error(`model "${handle.model}" version ${v.version} takes no records`);
      const encoder = new RecordEncoder(fields, handle.model);
      encoder.routingField = handle.canary?.key;
      clients.set(
        v.version,
        new SchedulerClient(scheduler, encoder, handle.model, handle.scoreIndex, handle.priorityLevels, scoreResults(bands, v.version)),
      );
    }
    return clients;
  }

  get name(): string {
    return this.handle.model;
  }

  /** Loaded versions, ascending. */
  get versions(): number[] {
    return [...this.clients.keys()].sort((a, b) => a - b);
  }

  infer(record: unknown, options: SubmitOptions & { version?: number; routingKey?: string } = {}): Promise<ScoreResult> {
    const followed = this.follows;
    const answer = this.submit(record, options);
    return answer.catch((err: unknown) => {
      if (!refusedByClosedBatcher(err) || this.detached) throw err;
      // The batcher retired under this request: send it again to the new one, once, waiting for the
      // new handle if it has not arrived yet.
      if (this.follows !== followed) return this.submit(record, options);
      return this.awaitNextHandle().then(() => this.submit(record, options));
    });
  }

  private submit(record: unknown, options: SubmitOptions & { version?: number; routingKey?: string }): Promise<ScoreResult> {
    const h = this.handle;
    let version = options.version;
    if (version === undefined) {
      const c = h.canary;
      version = c && this.clients.has(c.version) && goesToCanary(c.percent, options.routingKey ?? recordKey(record, c.key)) ? c.version : h.primary;
    }
    const client = this.clients.get(version);
    if (!client) {
      return Promise.reject(
        notFound(`model "${this.name}" has no version "${version}" loaded (loaded: ${this.versions.join(', ')})`, { model: this.name, field: 'version' }),
      );
    }
    return client.score(record, options);
  }

  /** Moves to the batchers of a newer handle; the old clients close once their requests are answered. */
  private follow(handle: SharedModelHandle): void {
    if (this.detached) return;
    const old = this.clients;
    try {
      this.clients = AttachedModel.clientsOf(handle);
      this.handle = handle;
      this.follows++;
    } catch {
      // The announced batchers are already gone (a newer swap followed): the next handle will do.
      return;
    }
    for (const client of old.values()) {
      if (client.outstanding === 0) client.close();
      else client.onIdle = () => client.close();
    }
    this.nextHandle?.resolve();
    this.nextHandle = undefined;
  }

  private awaitNextHandle(): Promise<void> {
    if (!this.nextHandle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.nextHandle = { promise, resolve };
    }
    const pending = this.nextHandle.promise;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unavailable(`model "${this.name}": its version was retired and no newer one was announced within ${NEXT_HANDLE_MS} ms`, { model: this.name })),
        NEXT_HANDLE_MS,
      );
      void pending.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Deliveries for tickets this thread was not waiting on: duplicates would show here. */
  get unmatchedDeliveries(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.unmatchedDeliveries;
    return n;
  }

  /** Closes this thread's ports and stops following the model; pending requests are answered unavailable. */
  detach(): void {
    this.detached = true;
    this.channel.close();
    for (const c of this.clients.values()) c.close();
    this.nextHandle?.resolve();
  }
}
