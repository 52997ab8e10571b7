// A Piscina worker of the ONNX executor pool. It holds one ONNX Runtime session per model version
// and runs whole batches: a sealed batch is read in place from the native scheduler's slab (an
// external ArrayBuffer over native memory, not a copy) and its results are written back in place,
// then the scheduler fans them out to the waiting requests, from this thread.

import * as ort from 'onnxruntime-node';
import { type NativeBatchScheduler, RowStatus, addressOf, batchSchedulerClass, nativeAddon } from '../../native/addon';
import type { Tensor } from '../../tensor';
import { datatypeOfOrt, ortTypeOf } from '../../tensor';
import { ExecutorControl } from './executor-control';
import type { OnnxSessionSpec, SessionDescription } from './onnx-session-spec';

/** A scheduler whose sealed batches a worker runs, and how. */
export interface DrainSource {
  session: OnnxSessionSpec;
  scheduler: string;
  input: string;
  output: string;
}

export type WorkerTask =
  | { kind: 'describe'; session: OnnxSessionSpec; retired: string[] }
  | {
      kind: 'drain';
      sources: DrainSource[];
      /** Session keys and scheduler names of retired model versions: this worker lets them go. */
      retired: string[];
      /** The control block's sources generation when `sources` was current. */
      generation: number;
      /** The executor's ready signal (createReadySignal). */
      signal: number;
      /** The executor's shared control block (executor-control.ts). */
      control: SharedArrayBuffer;
      /** This task's slot in it. */
      slot: number;
    }
  | { kind: 'tensors'; session: OnnxSessionSpec; inputs: Record<string, Tensor>; outputs: string[] }
  /** One batch another party has already taken (a Triton backend falling back to local execution). */
  | { kind: 'batch'; source: DrainSource; batch: number; control: SharedArrayBuffer };

const sessions = new Map<string, Promise<ort.InferenceSession>>();
const schedulers = new Map<string, NativeBatchScheduler>();

function session(spec: OnnxSessionSpec): Promise<ort.InferenceSession> {
  let s = sessions.get(spec.key);
  if (!s) {
    s = ort.InferenceSession.create(spec.file, {
      intraOpNumThreads: spec.intraOpThreads,
      interOpNumThreads: 1,
      executionProviders: spec.executionProviders,
      graphOptimizationLevel: 'all',
    });
    sessions.set(spec.key, s);
    // A failed load must not be cached: the next batch tries again.
    s.catch(() => sessions.delete(spec.key));
  }
  return s;
}

function scheduler(name: string): NativeBatchScheduler {
  let s = schedulers.get(name);
  if (!s) {
    s = batchSchedulerClass().attach(name);
    schedulers.set(name, s);
  }
  return s;
}

/** Runs one taken batch: input read in place, output written in place, then fanned out natively. */
async function runBatch(s: NativeBatchScheduler, batch: number, source: DrainSource, control: ExecutorControl): Promise<void> {
  const rows = s.rows(batch);
  const input = s.inputView(batch);
  // The input view's data pointer is the slab's: ONNX Runtime is handed native memory, not a copy.
  const inPlace = addressOf(input) === s.slabAddress(batch);
  // Counted before any answer goes out, so whoever has seen an answer sees its batch counted.
  control.countBatch(rows, inPlace);
  try {
    const sess = await session(source.session);
    const output = s.outputView(batch);
    // Both tensors are views over the scheduler's slab: ONNX Runtime reads the batch and writes the
    // results where the scheduler delivers them from, with no copy on either side.
    await sess.run(
      { [source.input]: new ort.Tensor('float32', input, [rows, input.length / rows]) },
      { [source.output]: new ort.Tensor('float32', output, [rows, output.length / rows]) },
    );
    s.complete(batch);
  } catch (err) {
    s.fail(batch, RowStatus.Internal, `model execution failed: ${(err as Error).message}`);
  }
}

