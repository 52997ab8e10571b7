// The example fraud model as the benchmarks use it: its files, its output, and the pool of
// records sent to it (the raw rows of the golden fixture, missing values and unseen categories
// included), cycled in order.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root (this file runs as dist/benchmarks/modes/fraud.js). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const REPOSITORY = path.join(ROOT, 'models');
export const MODEL_DIR = path.join(REPOSITORY, 'fraud');
export const MODEL_FILE = path.join(MODEL_DIR, '1', 'model.onnx');
export const PREPROCESS_FILE = path.join(MODEL_DIR, 'preprocess.json');
/** config.pbtxt: infergate.score_output and infergate.score_index. */
export const SCORE_OUTPUT = 'probabilities';
export const SCORE_INDEX = 1;
/** The same model as Triton serves it (scripts/triton/repository/fraud, version 1). */
export const TRITON_MODEL = 'fraud';
export const TRITON_VERSION = '1';

export function recordPool(): unknown[] {
  const file = path.join(ROOT, 'test', 'fixtures', 'fraud', 'golden.json');
  const golden = JSON.parse(readFileSync(file, 'utf8')) as { rows?: unknown[] };
  if (!Array.isArray(golden.rows) || golden.rows.length === 0) throw new Error(`${file}: no "rows"`);
  return golden.rows;
}

/** A function returning the pool's records one after another, forever. */
export function cycle<T>(pool: readonly T[]): () => T {
  let i = 0;
  return () => {
    const r = pool[i] as T;
    i = i + 1 === pool.length ? 0 : i + 1;
    return r;
  };
}
