// Local execution of one model version with ONNX Runtime, on the executor's worker threads: the
// Backend face used for caller-batched tensors, and the load-time check that the ONNX file declares
// the tensors config.pbtxt promises.

import type { Backend } from '../backend';
import type { ModelConfig } from '../../repository/model-config';
import { type Tensor, ortTypeOf } from '../../tensor';
import type { OnnxExecutor } from './onnx-executor';
import type { OnnxSessionSpec, SessionDescription, TensorDescription } from './onnx-session-spec';

export class OnnxLoadError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'OnnxLoadError';
  }
}

export class OnnxBackend implements Backend {
  readonly kind = 'onnxruntime';

  private constructor(
    private readonly executor: OnnxExecutor,
    readonly session: OnnxSessionSpec,
  ) {}

  /** Opens the model on a worker and checks it against config.pbtxt. */
  static async create(executor: OnnxExecutor, session: OnnxSessionSpec, config: ModelConfig): Promise<OnnxBackend> {
    let description: SessionDescription;
    try {
      description = await executor.describe(session);
    } catch (err) {
      throw new OnnxLoadError(session.file, `ONNX Runtime could not load the model: ${(err as Error).message}`);
    }
    checkAgainstConfig(session.file, description, config);
    return new OnnxBackend(executor, session);
  }

  infer(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>> {
    return this.executor.runTensors(this.session, inputs, outputs);
  }

  async close(): Promise<void> {
    // Sessions live in the executor's workers and go with the pool.
  }
}

function checkAgainstConfig(file: string, d: SessionDescription, config: ModelConfig): void {
  const check = (kind: 'input' | 'output', have: TensorDescription[], wanted: ModelConfig['inputs']) => {
    for (const t of wanted) {
      const m = have.find((h) => h.name === t.name);
      if (!m) {
        throw new OnnxLoadError(file, `config.pbtxt declares ${kind} "${t.name}" but the model's ${kind}s are: ${have.map((h) => h.name).join(', ')}`);
      }
      if (m.type !== undefined && ortTypeOf(t.datatype) !== m.type) {
        throw new OnnxLoadError(file, `${kind} "${t.name}" is ${t.datatype} in config.pbtxt but ${m.type} in the model`);
      }
    }
  };
  check('input', d.inputs, config.inputs);
  check('output', d.outputs, config.outputs);
}
