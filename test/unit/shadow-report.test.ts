import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkShadowSummary, escapeXml, renderShadowSvg, renderShadowTable } from '../../src/cli/shadow-report';
import { ShadowComparator, type ShadowSummary } from '../../src/routing/shadow-comparison';
import { referenceStatistics, seeded } from '../support/score-statistics';

/** A summary as it arrives over HTTP: a comparator fed seeded pairs, through JSON. */
function summaryOverHttp(pairs: number): ShadowSummary {
  const rnd = seeded(11);
  const c = new ShadowComparator({ windowSize: 500 });
  for (let i = 0; i < pairs; i++) {
    const p = rnd() ** 3;
    c.record({ primaryScore: p, shadowScore: Math.min(1, p + rnd() * 0.1), primaryLatencyMs: 1, shadowLatencyMs: 1.5 + rnd(), input: { i } });
  }
  c.recordShadowFailure('deadline_exceeded');
  c.recordShadowFailure('deadline_exceeded');
  c.recordShadowFailure('unavailable');
  c.recordDrop();
  return JSON.parse(JSON.stringify(c.summary())) as ShadowSummary;
}

describe('shadow report', () => {
  it('renders a table that names every figure of the summary', () => {
    const s = summaryOverHttp(800);
    const table = renderShadowTable(s, 'fraud');
    const figure = (x: number | null): string => String(Number((x as number).toPrecision(4)));
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0] as string, /shadow comparison of model "fraud"/);
    const expected: [string, string][] = [
      ['window', `${s.window.count} of 500 pairs`],
      ['pairs since start', '800'],
      ['agreement rate', `${((s.window.agreementRate as number) * 100).toFixed(2)}%`],
      ['disagreements since start', String(s.totals.disagreements)],
      ['mean |diff|', figure(s.window.meanAbsDiff)],
      ['max |diff|', figure(s.window.maxAbsDiff)],
      ['PSI (shadow vs primary)', figure(s.window.psi)],
      ['KS statistic', figure(s.window.ks)],
      ['latency diff mean', `${figure(s.window.latencyDiffMs.mean)} ms`],
      ['latency diff p50', `${figure(s.window.latencyDiffMs.p50)} ms`],
      ['latency diff p99', `${figure(s.window.latencyDiffMs.p99)} ms`],
      ['shadow failures', '3 (deadline_exceeded: 2, unavailable: 1)'],
      ['dropped (queue full)', '1'],
    ];
    // Two spaces, the widest label, two spaces: every value starts in the same column.
    const valueColumn = 4 + Math.max(...expected.map(([label]) => label.length));
    for (const [label, value] of expected) {
      const line = lines.find((l) => l.trimStart().startsWith(label));
      assert.ok(line, `a line for ${label}`);
      assert.ok(line.slice(valueColumn).startsWith(value), `${label}: "${line}" should show ${value} in the value column`);
    }
    assert.equal(lines.length, expected.length + 1);
  });

  it('renders an empty summary with n/a for the undefined figures', () => {
    const table = renderShadowTable(new ShadowComparator().summary(), 'fraud');
    assert.match(table, /window\s+0 of 10000 pairs/);
    assert.match(table, /PSI \(shadow vs primary\)\s+n\/a/);
    assert.match(table, /latency diff p99\s+n\/a/);
    assert.match(table, /shadow failures\s+0\n/);
    assert.match(renderShadowSvg(new ShadowComparator().summary(), 'fraud'), /window 0 of 10000 pairs/);
  });

  it('renders an SVG that parses as XML and holds both series, escaping the text', () => {
    const s = summaryOverHttp(800);
    const hostile = `fr<a>&"ud'`;
    const svgs = [renderShadowSvg(s, 'fraud'), renderShadowSvg(s, hostile), renderShadowSvg(new ShadowComparator().summary(), 'empty')];
    const outlines = referenceStatistics({ xml: svgs }).xml ?? [];
    assert.equal(outlines.length, 3);
    for (const outline of outlines) {
      assert.equal(outline.tag, '{http://www.w3.org/2000/svg}svg');
      assert.deepEqual(outline.series, ['primary', 'shadow']);
      for (const tick of ['0', '0.2', '0.5', '0.9', '1']) assert.ok(outline.texts.includes(tick), `x tick ${tick}`);
      assert.ok(outline.texts.some((t) => t.startsWith('primary (')) && outline.texts.some((t) => t.startsWith('shadow (')), 'a legend entry per series');
    }
    const [plain, escaped] = outlines;
    assert.ok(plain?.texts.includes('fraud: primary vs shadow score distribution'));
    assert.ok(plain?.texts.includes(`PSI ${Number((s.window.psi as number).toPrecision(4))} · KS ${Number((s.window.ks as number).toPrecision(4))} · window 500 of 500 pairs`));
    assert.ok(escaped?.texts.includes(`${hostile}: primary vs shadow score distribution`), 'the model name survives escaping intact');
    assert.ok(!svgs[1]?.includes(hostile));
    assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
  });

  it('refuses a summary that is not one, naming the field', () => {
    const s = summaryOverHttp(10);
    assert.throws(() => renderShadowTable(null, 'fraud'), /field "summary" must be an object/);
    assert.throws(() => renderShadowTable({ ...s, totals: { ...s.totals, dropped: -1 } }, 'fraud'), /field "totals\.dropped" must be a non-negative integer/);
    assert.throws(
      () => renderShadowSvg({ ...s, window: { ...s.window, histograms: { ...s.window.histograms, shadow: [1, 2] } } }, 'fraud'),
      /field "window\.histograms\.shadow" must be an array of 20 counts, one per bin/,
    );
    assert.throws(() => checkShadowSummary({ ...s, window: { ...s.window, psi: 'high' } }), /field "window\.psi" must be a finite number or null/);
    assert.throws(() => checkShadowSummary({ ...s, window: { ...s.window, latencyDiffMs: undefined } }), /field "window\.latencyDiffMs" must be an object/);
  });
});
