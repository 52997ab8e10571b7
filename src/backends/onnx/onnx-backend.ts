// Local execution with ONNX Runtime (onnxruntime-node). One session per model version. Tensors are
// handed to ORT as views over the caller's typed arrays, so the batch is not copied on the way in.

import * as ort from 'onnxruntime-node';
import type { Backend } from '../backend';
import type { ModelConfig } from '../../repository/model-config';
import { type Tensor, datatypeOfOrt, ortTypeOf } from '../../tensor';
import { internal } from '../../errors';

export interface OnnxOptions {
  /** Threads ORT uses inside one operator. Default: 1 — a tree model batch is small work. */
  intraOpThreads?: number;
  /** ORT execution providers in order of preference: "cpu", "cuda", "tensorrt". Default ["cpu"]. */
  executionProviders?: string[];
}

export class OnnxLoadError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'OnnxLoadError';
  }
}

export class OnnxBackend implements Backend {
  readonly kind = 'onnxruntime';

  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(file: string, config: ModelConfig, options: OnnxOptions = {}): Promise<OnnxBackend> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        executionProviders: options.executionProviders ?? ['cpu'],
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new OnnxLoadError(file, `ONNX Runtime could not load the model: ${(err as Error).message}`);
    }
    checkAgainstConfig(file, session, config);
    return new OnnxBackend(session);
  }

  async infer(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) {
      feeds[name] = new ort.Tensor(ortTypeOf(t.datatype) as 'float32', t.data as Float32Array, t.shape);
    }
    const results = await this.session.run(feeds, outputs);
    const out: Record<string, Tensor> = {};
    for (const name of outputs) {
      const r = results[name];
      const datatype = r && datatypeOfOrt(r.type);
      if (!r || !datatype) throw internal(`ONNX Runtime returned no usable output "${name}"`);
      out[name] = { datatype, shape: r.dims.slice(), data: r.data as Tensor['data'] };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** The model file must declare the tensors config.pbtxt promises, with the same element types. */
function checkAgainstConfig(file: string, session: ort.InferenceSession, config: ModelConfig): void {
  const check = (kind: 'input' | 'output', names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[], wanted: ModelConfig['inputs']) => {
    for (const t of wanted) {
      const i = names.indexOf(t.name);
      if (i < 0) {
        throw new OnnxLoadError(file, `config.pbtxt declares ${kind} "${t.name}" but the model's ${kind}s are: ${names.join(', ')}`);
      }
      const m = meta[i];
      if (m && m.isTensor && ortTypeOf(t.datatype) !== m.type) {
        throw new OnnxLoadError(file, `${kind} "${t.name}" is ${t.datatype} in config.pbtxt but ${m.type} in the model`);
      }
    }
  };
  check('input', session.inputNames, session.inputMetadata, config.inputs);
  check('output', session.outputNames, session.outputMetadata, config.outputs);
}
