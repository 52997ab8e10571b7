// A model reached from another thread of the host application. The native schedulers are
// process-wide, so a worker_thread that holds a model's handle submits to the very batches the main
// thread's requests go into; preprocessing runs on the submitting thread, execution on the executor.
//
//   // main thread
//   new Worker(file, { workerData: { fraud: rt.model('fraud').share() } });
//   // worker thread
//   const fraud = AttachedModel.attach(workerData.fraud);
//   const r = await fraud.infer(record);

import { SchedulerClient, type SubmitOptions } from '../batching/scheduler-client';
import { notFound } from '../errors';
import { batchSchedulerClass } from '../native/addon';
import { type DecisionBand, DecisionBands, type ScoreResult, scoreResults } from '../postprocess/decision-bands';
import { RecordEncoder } from '../preprocess/record-encoder';

/** Plain data (structured-clonable): what another thread needs to reach a model's batchers. */
export interface SharedModelHandle {
  model: string;
  versions: { version: number; scheduler: string }[];
  scoreIndex: number;
  decisionBands: { bands: DecisionBand[]; fallback: string } | undefined;
  priorityLevels: number;
}

export class AttachedModel {
  private constructor(
    private readonly handle: SharedModelHandle,
    private readonly clients: Map<number, SchedulerClient<ScoreResult>>,
  ) {}

  static attach(handle: SharedModelHandle): AttachedModel {
    const clients = new Map<number, SchedulerClient<ScoreResult>>();
    const bands = handle.decisionBands && DecisionBands.of(handle.decisionBands.bands, handle.decisionBands.fallback);
    for (const v of handle.versions) {
      const scheduler = batchSchedulerClass().attach(v.scheduler);
      const fields = scheduler.fields;
      if (!fields) throw new Error(`model "${handle.model}" version ${v.version} takes no records`);
      const encoder = new RecordEncoder(fields, handle.model);
      clients.set(
        v.version,
        new SchedulerClient(scheduler, encoder, handle.model, handle.scoreIndex, handle.priorityLevels, scoreResults(bands, v.version)),
      );
    }
    return new AttachedModel(handle, clients);
  }

  get name(): string {
    return this.handle.model;
  }

  infer(record: unknown, options: SubmitOptions & { version?: number } = {}): Promise<ScoreResult> {
    const versions = [...this.clients.keys()];
    const version = options.version ?? Math.max(...versions);
    const client = this.clients.get(version);
    if (!client) {
      return Promise.reject(
        notFound(`model "${this.name}" has no version "${version}" loaded (loaded: ${versions.join(', ')})`, { model: this.name, field: 'version' }),
      );
    }
    return client.score(record, options);
  }

  /** Deliveries for tickets this thread was not waiting on: duplicates would show here. */
  get unmatchedDeliveries(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.unmatchedDeliveries;
    return n;
  }

  /** Closes this thread's ports; its pending requests are answered unavailable. */
  detach(): void {
    for (const c of this.clients.values()) c.close();
  }
}
