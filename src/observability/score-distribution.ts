// Statistics that compare two score distributions: the population stability index over shared bins
// (drift against a reference, shadow against primary) and the two-sample Kolmogorov-Smirnov D.
// Pure functions over plain numbers, so the router, the drift monitor and the tests share one
// definition, and the tests check it against numpy and scipy (test/support/score_statistics.py).

/** Counts over shared bin edges: bin i covers [edges[i], edges[i+1]); the last bin also holds edges[n]. */
export interface Histogram {
  /** Strictly increasing finite numbers, at least two. */
  readonly edges: readonly number[];
  /** One non-negative count per bin: edges.length - 1 of them. */
  readonly counts: ArrayLike<number>;
}

/**
 * What an empty bin's proportion becomes in the PSI: ln(0) is undefined, and one empty bin would
 * otherwise make the index infinite. 1e-4 is the customary value (one in ten thousand).
 */
export const PSI_EPSILON = 1e-4;

export interface PsiOptions {
  /** Replaces a proportion of exactly 0 (default PSI_EPSILON). Must be > 0 and < 1. */
  epsilon?: number;
}

/** Edges of `bins` equal-width bins over [lo, hi]; edge i is lo + (hi - lo) * i / bins, the last is hi exactly. */
export function equalWidthEdges(bins: number, lo = 0, hi = 1): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be an integer >= 1, got ${String(bins)}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new RangeError(`the range must be finite with lo < hi, got [${String(lo)}, ${String(hi)}]`);
  }
  // i / bins, not i * (1 / bins): for [0, 1] this gives 0.15, not 0.15000000000000002, as the
  // reference histograms written by models/*/train.py have it.
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  edges[bins] = hi;
  return edges;
}

/** Why `edges` cannot serve as bin edges; undefined when they can. `what` names them in the message. */
export function edgesProblem(edges: unknown, what = 'edges'): string | undefined {
  if (!Array.isArray(edges)) return `${what} must be an array of numbers`;
  if (edges.length < 2) return `${what} must hold at least two numbers (one bin), got ${edges.length}`;
  for (let i = 0; i < edges.length; i++) {
    const e: unknown = edges[i];
    if (typeof e !== 'number' || !Number.isFinite(e)) return `${what}[${i}] must be a finite number, got ${JSON.stringify(e) ?? String(e)}`;
    if (i > 0 && e <= (edges[i - 1] as number)) return `${what} must be strictly increasing: ${what}[${i}] is ${e} after ${edges[i - 1] as number}`;
  }
  return undefined;
}

function checkEdges(edges: readonly number[], what: string): void {
  const problem = edgesProblem(edges, what);
  if (problem !== undefined) throw new RangeError(problem);
}

/**
 * The bin of `x` among `edges` (already validated): the largest i with edges[i] <= x, so bin i covers
 * [edges[i], edges[i+1]) and the last bin also its upper edge (numpy.histogram's convention).
 *
 * Values outside the edges clamp to the end bins instead of being dropped (numpy drops them). A
 * score a hair above 1 from float rounding, or a tail the reference never saw, is still an
 * observation: dropping it would hide exactly the mass that drift is about and make the window's
 * total differ from the number of scores observed.
 */
export function binIndex(x: number, edges: readonly number[]): number {
  const last = edges.length - 2;
  if (!(x > (edges[0] as number))) return 0; // also x == edges[0]
  if (x >= (edges[last] as number)) return last;
  // Binary search for the largest i in [0, last) with edges[i] <= x: a few comparisons for 20 bins.
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Counts of `values` per bin of `edges` (see binIndex for the convention). Values must be finite. */
export function histogram(values: ArrayLike<number>, edges: readonly number[]): Histogram {
  checkEdges(edges, 'edges');
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new RangeError(`values[${i}] must be a finite number, got ${String(v)}`);
    (counts[binIndex(v, edges)] as number)++;
  }
  return { edges: [...edges], counts };
}

/** The total count of a histogram, after checking it (`what` names it in errors); throws if it is 0. */
export function histogramTotal(h: Histogram, what = 'histogram'): number {
  checkEdges(h.edges, `${what}.edges`);
  if (h.counts.length !== h.edges.length - 1) {
    throw new RangeError(`${what}.counts must hold one count per bin (${h.edges.length - 1}), got ${h.counts.length}`);
  }
  let total = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i] as number;
    if (!Number.isFinite(c) || c < 0) throw new RangeError(`${what}.counts[${i}] must be a non-negative number, got ${String(c)}`);
    total += c;
  }
  if (total === 0) throw new RangeError(`${what} has no observations: the PSI needs at least one in each histogram`);
  return total;
}

