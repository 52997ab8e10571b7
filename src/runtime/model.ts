// A loaded model: its versions (each a backend, and a preprocessor when the model takes raw
// records), the postprocessing that turns a score into a decision, and the checks that keep a
// request's tensors true to config.pbtxt. Both the embedded API and the servers call into this.

import type { Backend } from '../backends/backend';
import { type InferError, asInferError, invalidArgument, notFound, unavailable } from '../errors';
import type { PreprocessedBatch, Preprocessor } from '../preprocess/preprocessor';
import type { ModelConfig, TensorConfig } from '../repository/model-config';
import type { ModelSettings } from '../repository/model-settings';
import { type Tensor, elementCount } from '../tensor';

export interface ScoreResult {
  /** The model's score for the record (for the fraud model: the probability of fraud, 0..1). */
  score: number;
  /** The decision band the score falls in (config `infergate.decision_bands`); absent if none set. */
  decision?: string;
  /** The version that answered. */
  modelVersion: string;
}

export interface InferOptions {
  /** A loaded version; default: the newest loaded. */
  version?: number | string;
}

export interface TensorInferOptions extends InferOptions {
  /** Outputs to return; default: every output in config.pbtxt. */
  outputs?: readonly string[];
}

export interface TensorInferResult {
  modelVersion: string;
  outputs: Record<string, Tensor>;
}

export interface LoadedVersion {
  version: number;
  backend: Backend;
  preprocessor: Preprocessor | undefined;
}

