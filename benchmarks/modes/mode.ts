// What the embedded benchmark needs from each way of scoring a record (a "mode").

export type ModeName = 'baseline' | 'ort-main' | 'piscina' | 'infergate';

export interface ModeOptions {
  /** Worker threads, for modes that have them. */
  threads: number;
}

/** Cumulative batching counters: how many requests were scored in how many batches of how many rows. */
export interface BatchCounters {
  requests: number;
  batches: number;
  rows: number;
}

export interface ModeHandle {
  /** Scores the next record of the pool. */
  send(): Promise<unknown>;
  /** Batching counters, where the mode has them. */
  counters?(): BatchCounters | undefined;
  close(): Promise<void>;
}

export interface ModeInfo {
  name: ModeName;
  label: string;
  description: string;
}

export const MODES: readonly ModeInfo[] = [
  {
    name: 'baseline',
    label: '(0) generator only',
    description:
      'send() returns an already-resolved promise: the latency floor and event-loop cost of the load generator and its meters, ' +
      'subtracted from the other modes to give their net event-loop cost; ladder rates only',
  },
  {
    name: 'ort-main',
    label: '(a) ORT on the main thread',
    description: 'per request: Preprocessor.one(record) then session.run on the main thread (intraOpNumThreads 1)',
  },
  {
    name: 'piscina',
    label: '(b) Piscina, one task per request',
    description: 'per request: pool.run(record); the worker preprocesses and runs its own ORT session (intraOpNumThreads 1)',
  },
  {
    name: 'infergate',
    label: '(c) infergate embedded',
    description: "Runtime.load({ repository: 'models', models: ['fraud'] }); rt.model('fraud').infer(record)",
  },
];
