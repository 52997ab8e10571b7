// `infergate shadow-report <model>`: renders the shadow comparator's summary (GET
// /v1/models/{name}/shadow) as an aligned text table and as a self-contained SVG chart of both
// score distributions. Pure functions of the summary; it arrives over HTTP as plain JSON, so it is
// checked first and a malformed one is refused with the field at fault.

import type { ShadowSummary } from '../routing/shadow-comparison';

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The summary, checked for every field the renderers read; throws naming the first bad field. */
export function checkShadowSummary(summary: unknown): ShadowSummary {
  const fail = (field: string, expected: string): never => {
    throw new TypeError(`shadow summary: field "${field}" must be ${expected}`);
  };
  const object = (x: unknown, field: string): Json => (isObject(x) ? x : fail(field, 'an object'));
  const count = (x: unknown, field: string): void => {
    if (!(typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) fail(field, 'a non-negative integer');
  };
  const figure = (x: unknown, field: string): void => {
    if (x !== null && !(typeof x === 'number' && Number.isFinite(x))) fail(field, 'a finite number or null');
  };
  const counts = (x: unknown, field: string, length: number): void => {
    if (!Array.isArray(x) || x.length !== length) fail(field, `an array of ${length} counts, one per bin`);
    (x as unknown[]).forEach((c, i) => count(c, `${field}[${i}]`));
  };

  const s = object(summary, 'summary');
  const totals = object(s.totals, 'totals');
  for (const k of ['pairs', 'agreements', 'disagreements', 'dropped']) count(totals[k], `totals.${k}`);
  const failures = object(totals.shadowFailures, 'totals.shadowFailures');
  for (const [code, n] of Object.entries(failures)) count(n, `totals.shadowFailures.${code}`);

  const w = object(s.window, 'window');
  for (const k of ['size', 'count', 'decisionPairs']) count(w[k], `window.${k}`);
  for (const k of ['meanAbsDiff', 'maxAbsDiff', 'agreementRate', 'psi', 'ks', 'ksPValue']) figure(w[k], `window.${k}`);
  const latency = object(w.latencyDiffMs, 'window.latencyDiffMs');
  for (const k of ['mean', 'p50', 'p99']) figure(latency[k], `window.latencyDiffMs.${k}`);
  const h = object(w.histograms, 'window.histograms');
  const edges = h.edges;
  if (!Array.isArray(edges) || edges.length < 2) fail('window.histograms.edges', 'an array of at least two numbers');
  (edges as unknown[]).forEach((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e) || (i > 0 && e <= ((edges as number[])[i - 1] as number))) {
      fail(`window.histograms.edges[${i}]`, 'a finite number greater than the edge before it');
    }
  });
  counts(h.primary, 'window.histograms.primary', (edges as number[]).length - 1);
  counts(h.shadow, 'window.histograms.shadow', (edges as number[]).length - 1);
  figure(s.tolerance, 'tolerance');
  const sampled = object(s.sampledDisagreements, 'sampledDisagreements');
  if (!Array.isArray(sampled.pairs)) fail('sampledDisagreements.pairs', 'an array');
  return summary as ShadowSummary;
}

/** A figure for people: null as "n/a", otherwise four significant digits (integers in full). */
function formatFigure(x: number | null, unit = ''): string {
  if (x === null) return 'n/a';
  const text = Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
  return unit ? `${text} ${unit}` : text;
}

