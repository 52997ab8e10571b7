// The shadow comparator: the router feeds it one (primary, shadow) answer pair at a time and it
// says how far the shadow is from the primary. record() sits on the completion path of every
// shadowed request, so it is O(1) and keeps no per-pair objects: the sliding window lives in
// preallocated ring buffers (scores, latency differences, agreement flags). Everything that needs a
// pass over the window (means, maxima, percentiles, histograms, PSI, KS) is computed in summary(),
// which an operator calls now and then. Depends on nothing but the score statistics.
//
// A pair with a score that is not a finite number is refused (TypeError naming the field): the
// router should count such a shadow answer with recordShadowFailure() instead, since it is one.

import { binIndex, edgesProblem, equalWidthEdges, ksAsymptoticPValue, ksStatistic, populationStabilityIndex, PSI_EPSILON } from '../observability/score-distribution';
import { positiveInteger } from '../observability/window-size';

/** One request answered by both the primary and the shadow. */
export interface ShadowPair {
  primaryScore: number;
  shadowScore: number;
  /** The decision band each score falls in (the model's decision bands), when the model has them. */
  primaryDecision?: string;
  shadowDecision?: string;
  primaryLatencyMs: number;
  shadowLatencyMs: number;
  /** The request's input, kept only if the pair is a sampled disagreement. */
  input?: unknown;
  /** When the pair completed, in ms since the epoch (default: when record() is called). */
  at?: number;
}

export interface ShadowComparatorOptions {
  /** Pairs in the sliding window (default 10,000). */
  windowSize?: number;
  /** Bin edges for the two score histograms, the PSI among them (default: 20 equal-width bins on [0, 1]). */
  edges?: readonly number[];
  /** Without decisions, a pair disagrees when |shadow - primary| exceeds this (default 0.05). */
  tolerance?: number;
  /** Disagreements kept with their inputs: the most recent ones (default 50). */
  maxDisagreementSamples?: number;
  /** Distinct shadow failure codes counted, "other" included: once full, new codes count as "other" (default 32). */
  maxFailureCodes?: number;
  /** Replaces an empty bin's proportion in the PSI (default PSI_EPSILON, 1e-4). */
  epsilon?: number;
  /** The clock for pairs without `at` (default Date.now). */
  now?: () => number;
}

export interface ShadowDisagreement {
  primaryScore: number;
  shadowScore: number;
  primaryDecision: string | null;
  shadowDecision: string | null;
  input: unknown;
  at: number;
}

/** What summary() returns: plain JSON (null where a figure is undefined, e.g. over an empty window). */
export interface ShadowSummary {
  /** Since the comparator was created. */
  totals: {
    pairs: number;
    agreements: number;
    disagreements: number;
    /** Shadow requests that failed, by error code. */
    shadowFailures: Record<string, number>;
    /** Shadow copies not made because the shadow queue was full. */
    dropped: number;
  };
  /** Over the last `size` pairs (`count` of them so far). */
  window: {
    size: number;
    count: number;
    /** |shadowScore - primaryScore|. */
    meanAbsDiff: number | null;
    maxAbsDiff: number | null;
    /** Share of the window's pairs that agree (same decision; without decisions, |diff| <= tolerance). */
    agreementRate: number | null;
    /** Pairs of the window that carried both decisions (the others were judged by the tolerance). */
    decisionPairs: number;
    /** shadowLatencyMs - primaryLatencyMs; percentiles interpolate linearly between ranks (numpy's default). */
    latencyDiffMs: { mean: number | null; p50: number | null; p99: number | null };
    /** PSI of the shadow scores against the primary's, over `histograms.edges`. */
    psi: number | null;
    /** Two-sample Kolmogorov-Smirnov D between the primary and shadow scores, and its asymptotic p-value. */
    ks: number | null;
    ksPValue: number | null;
    histograms: { edges: number[]; primary: number[]; shadow: number[] };
  };
  tolerance: number;
  sampledDisagreements: { policy: 'most-recent'; capacity: number; pairs: ShadowDisagreement[] };
}

/**
 * A kept input, safe to hold and to serialize: typed arrays (a tensor row, at the top or one level
 * down) are copied into plain arrays. Callers pass views; only the few disagreements kept pay the copy.
 */
function keepable(input: unknown): unknown {
  if (input === undefined || input === null) return null;
  if (ArrayBuffer.isView(input)) return Array.from(input as unknown as ArrayLike<number>);
  if (typeof input !== 'object' || Array.isArray(input)) return input;
  if (!Object.values(input).some((v) => ArrayBuffer.isView(v))) return input;
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v]));
}

