// The reference score distribution stored with a model (models/<name>/reference_scores.json,
// written by the training script from held-out data): the baseline the drift monitor compares the
// live scores with. Read once at load and validated here, so a malformed file fails the load with
// the field at fault instead of producing a meaningless PSI later.

import { readFileSync } from 'node:fs';
import { edgesProblem, type Histogram } from './score-distribution';

export interface ScoreReference extends Histogram {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  /** Number of scores behind the histogram: the sum of the counts. */
  readonly n: number;
  /** The output tensor the scores come from, and the index within a row, when the file says. */
  readonly scoreOutput?: string;
  readonly scoreIndex?: number;
  readonly description?: string;
}

/** Largest reference file read: a histogram is a few hundred bytes; this bounds a wrong path. */
const MAX_REFERENCE_BYTES = 1 << 20;
/** Most bins accepted: a score histogram has tens; this bounds the per-score cost of binning. */
export const MAX_REFERENCE_BINS = 10_000;

export class ScoreReferenceError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'ScoreReferenceError';
  }
}

/** Reads and validates a reference file (`bin_edges`, `counts`; optional `n`, `score_output`, ...). */
export function readScoreReference(file: string): ScoreReference {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_REFERENCE_BYTES) {
      throw new ScoreReferenceError(file, `is ${bytes.length} bytes, more than the ${MAX_REFERENCE_BYTES} a score histogram can need`);
    }
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof ScoreReferenceError) throw err;
    throw new ScoreReferenceError(file, `cannot be read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScoreReferenceError(file, `is not valid JSON: ${(err as Error).message}`);
  }
  return parseScoreReference(json, file);
}

/** Validates a parsed reference; `source` names it in errors (a file path, say). */
export function parseScoreReference(json: unknown, source = 'score reference'): ScoreReference {
  const fail = (message: string): never => {
    throw new ScoreReferenceError(source, message);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must be a JSON object with "bin_edges" and "counts"');
  const o = json as Record<string, unknown>;

  const edgesIssue = edgesProblem(o.bin_edges, 'field "bin_edges"');
  if (edgesIssue !== undefined) fail(edgesIssue);
  const edges = o.bin_edges as number[];
  if (edges.length - 1 > MAX_REFERENCE_BINS) fail(`field "bin_edges" defines ${edges.length - 1} bins, more than the ${MAX_REFERENCE_BINS} allowed`);

  if (!Array.isArray(o.counts)) fail('field "counts" must be an array of non-negative integers, one per bin');
  const counts = o.counts as unknown[];
  if (counts.length !== edges.length - 1) {
    fail(`field "counts" must hold one count per bin of "bin_edges" (${edges.length - 1}), got ${counts.length}`);
  }
  counts.forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) {
      fail(`field "counts[${i}]" must be a non-negative integer, got ${JSON.stringify(c) ?? String(c)}`);
    }
  });
  const n = (counts as number[]).reduce((s, c) => s + c, 0);
  if (n === 0) fail('field "counts" sums to 0: a reference needs at least one score');
  if (o.n !== undefined && o.n !== n) fail(`field "n" is ${JSON.stringify(o.n)}, but "counts" sums to ${n}`);

  if (o.score_output !== undefined && typeof o.score_output !== 'string') fail('field "score_output" must be a string (an output tensor name)');
  if (o.score_index !== undefined && !(typeof o.score_index === 'number' && Number.isInteger(o.score_index) && o.score_index >= 0)) {
    fail('field "score_index" must be a non-negative integer');
  }
  if (o.description !== undefined && typeof o.description !== 'string') fail('field "description" must be a string');

  return {
    edges: [...edges],
    counts: [...(counts as number[])],
    n,
    ...(o.score_output !== undefined && { scoreOutput: o.score_output as string }),
    ...(o.score_index !== undefined && { scoreIndex: o.score_index as number }),
    ...(o.description !== undefined && { description: o.description as string }),
  };
}