/**
 * How often a waiting drain task looks at the control block even if nothing woke it. A safety net
 * only: pausing, a change of sources, another kind of task and shutdown all wake waiting tasks.
 */
const RECHECK_MS = 1000;

/**
 * Takes and runs sealed batches, and keeps taking them as they are sealed, until the executor is
 * paused, its sources change, or another kind of task waits for a worker. A busy pool thus goes
 * from batch to batch with no round trip through the main thread, and an idle worker keeps its
 * task, blocked on the ready signal: handing the worker back would make the main thread start a
 * new task at the next seal, a wake-up of the event loop per batch. The signal wakes the worker
 * that waited last, so a light load stays on one warm worker and the others join as it grows.
 * The batch in hand is recorded in the shared control block: if this worker dies, the main thread
 * fails just that batch.
 */
async function drain(task: Extract<WorkerTask, { kind: 'drain' }>): Promise<void> {
  releaseRetired(task.retired);
  const control = new ExecutorControl(task.control);
  const sources = task.sources.map((source) => ({ source, s: scheduler(source.scheduler) }));
  const addon = nativeAddon();
  for (;;) {
    if (control.paused || control.othersWaiting || control.sourcesGeneration !== task.generation) return;
    const epoch = addon.readyEpoch(task.signal);
    let took = false;
    for (let i = 0; i < sources.length; i++) {
      const { source, s } = sources[i] as (typeof sources)[number];
      const batch = s.take();
      if (batch < 0) continue;
      control.setRunning(task.slot, batch, i);
      if (control.claimExit()) process.exit(1);
      await runBatch(s, batch, source, control);
      control.setRunning(task.slot, -1);
      took = true;
    }
    // Nothing ready: block this worker thread (it runs nothing else meanwhile) until a batch is sealed.
    if (!took) addon.waitReady(task.signal, epoch, RECHECK_MS);
  }
}

async function runTensors(task: Extract<WorkerTask, { kind: 'tensors' }>): Promise<Record<string, Tensor>> {
  const sess = await session(task.session);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(task.inputs)) {
    feeds[name] = new ort.Tensor(ortTypeOf(t.datatype) as 'float32', t.data as Float32Array, t.shape);
  }
  const results = await sess.run(feeds, task.outputs);
  const out: Record<string, Tensor> = {};
  for (const name of task.outputs) {
    const r = results[name];
    const datatype = r && datatypeOfOrt(r.type);
    if (!r || !datatype) throw new Error(`ONNX Runtime returned no usable output "${name}"`);
    out[name] = { datatype, shape: r.dims.slice(), data: r.data as Tensor['data'] };
  }
  return out;
}

async function describe(spec: OnnxSessionSpec): Promise<SessionDescription> {
  const s = await session(spec);
  const meta = (names: readonly string[], m: readonly ort.InferenceSession.ValueMetadata[]) =>
    names.map((name, i) => {
      const v = m[i];
      return { name, type: v && v.isTensor ? v.type : undefined };
    });
  return { inputs: meta(s.inputNames, s.inputMetadata), outputs: meta(s.outputNames, s.outputMetadata) };
}

/**
 * Drops this worker's sessions and scheduler handles of versions that were swapped out or unloaded
 * (the executor lists them in every drain task), so hot swaps do not accumulate sessions.
 */
function releaseRetired(keys: readonly string[]): void {
  for (const key of keys) {
    const s = sessions.get(key);
    if (s) {
      sessions.delete(key);
      s.then((sess) => sess.release()).catch(() => undefined);
    }
    schedulers.delete(key);
  }
}

export default async function handle(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'drain':
      return drain(task);
    case 'tensors':
      return runTensors(task);
    case 'batch':
      return runBatch(scheduler(task.source.scheduler), task.batch, task.source, new ExecutorControl(task.control));
    case 'describe':
      releaseRetired(task.retired);
      return describe(task.session);
  }
}
