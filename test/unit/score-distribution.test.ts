import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import {
  equalWidthEdges,
  histogram,
  kolmogorovSurvival,
  ksAsymptoticPValue,
  ksStatistic,
  populationStabilityIndex,
  PSI_EPSILON,
} from '../../src/observability/score-distribution';
import { parseScoreReference, readScoreReference } from '../../src/observability/score-reference';
import { MODELS } from '../helpers';
import { closeTo, referenceStatistics, seeded, type ReferenceAnswer } from '../support/score-statistics';

// Fixed data sets (seeded, so the same on every run) chosen for what goes wrong in such code: ties,
// unequal sizes, empty bins, values on and outside the edges, tiny samples.
const rnd = seeded(20240601);
const skewed = Array.from({ length: 2000 }, () => rnd() ** 6); // mostly near 0, like fraud scores
const shifted = Array.from({ length: 1357 }, () => Math.min(1, rnd() ** 3 + 0.05));
const rounded = Array.from({ length: 500 }, () => Math.round(rnd() * 20) / 20); // many ties, many on edges
const roundedOther = Array.from({ length: 800 }, () => Math.round(rnd() ** 2 * 20) / 20);
const outside = [-0.5, -0.0, 0, 0.05, 0.999, 1, 1.0000001, 7, 0.5, 0.5];
const concentrated = Array.from({ length: 300 }, () => 0.4 + rnd() * 0.1); // most bins empty

const SAMPLES: [string, number[], number[]][] = [
  ['skewed vs shifted (different sizes)', skewed, shifted],
  ['rounded to 0.05: ties and values on the edges', rounded, roundedOther],
  ['hand-written ties', [0.1, 0.1, 0.2, 0.2, 0.2, 0.5, 0.9], [0.1, 0.2, 0.2, 0.3, 0.5, 0.5, 0.5, 0.9, 0.9, 1.0]],
  ['identical values', [0.5, 0.5, 0.5], [0.5, 0.5]],
  ['disjoint', [0, 0.1], [0.8, 0.9, 1]],
  ['one value each', [0.3], [0.7]],
  ['outside [0, 1]', outside, [0.2, 0.4, -3, 2]],
  ['concentrated vs skewed (empty bins)', concentrated, skewed],
];
const EDGES: [string, number[]][] = [
  ['20 equal bins', equalWidthEdges(20)],
  ['uneven bins', [0, 0.01, 0.05, 0.2, 0.5, 1]],
  ['a narrow range', [0.4, 0.45, 0.5]],
];
const reference = readScoreReference(path.join(MODELS, 'fraud', 'reference_scores.json'));
const Y = [0.05, 0.2, 0.5, 0.8, 0.99, 1, 1.2, 2, 3, 5];