function formatPercent(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`;
}

/** An aligned two-column table of every figure of the summary. */
export function renderShadowTable(summary: unknown, model: string): string {
  const s = checkShadowSummary(summary);
  const w = s.window;
  const failures = Object.entries(s.totals.shadowFailures).sort((a, b) => b[1] - a[1]);
  const failureTotal = failures.reduce((sum, [, n]) => sum + n, 0);
  const rows: [string, string][] = [
    ['window', `${w.count} of ${w.size} pairs`],
    ['pairs since start', String(s.totals.pairs)],
    ['agreement rate', `${formatPercent(w.agreementRate)} (${w.decisionPairs} of ${w.count} by decision, the rest by |diff| <= ${s.tolerance})`],
    ['disagreements since start', `${s.totals.disagreements} (${s.sampledDisagreements.pairs.length} sampled)`],
    ['mean |diff|', formatFigure(w.meanAbsDiff)],
    ['max |diff|', formatFigure(w.maxAbsDiff)],
    ['PSI (shadow vs primary)', formatFigure(w.psi)],
    ['KS statistic', w.ksPValue === null ? formatFigure(w.ks) : `${formatFigure(w.ks)} (asymptotic p ${formatFigure(w.ksPValue)})`],
    ['latency diff mean', formatFigure(w.latencyDiffMs.mean, 'ms')],
    ['latency diff p50', formatFigure(w.latencyDiffMs.p50, 'ms')],
    ['latency diff p99', formatFigure(w.latencyDiffMs.p99, 'ms')],
    ['shadow failures', failures.length === 0 ? '0' : `${failureTotal} (${failures.map(([code, n]) => `${code}: ${n}`).join(', ')})`],
    ['dropped (queue full)', String(s.totals.dropped)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  return [`shadow comparison of model "${model}" (latency diff: shadow - primary)`, ...lines].join('\n') + '\n';
}

/** Text safe inside an XML element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

// Chart geometry, in SVG user units.
const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 30, top: 70, bottom: 60 };
const SERIES = [
  { key: 'primary', label: 'primary', color: '#1f5fa8', dash: '' },
  { key: 'shadow', label: 'shadow', color: '#d9641c', dash: ' stroke-dasharray="6 3"' },
] as const;
const X_TICKS = 10;
const Y_TICKS = 5;

/** Coordinates rounded for a compact, stable file. */
function r(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/**
 * A self-contained SVG of both score distributions over the window: each series as a step outline
 * of the share of its scores per bin (shares, so the two compare at a glance), x ticks across the
 * bin edges' range (0..1 for scores), a legend, and a title with the PSI and KS statistic.
 */
export function renderShadowSvg(summary: unknown, model: string): string {
  const s = checkShadowSummary(summary);
  const { edges } = s.window.histograms;
  const lo = edges[0] as number;
  const hi = edges[edges.length - 1] as number;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number): number => MARGIN.left + ((v - lo) / (hi - lo)) * plotW;

  const shares = SERIES.map(({ key }) => {
    const counts = s.window.histograms[key];
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((c) => (total === 0 ? 0 : c / total));
  });
  const top = Math.max(...shares.flat());
  const yMax = top > 0 ? niceCeiling(top) : 1;
  const y = (v: number): number => MARGIN.top + plotH - (v / yMax) * plotH;
  const baseline = y(0);

  const parts: string[] = [];
  const title = `${model}: primary vs shadow score distribution`;
  const subtitle = `PSI ${formatFigure(s.window.psi)} · KS ${formatFigure(s.window.ks)} · window ${s.window.count} of ${s.window.size} pairs`;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(`${title} (${subtitle})`)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${WIDTH / 2}" y="44" text-anchor="middle">${escapeXml(subtitle)}</text>`,
  );

  // Ticks and grid lines.
  parts.push(`<g class="x-ticks" text-anchor="middle">`);
  for (let i = 0; i <= X_TICKS; i++) {
    const v = lo + ((hi - lo) * i) / X_TICKS;
    parts.push(`<line x1="${r(x(v))}" y1="${r(baseline)}" x2="${r(x(v))}" y2="${r(baseline + 5)}" stroke="#444444"/>`);
    parts.push(`<text x="${r(x(v))}" y="${r(baseline + 18)}">${escapeXml(String(Number(v.toPrecision(6))))}</text>`);
  }
  parts.push(`<text x="${r(MARGIN.left + plotW / 2)}" y="${HEIGHT - 14}">score</text>`);
  parts.push(`</g>`);
  parts.push(`<g class="y-ticks" text-anchor="end">`);
  for (let i = 0; i <= Y_TICKS; i++) {
    const v = (yMax * i) / Y_TICKS;
    parts.push(`<line x1="${MARGIN.left}" y1="${r(y(v))}" x2="${WIDTH - MARGIN.right}" y2="${r(y(v))}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${r(y(v) + 4)}">${escapeXml(`${Number((v * 100).toPrecision(4))}%`)}</text>`);
  }
  parts.push(`<text transform="translate(18 ${r(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle">share of window's scores</text>`);
  parts.push(`</g>`);

  // The axes over the grid lines.
  parts.push(`<g class="axes" stroke="#444444" fill="none">`);
  parts.push(`<line x1="${MARGIN.left}" y1="${r(baseline)}" x2="${WIDTH - MARGIN.right}" y2="${r(baseline)}"/>`);
  parts.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${r(baseline)}"/>`);
  parts.push(`</g>`);

  // The two series: a closed step outline per series, lightly filled so both stay visible.
  SERIES.forEach(({ key, color, dash }, k) => {
    const share = shares[k] as number[];
    let d = `M${r(x(lo))} ${r(baseline)}`;
    share.forEach((p, i) => {
      d += ` V${r(y(p))} H${r(x(edges[i + 1] as number))}`;
    });
    d += ` V${r(baseline)} Z`;
    parts.push(`<path class="series ${key}" data-series="${key}" d="${d}" fill="${color}" fill-opacity="0.18" stroke="${color}" stroke-width="1.5"${dash}/>`);
  });

  // Legend, top right inside the plot.
  const legendX = WIDTH - MARGIN.right - 150;
  parts.push(`<g class="legend">`);
  SERIES.forEach(({ key, label, color, dash }, k) => {
    const ly = MARGIN.top + 14 + k * 20;
    const n = s.window.histograms[key].reduce((a, b) => a + b, 0);
    parts.push(`<line x1="${legendX}" y1="${ly - 4}" x2="${legendX + 24}" y2="${ly - 4}" stroke="${color}" stroke-width="3"${dash}/>`);
    parts.push(`<text x="${legendX + 32}" y="${ly}">${escapeXml(`${label} (${n} scores)`)}</text>`);
  });
  parts.push(`</g>`);
  parts.push(`</svg>`);
  return parts.join('\n') + '\n';
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten at or above x (x > 0): a round axis top. */
function niceCeiling(x: number): number {
  const power = 10 ** Math.floor(Math.log10(x));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= x) return Math.min(1, step * power);
  }
  return 1;
}
