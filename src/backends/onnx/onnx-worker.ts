// A Piscina worker of the ONNX executor pool. It holds one ONNX Runtime session per model version
// and runs whole batches: a sealed batch is read in place from the native scheduler's slab (an
// external ArrayBuffer over native memory, not a copy) and its results are written back in place,
// then the scheduler fans them out to the waiting requests, from this thread.

import * as ort from 'onnxruntime-node';
import { type NativeBatchScheduler, RowStatus, addressOf, batchSchedulerClass } from '../../native/addon';
import type { Tensor } from '../../tensor';
import { datatypeOfOrt, ortTypeOf } from '../../tensor';
import type { OnnxSessionSpec, SessionDescription } from './onnx-session-spec';

export type WorkerTask =
  | { kind: 'describe'; session: OnnxSessionSpec }
  | {
      kind: 'batch';
      session: OnnxSessionSpec;
      scheduler: string;
      batch: number;
      input: string;
      output: string;
      /** Chaos drill: the worker exits after taking the batch, as a crash would. */
      exitWorker?: boolean;
    }
  | { kind: 'tensors'; session: OnnxSessionSpec; inputs: Record<string, Tensor>; outputs: string[] };

export interface BatchReport {
  rows: number;
  /** The input view's data pointer equals the slab's: ONNX Runtime was handed native memory. */
  inPlace: boolean;
}

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

async function runBatch(task: Extract<WorkerTask, { kind: 'batch' }>): Promise<BatchReport> {
  const s = scheduler(task.scheduler);
  if (task.exitWorker) process.exit(1);
  const rows = s.rows(task.batch);
  const input = s.inputView(task.batch);
  const inPlace = addressOf(input) === s.slabAddress(task.batch);
  try {
    const sess = await session(task.session);
    const tensor = new ort.Tensor('float32', input, [rows, input.length / rows]);
    const result = await sess.run({ [task.input]: tensor }, [task.output]);
    const out = result[task.output];
    const view = s.outputView(task.batch);
    if (!out || out.data.length !== view.length) {
      throw new Error(`output "${task.output}" has ${out?.data.length ?? 0} values, expected ${view.length}`);
    }
    view.set(out.data as Float32Array);
    s.complete(task.batch);
  } catch (err) {
    s.fail(task.batch, RowStatus.Internal, `model execution failed: ${(err as Error).message}`);
  }
  return { rows, inPlace };
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

export default async function handle(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'batch':
      return runBatch(task);
    case 'tensors':
      return runTensors(task);
    case 'describe':
      return describe(task.session);
  }
}
