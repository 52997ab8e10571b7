// A model's preprocessing: preprocess.json compiled into a native plan, plus the encoder that
// validates records on their way in. Records become float32 rows of the model's input tensor,
// written once, into the buffer the backend will read.

import { createHash } from 'node:crypto';
import { type InferError, asInferError } from '../errors';
import { type NativePreprocessPlan, nativeAddon } from '../native/addon';
import { RecordEncoder } from './record-encoder';

export class PreprocessSpecError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'PreprocessSpecError';
  }
}

export interface PreprocessedBatch {
  /** rows × width float32, only the records that passed validation, in order. */
  tensor: Float32Array;
  rows: number;
  /** For each input record: its row in `tensor`, or the error that kept it out. */
  placement: (number | InferError)[];
}

export class Preprocessor {
  readonly hash: string;
  readonly width: number;
  readonly outputName: string;
  readonly encoder: RecordEncoder;
  readonly plan: NativePreprocessPlan;
  // Records are encoded here and consumed synchronously by plan.run, so one scratch buffer suffices.
  private scratch: Float64Array;

  constructor(specText: string, file: string, model: string) {
    try {
      this.plan = new (nativeAddon().PreprocessPlan)(specText);
    } catch (err) {
      throw new PreprocessSpecError(file, (err as Error).message);
    }
    this.hash = createHash('sha256').update(specText).digest('hex');
    this.width = this.plan.width;
    this.outputName = this.plan.outputName;
    this.encoder = new RecordEncoder(this.plan.fields, model);
    this.scratch = new Float64Array(this.encoder.fieldCount * 16);
  }

  /** One record → one float32 row. Throws invalid_argument naming the field. */
  one(record: unknown): Float32Array {
    const out = new Float32Array(this.width);
    this.encoder.encode(record, this.scratch, 0);
    this.plan.run(this.scratch, 1, out);
    return out;
  }

  /** Many records → one tensor; a bad record is set aside with its own error, the rest go on. */
  batch(records: readonly unknown[]): PreprocessedBatch {
    const n = this.encoder.fieldCount;
    if (this.scratch.length < records.length * n) this.scratch = new Float64Array(records.length * n);
    const placement: (number | InferError)[] = [];
    let rows = 0;
    for (const record of records) {
      try {
        this.encoder.encode(record, this.scratch, rows);
        placement.push(rows++);
      } catch (err) {
        placement.push(asInferError(err));
      }
    }
    const tensor = new Float32Array(rows * this.width);
    if (rows > 0) this.plan.run(this.scratch, rows, tensor);
    return { tensor, rows, placement };
  }
}