describe('score distribution statistics', () => {
  let ref: ReferenceAnswer;
  const histogramCases = SAMPLES.flatMap(([, a, b]) => EDGES.flatMap(([, edges]) => [{ values: a, edges }, { values: b, edges }]));
  const psiCases = SAMPLES.flatMap(([, a, b]) =>
    EDGES.map(([, edges]) => ({ expected: histogram(a, edges).counts as number[], actual: histogram(b, edges).counts as number[], epsilon: PSI_EPSILON })),
  );
  const fraudShifted = reference.counts.map((c, i) => (i < 3 ? Math.round(c * 0.8) : c * 3));
  psiCases.push(
    { expected: [...reference.counts], actual: histogram(skewed, reference.edges).counts as number[], epsilon: PSI_EPSILON },
    { expected: [...reference.counts], actual: fraudShifted, epsilon: PSI_EPSILON },
    { expected: [...reference.counts], actual: fraudShifted, epsilon: 1e-6 },
  );

  before(() => {
    ref = referenceStatistics({
      histogram: histogramCases,
      psi: psiCases,
      ks: SAMPLES.map(([, a, b]) => ({ a, b })),
      kolmogorov: Y,
    });
  });

  it('bins like numpy.histogram, with values outside the edges clamped to the end bins', () => {
    histogramCases.forEach(({ values, edges }, i) => {
      assert.deepEqual(histogram(values, edges).counts, ref.histogram?.[i], `case ${i}`);
    });
    // The convention itself: [e_i, e_i+1), the last bin closed, outside clamped.
    assert.deepEqual(histogram([0, 0.5, 0.9999, 1, -1, 2], [0, 0.5, 1]).counts, [2, 4]);
    assert.deepEqual(histogram([0.49999], [0, 0.5, 1]).counts, [1, 0]);
  });

  it('computes the PSI as numpy does over the same bins and epsilon (1e-9 relative)', () => {
    assert.equal(ref.psi?.length, psiCases.length);
    psiCases.forEach(({ expected, actual, epsilon }, i) => {
      const edges = equalWidthEdges(expected.length);
      const psi = populationStabilityIndex({ edges, counts: expected }, { edges, counts: actual }, { epsilon });
      const want = ref.psi?.[i] as number;
      assert.ok(closeTo(psi, want), `case ${i}: ${psi} vs numpy ${want}`);
    });
    // Identical proportions: 0, whatever the totals.
    const edges = equalWidthEdges(3);
    assert.equal(populationStabilityIndex({ edges, counts: [1, 2, 0] }, { edges, counts: [10, 20, 0] }), 0);
  });

  it('computes the two-sample KS statistic as scipy.stats.ks_2samp does (1e-9 relative)', () => {
    SAMPLES.forEach(([name, a, b], i) => {
      const d = ksStatistic(a, b);
      const want = ref.ks?.[i] as number;
      assert.ok(closeTo(d, want), `${name}: ${d} vs scipy ${want}`);
      assert.equal(ksStatistic(b, a), d, `${name}: symmetric`);
    });
    assert.equal(ksStatistic([0.5, 0.5, 0.5], [0.5, 0.5]), 0);
    assert.equal(ksStatistic([0, 0.1], [0.8, 0.9, 1]), 1);
    // Sorting works on copies.
    const a = new Float64Array([0.9, 0.1, 0.5]);
    ksStatistic(a, [0.2]);
    assert.deepEqual([...a], [0.9, 0.1, 0.5]);
  });

  it('gives the asymptotic KS p-value from the Kolmogorov distribution as scipy.special.kolmogorov does', () => {
    Y.forEach((y, i) => {
      const want = ref.kolmogorov?.[i] as number;
      assert.ok(closeTo(kolmogorovSurvival(y), want), `y=${y}: ${kolmogorovSurvival(y)} vs scipy ${want}`);
    });
    assert.equal(kolmogorovSurvival(0), 1);
    assert.ok(closeTo(ksAsymptoticPValue(0.1, 400, 100), kolmogorovSurvival(Math.sqrt(80) * 0.1)));
  });

  it('makes equal-width edges that match the stored reference exactly', () => {
    assert.deepEqual(equalWidthEdges(20), reference.edges);
    assert.deepEqual(equalWidthEdges(4, -1, 1), [-1, -0.5, 0, 0.5, 1]);
    assert.throws(() => equalWidthEdges(0), /bins must be an integer >= 1, got 0/);
    assert.throws(() => equalWidthEdges(5, 1, 1), /lo < hi/);
  });

  it('refuses inputs it cannot compare, naming what is wrong', () => {
    const edges = equalWidthEdges(2);
    assert.throws(() => populationStabilityIndex({ edges, counts: [0, 0] }, { edges, counts: [1, 1] }), /expected has no observations/);
    assert.throws(() => populationStabilityIndex({ edges, counts: [1, 1] }, { edges: [0, 0.4, 1], counts: [1, 1] }), /share their bin edges/);
    assert.throws(() => populationStabilityIndex({ edges, counts: [1] }, { edges, counts: [1, 1] }), /expected\.counts must hold one count per bin \(2\), got 1/);
    assert.throws(() => populationStabilityIndex({ edges, counts: [1, -1] }, { edges, counts: [1, 1] }), /expected\.counts\[1\] must be a non-negative number/);
    assert.throws(() => populationStabilityIndex({ edges: [0, 1, 0.5], counts: [1, 1] }, { edges, counts: [1, 1] }), /expected\.edges must be strictly increasing/);
    assert.throws(() => populationStabilityIndex({ edges, counts: [1, 1] }, { edges, counts: [1, 1] }, { epsilon: 0 }), /epsilon must be in \(0, 1\)/);
    assert.throws(() => ksStatistic([], [1]), /sample a is empty/);
    assert.throws(() => ksStatistic([1], [0.2, NaN]), /sample b\[1\] is NaN/);
    assert.throws(() => histogram([0.1, Infinity], edges), /values\[1\] must be a finite number/);
  });
});

describe('score reference file', () => {
  it('reads models/fraud/reference_scores.json', () => {
    assert.equal(reference.edges.length, 21);
    assert.equal(reference.counts.length, 20);
    assert.equal(reference.n, 40000);
    assert.equal(reference.scoreOutput, 'probabilities');
    assert.equal(reference.scoreIndex, 1);
  });

  it('refuses a malformed reference with the field at fault', () => {
    const good = { bin_edges: [0, 0.5, 1], counts: [3, 1], n: 4 };
    const bad = (patch: Record<string, unknown>): unknown => ({ ...good, ...patch });
    assert.throws(() => parseScoreReference([], 'r.json'), /^ScoreReferenceError: r\.json: must be a JSON object/);
    assert.throws(() => parseScoreReference(bad({ bin_edges: undefined })), /field "bin_edges" must be an array of numbers/);
    assert.throws(() => parseScoreReference(bad({ bin_edges: [0, '0.5', 1] })), /field "bin_edges"\[1\] must be a finite number, got "0.5"/);
    assert.throws(() => parseScoreReference(bad({ bin_edges: [0, 1, 0.5] })), /field "bin_edges" must be strictly increasing/);
    assert.throws(() => parseScoreReference(bad({ counts: [3, 1, 0] })), /field "counts" must hold one count per bin of "bin_edges" \(2\), got 3/);
    assert.throws(() => parseScoreReference(bad({ counts: [3, 1.5] })), /field "counts\[1\]" must be a non-negative integer, got 1.5/);
    assert.throws(() => parseScoreReference(bad({ counts: [0, 0], n: 0 })), /field "counts" sums to 0/);
    assert.throws(() => parseScoreReference(bad({ n: 5 })), /field "n" is 5, but "counts" sums to 4/);
    assert.throws(() => parseScoreReference(bad({ score_index: -1 })), /field "score_index" must be a non-negative integer/);
    assert.deepEqual(parseScoreReference(good), { edges: [0, 0.5, 1], counts: [3, 1], n: 4 });
  });

  it('names the file when it cannot be read or parsed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-reference-'));
    try {
      const file = path.join(dir, 'reference_scores.json');
      fs.writeFileSync(file, '{"bin_edges": [0, 1],');
      assert.throws(() => readScoreReference(file), (err: Error) => err.message.startsWith(`${file}: is not valid JSON`));
      assert.throws(() => readScoreReference(path.join(dir, 'missing.json')), /missing\.json: cannot be read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