export class Model {
  private readonly byVersion: Map<number, LoadedVersion>;
  private inFlight = 0;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    readonly config: ModelConfig,
    readonly settings: ModelSettings,
    versions: LoadedVersion[],
  ) {
    this.byVersion = new Map(versions.map((v) => [v.version, v]));
  }

  get name(): string {
    return this.config.name;
  }

  /** Loaded versions, ascending. */
  get versions(): number[] {
    return [...this.byVersion.keys()].sort((a, b) => a - b);
  }

  get ready(): boolean {
    return this.closing === undefined;
  }

  /** SHA-256 of the preprocess.json a version uses (undefined if it takes tensors only). */
  preprocessHash(version?: number | string): string | undefined {
    return this.resolve(version).preprocessor?.hash;
  }

  /** Scores one raw record: preprocess → model → decision. */
  async infer(record: unknown, options: InferOptions = {}): Promise<ScoreResult> {
    const [result] = await this.inferMany([record], options);
    if (result instanceof Error) throw result;
    return result as ScoreResult;
  }

  /**
   * Scores many records as one batch (split at max_batch_size). Each record gets its own answer:
   * a record that fails validation gets its error and the others are still scored.
   */
  async inferMany(records: readonly unknown[], options: InferOptions = {}): Promise<(ScoreResult | InferError)[]> {
    return this.track(async () => {
      const v = this.resolve(options.version);
      const pre = v.preprocessor;
      if (!pre) {
        throw invalidArgument(`model "${this.name}" has no preprocess.json, so it takes tensors, not records: use the KServe v2 infer API`, {
          model: this.name,
        });
      }
      const limit = this.config.maxBatchSize > 0 ? this.config.maxBatchSize : 1;
      const results: (ScoreResult | InferError)[] = [];
      for (let start = 0; start < records.length; start += limit) {
        const batch = pre.batch(records.slice(start, start + limit));
        results.push(...(await this.scoreBatch(v, batch)));
      }
      return results;
    });
  }

  /** Runs already-preprocessed tensors (the KServe v2 infer API), checked against config.pbtxt. */
  async inferTensors(inputs: Record<string, Tensor>, options: TensorInferOptions = {}): Promise<TensorInferResult> {
    return this.track(async () => {
      const v = this.resolve(options.version);
      this.checkInputs(inputs);
      const outputs = options.outputs ?? this.config.outputs.map((o) => o.name);
      for (const name of outputs) {
        if (!this.config.outputs.some((o) => o.name === name)) {
          throw invalidArgument(
            `model "${this.name}" has no output "${name}"; its outputs are: ${this.config.outputs.map((o) => o.name).join(', ')}`,
            { field: name, model: this.name },
          );
        }
      }
      return { modelVersion: String(v.version), outputs: await v.backend.infer(inputs, outputs) };
    });
  }

  /** Stops taking requests, waits for those in flight, then releases every version's backend. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      await Promise.all([...this.byVersion.values()].map((v) => v.backend.close()));
    })();
    return this.closing;
  }

  private async scoreBatch(v: LoadedVersion, batch: PreprocessedBatch): Promise<(ScoreResult | InferError)[]> {
    let scores: Tensor['data'] | undefined;
    let failure: InferError | undefined;
    if (batch.rows > 0) {
      const input = this.config.inputs[0] as TensorConfig;
      const width = batch.tensor.length / batch.rows;
      try {
        const out = await v.backend.infer(
          { [input.name]: { datatype: 'FP32', shape: [batch.rows, width], data: batch.tensor } },
          [this.settings.scoreOutput],
        );
        scores = out[this.settings.scoreOutput]?.data;
      } catch (err) {
        failure = asInferError(err, { model: this.name });
      }
    }
    const rowWidth = scores ? scores.length / batch.rows : 0;
    const modelVersion = String(v.version);
    const bands = this.settings.decisionBands;
    return batch.placement.map((p) => {
      if (typeof p !== 'number') return p;
      if (failure || !scores) return failure ?? unavailable(`model "${this.name}" returned no scores`, { model: this.name });
      const score = Number(scores[p * rowWidth + this.settings.scoreIndex]);
      return bands ? { score, decision: bands.decide(score), modelVersion } : { score, modelVersion };
    });
  }

  private checkInputs(inputs: Record<string, Tensor>): void {
    const model = this.name;
    const names = Object.keys(inputs);
    for (const name of names) {
      if (!this.config.inputs.some((i) => i.name === name)) {
        throw invalidArgument(`model "${model}" has no input "${name}"; its inputs are: ${this.config.inputs.map((i) => i.name).join(', ')}`, {
          field: name,
          model,
        });
      }
    }
    let batch: number | undefined;
    for (const spec of this.config.inputs) {
      const t = inputs[spec.name];
      if (!t) throw invalidArgument(`input "${spec.name}" is required by model "${model}"`, { field: spec.name, model });
      if (t.datatype !== spec.datatype) {
        throw invalidArgument(`input "${spec.name}" must have datatype ${spec.datatype}, got ${t.datatype}`, { field: spec.name, model });
      }
      const batched = this.config.maxBatchSize > 0;
      const expected = batched ? [-1, ...spec.dims] : spec.dims;
      const shapeOk =
        t.shape.length === expected.length &&
        t.shape.every((d, i) => Number.isInteger(d) && d >= 0 && (expected[i] === -1 || expected[i] === d));
      if (!shapeOk) {
        throw invalidArgument(`input "${spec.name}" must have shape [${expected.join(', ')}] (-1: any), got [${t.shape.join(', ')}]`, {
          field: spec.name,
          model,
        });
      }
      if (batched) {
        const b = t.shape[0] as number;
        if (b < 1 || b > this.config.maxBatchSize) {
          throw invalidArgument(`input "${spec.name}": batch size ${b} must be between 1 and max_batch_size ${this.config.maxBatchSize}`, {
            field: spec.name,
            model,
          });
        }
        if (batch !== undefined && b !== batch) {
          throw invalidArgument(`input "${spec.name}": batch size ${b} differs from the other inputs' ${batch}`, { field: spec.name, model });
        }
        batch = b;
      }
      if (t.data.length !== elementCount(t.shape)) {
        throw invalidArgument(`input "${spec.name}": shape [${t.shape.join(', ')}] needs ${elementCount(t.shape)} elements, got ${t.data.length}`, {
          field: spec.name,
          model,
        });
      }
    }
  }

  private resolve(version: number | string | undefined): LoadedVersion {
    if (version === undefined || version === '') {
      const newest = this.versions[this.versions.length - 1] as number;
      return this.byVersion.get(newest) as LoadedVersion;
    }
    const n = typeof version === 'number' ? version : /^[0-9]+$/.test(version) ? Number(version) : NaN;
    const v = this.byVersion.get(n);
    if (!v) {
      throw notFound(`model "${this.name}" has no version "${version}" loaded (loaded: ${this.versions.join(', ')})`, {
        model: this.name,
        field: 'version',
      });
    }
    return v;
  }

  private async track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) throw unavailable(`model "${this.name}" is shutting down`, { model: this.name });
    this.inFlight++;
    try {
      return await work();
    } finally {
      if (--this.inFlight === 0 && this.drained) this.drained();
    }
  }
}