const MAX_FAILURE_CODE_LENGTH = 64;
/** The bucket for failure codes past maxFailureCodes, so a stream of odd codes cannot grow the map. */
export const OTHER_FAILURE_CODE = 'other';

/** The q-quantile of sorted values, interpolated linearly as numpy.percentile's default method does. */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  const index = q * (sorted.length - 1);
  const below = Math.floor(index);
  const a = sorted[below] as number;
  const b = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  const t = index - below;
  // numpy's lerp: from the nearer end, which keeps the result exact at t = 0 and t = 1.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

export class ShadowComparator {
  readonly windowSize: number;
  readonly tolerance: number;
  private readonly edges: readonly number[];
  private readonly epsilon: number;
  private readonly now: () => number;
  private readonly maxFailureCodes: number;

  // The window: slot `next` is written next; once full it holds the oldest pair.
  private readonly primaryScores: Float64Array;
  private readonly shadowScores: Float64Array;
  private readonly latencyDiffs: Float64Array;
  private readonly agreed: Uint8Array;
  private readonly decided: Uint8Array;
  private next = 0;
  private count = 0;

  private pairs = 0;
  private agreements = 0;
  private dropped = 0;
  private readonly failures = new Map<string, number>();

  // Most recent disagreements, a ring like the window.
  private readonly samples: (ShadowDisagreement | undefined)[];
  private nextSample = 0;

  constructor(opts: ShadowComparatorOptions = {}) {
    this.windowSize = positiveInteger(opts.windowSize, 'windowSize', 10_000);
    this.tolerance = opts.tolerance ?? 0.05;
    if (!(Number.isFinite(this.tolerance) && this.tolerance >= 0)) throw new RangeError(`tolerance must be a number >= 0, got ${String(opts.tolerance)}`);
    const edges = opts.edges ?? equalWidthEdges(20);
    const problem = edgesProblem(edges, 'edges');
    if (problem !== undefined) throw new RangeError(problem);
    this.edges = [...edges];
    this.epsilon = opts.epsilon ?? PSI_EPSILON;
    if (!(this.epsilon > 0 && this.epsilon < 1)) throw new RangeError(`epsilon must be in (0, 1), got ${String(opts.epsilon)}`);
    this.now = opts.now ?? Date.now;
    this.maxFailureCodes = positiveInteger(opts.maxFailureCodes, 'maxFailureCodes', 32);
    this.samples = new Array<ShadowDisagreement | undefined>(positiveInteger(opts.maxDisagreementSamples, 'maxDisagreementSamples', 50));
    this.primaryScores = new Float64Array(this.windowSize);
    this.shadowScores = new Float64Array(this.windowSize);
    this.latencyDiffs = new Float64Array(this.windowSize);
    this.agreed = new Uint8Array(this.windowSize);
    this.decided = new Uint8Array(this.windowSize);
  }

  /** Adds one answered pair. O(1): writes one slot of each ring (and one sample if they disagree). */
  record(pair: ShadowPair): void {
    checkPair(pair);
    const diff = pair.shadowScore - pair.primaryScore;
    const decided = pair.primaryDecision !== undefined && pair.shadowDecision !== undefined;
    const agrees = decided ? pair.primaryDecision === pair.shadowDecision : Math.abs(diff) <= this.tolerance;

    const slot = this.next;
    this.primaryScores[slot] = pair.primaryScore;
    this.shadowScores[slot] = pair.shadowScore;
    this.latencyDiffs[slot] = pair.shadowLatencyMs - pair.primaryLatencyMs;
    this.agreed[slot] = agrees ? 1 : 0;
    this.decided[slot] = decided ? 1 : 0;
    this.next = slot + 1 === this.windowSize ? 0 : slot + 1;
    if (this.count < this.windowSize) this.count++;

    this.pairs++;
    if (agrees) {
      this.agreements++;
      return;
    }
    this.samples[this.nextSample] = {
      primaryScore: pair.primaryScore,
      shadowScore: pair.shadowScore,
      primaryDecision: pair.primaryDecision ?? null,
      shadowDecision: pair.shadowDecision ?? null,
      input: keepable(pair.input),
      at: pair.at ?? this.now(),
    };
    this.nextSample = this.nextSample + 1 === this.samples.length ? 0 : this.nextSample + 1;
  }