/**
 * The population stability index of `actual` against `expected`, which share bin edges. With
 * proportions e_i = expected_i / sum(expected) and a_i = actual_i / sum(actual):
 *
 *     PSI = sum_i (a_i - e_i) * ln(a_i / e_i)
 *
 * where a proportion of exactly 0 is replaced by epsilon (default 1e-4; nothing is renormalised).
 * This is the usual credit-risk definition (a symmetric Kullback-Leibler divergence over bins):
 * below 0.1 is read as stable, 0.1 to 0.25 as a moderate shift, above 0.25 as a significant one.
 */
export function populationStabilityIndex(expected: Histogram, actual: Histogram, opts: PsiOptions = {}): number {
  const epsilon = opts.epsilon ?? PSI_EPSILON;
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon must be in (0, 1), got ${String(epsilon)}`);
  const expectedTotal = histogramTotal(expected, 'expected');
  const actualTotal = histogramTotal(actual, 'actual');
  if (expected.edges.length !== actual.edges.length || expected.edges.some((e, i) => e !== actual.edges[i])) {
    throw new RangeError('expected and actual must share their bin edges');
  }
  let psi = 0;
  for (let i = 0; i < expected.counts.length; i++) {
    const e = (expected.counts[i] as number) / expectedTotal || epsilon;
    const a = (actual.counts[i] as number) / actualTotal || epsilon;
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

function sortedCopy(sample: ArrayLike<number>, what: string): Float64Array {
  if (sample.length === 0) throw new RangeError(`sample ${what} is empty: the KS statistic needs at least one value in each`);
  const copy = Float64Array.from(sample);
  for (let i = 0; i < copy.length; i++) {
    if (Number.isNaN(copy[i])) throw new RangeError(`sample ${what}[${i}] is NaN`);
  }
  return copy.sort();
}

/**
 * The two-sample Kolmogorov-Smirnov statistic D = sup_x |F_a(x) - F_b(x)|, exact on the samples:
 * F is each sample's empirical CDF (the share of values <= x), compared at every observed value
 * after all the values tied at it are counted, as scipy.stats.ks_2samp does. Sorts copies:
 * O((n + m) log(n + m)).
 */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = sortedCopy(a, 'a');
  const y = sortedCopy(b, 'b');
  const n = x.length;
  const m = y.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n || j < m) {
    // The next distinct value of either sample; step both samples past every copy of it.
    const v = j >= m || (i < n && (x[i] as number) <= (y[j] as number)) ? (x[i] as number) : (y[j] as number);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    // i / n - j / m, as scipy computes it, so the same samples give the same bits.
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
  }
  return d;
}

/**
 * The asymptotic two-sided p-value of a KS statistic `d` from samples of sizes n and m: the
 * Kolmogorov distribution's survival function at sqrt(n m / (n + m)) * d (scipy.special.kolmogorov).
 * Good for large samples (hundreds and up), which is what a window holds; for a few dozen values
 * it departs from the exact p-value (scipy's default for small samples), so read it as a guide there.
 */
export function ksAsymptoticPValue(d: number, n: number, m: number): number {
  if (!(d >= 0 && d <= 1)) throw new RangeError(`d must be in [0, 1], got ${String(d)}`);
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1) {
    throw new RangeError(`sample sizes must be integers >= 1, got ${String(n)} and ${String(m)}`);
  }
  return kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d);
}

/** P(K > y) for the Kolmogorov distribution K, to about double precision. */
export function kolmogorovSurvival(y: number): number {
  if (Number.isNaN(y)) throw new RangeError('y is NaN');
  if (y <= 0) return 1;
  if (y < 1) {
    // Small y: the alternating series below converges slowly; Jacobi's theta form of the CDF,
    // P(K <= y) = sqrt(2 pi) / y * sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 y^2)), converges fast.
    const w = (Math.PI * Math.PI) / (8 * y * y);
    let cdf = 0;
    for (let k = 1; k <= 20; k++) {
      const term = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      cdf += term;
      if (term < 1e-300 || term < cdf * 1e-17) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / y) * cdf;
  }
  // P(K > y) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 y^2); for y >= 1 a handful of terms suffice.
  let sf = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * y * y);
    sf += k % 2 === 1 ? term : -term;
    if (term < sf * 1e-17 || term === 0) break;
  }
  return Math.min(1, 2 * sf);
}
