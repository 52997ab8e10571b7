// What a benchmark needs from each way of scoring a record (a "mode"), and the table of modes of
// every scenario: the embedded scenario's (embedded.ts) and the Triton forwarding scenario's
// (triton.ts). A new mode is a name here, an entry in its scenario's list and an opener in
// runner.ts (whose table the compiler keeps complete).

import type { TritonCounters } from './triton-statistics';

export type EmbeddedModeName = 'baseline' | 'ort-main' | 'piscina' | 'infergate';
export type TritonModeName = 'triton-per-request' | 'triton-batched' | 'triton-shm';
export type ModeName = EmbeddedModeName | TritonModeName;

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
  /** The Triton server's own counters for the model, where the mode forwards to one. */
  tritonCounters?(): Promise<TritonCounters | undefined>;
  close(): Promise<void>;
}

export interface ModeInfo<N extends ModeName = ModeName> {
  name: N;
  label: string;
  description: string;
}

export const EMBEDDED_MODES: readonly ModeInfo<EmbeddedModeName>[] = [
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

export const TRITON_MODES: readonly ModeInfo<TritonModeName>[] = [
  {
    name: 'triton-per-request',
    label: '(a) per-request forwarding',
    description:
      'what a hand-rolled Node client does: per record, Preprocessor.one(record), then one ModelInfer with a [1, 40] FP32 ' +
      'tensor in raw_input_contents over @grpc/grpc-js (the project\'s ReplicaPool.infer), as many in flight as arrive',
  },
  {
    name: 'triton-batched',
    label: '(b) infergate batched',
    description:
      "Runtime.load({ repository: 'models', models: ['fraud'], backend: 'triton', triton: { endpoints } }); " +
      "rt.model('fraud').infer(record): one ModelInfer per sealed batch, the slab as raw contents",
  },
  {
    name: 'triton-shm',
    label: '(c) infergate batched + shared memory',
    description:
      "as (b) with triton: { sharedMemory: true }: the slabs live in a POSIX shared-memory region registered with Triton; " +
      'a ModelInfer names the batch\'s offsets, Triton reads the inputs and writes the outputs in place',
  },
];

export const MODES: readonly ModeInfo[] = [...EMBEDDED_MODES, ...TRITON_MODES];