  /** Counts a shadow request that failed (an error code such as 'deadline_exceeded'). */
  recordShadowFailure(code: string): void {
    if (typeof code !== 'string' || code.length === 0 || code.length > MAX_FAILURE_CODE_LENGTH) {
      throw new TypeError(`code must be a non-empty string of at most ${MAX_FAILURE_CODE_LENGTH} characters, got ${JSON.stringify(code) ?? String(code)}`);
    }
    const key = this.failures.has(code) || this.failures.size < this.maxFailureCodes - 1 || code === OTHER_FAILURE_CODE ? code : OTHER_FAILURE_CODE;
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  /** Counts a shadow copy the router did not make because its bounded shadow queue was full. */
  recordDrop(): void {
    this.dropped++;
  }

  /** The comparison so far, as plain JSON. O(windowSize log windowSize): call it now and then. */
  summary(): ShadowSummary {
    const n = this.count;
    const bins = this.edges.length - 1;
    const primaryCounts = new Array<number>(bins).fill(0);
    const shadowCounts = new Array<number>(bins).fill(0);
    let sumAbs = 0;
    let maxAbs = 0;
    let agreed = 0;
    let decided = 0;
    let sumLatency = 0;
    // The window's slots are 0..n-1 whether or not it has wrapped; order does not matter here.
    for (let i = 0; i < n; i++) {
      const p = this.primaryScores[i] as number;
      const s = this.shadowScores[i] as number;
      const abs = Math.abs(s - p);
      sumAbs += abs;
      if (abs > maxAbs) maxAbs = abs;
      agreed += this.agreed[i] as number;
      decided += this.decided[i] as number;
      sumLatency += this.latencyDiffs[i] as number;
      (primaryCounts[binIndex(p, this.edges)] as number)++;
      (shadowCounts[binIndex(s, this.edges)] as number)++;
    }
    const primary = this.primaryScores.subarray(0, n);
    const shadow = this.shadowScores.subarray(0, n);
    const latencies = n === 0 ? undefined : this.latencyDiffs.slice(0, n).sort();
    const ks = n === 0 ? null : ksStatistic(primary, shadow);
    const histograms = { edges: [...this.edges], primary: primaryCounts, shadow: shadowCounts };

    return {
      totals: {
        pairs: this.pairs,
        agreements: this.agreements,
        disagreements: this.pairs - this.agreements,
        shadowFailures: Object.fromEntries(this.failures),
        dropped: this.dropped,
      },
      window: {
        size: this.windowSize,
        count: n,
        meanAbsDiff: n === 0 ? null : sumAbs / n,
        maxAbsDiff: n === 0 ? null : maxAbs,
        agreementRate: n === 0 ? null : agreed / n,
        decisionPairs: decided,
        latencyDiffMs: {
          mean: n === 0 ? null : sumLatency / n,
          p50: latencies === undefined ? null : quantileOfSorted(latencies, 0.5),
          p99: latencies === undefined ? null : quantileOfSorted(latencies, 0.99),
        },
        psi:
          n === 0
            ? null
            : populationStabilityIndex(
                { edges: this.edges, counts: primaryCounts },
                { edges: this.edges, counts: shadowCounts },
                { epsilon: this.epsilon },
              ),
        ks,
        ksPValue: ks === null ? null : ksAsymptoticPValue(ks, n, n),
        histograms,
      },
      tolerance: this.tolerance,
      sampledDisagreements: { policy: 'most-recent', capacity: this.samples.length, pairs: this.sampledDisagreements() },
    };
  }

  /** The kept disagreements, oldest first. */
  private sampledDisagreements(): ShadowDisagreement[] {
    const out: ShadowDisagreement[] = [];
    for (let k = 0; k < this.samples.length; k++) {
      const sample = this.samples[(this.nextSample + k) % this.samples.length];
      if (sample !== undefined) out.push({ ...sample });
    }
    return out;
  }
}

function checkPair(pair: ShadowPair): void {
  if (typeof pair !== 'object' || pair === null) throw new TypeError('a shadow pair must be an object');
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new TypeError(`shadow pair: field "${field}" must be ${expected}, got ${typeof got === 'number' ? String(got) : (JSON.stringify(got) ?? String(got))}`);
  };
  for (const field of ['primaryScore', 'shadowScore'] as const) {
    if (typeof pair[field] !== 'number' || !Number.isFinite(pair[field])) fail(field, 'a finite number', pair[field]);
  }
  for (const field of ['primaryLatencyMs', 'shadowLatencyMs'] as const) {
    if (typeof pair[field] !== 'number' || !Number.isFinite(pair[field]) || pair[field] < 0) fail(field, 'a finite number >= 0', pair[field]);
  }
  for (const field of ['primaryDecision', 'shadowDecision'] as const) {
    if (pair[field] !== undefined && typeof pair[field] !== 'string') fail(field, 'a string when given', pair[field]);
  }
  if (pair.at !== undefined && (typeof pair.at !== 'number' || !Number.isFinite(pair.at))) fail('at', 'a finite number (ms since the epoch) when given', pair.at);
}
