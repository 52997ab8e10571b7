// A strict reader of Prometheus text format 0.0.4 for the tests: every line must be a HELP, a TYPE
// or a sample of a declared family, so a malformed exposition fails the test that reads it. Also
// the checks every histogram must pass: cumulative buckets in order, +Inf equal to _count.

import { strict as assert } from 'node:assert';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Family name → counter | gauge | histogram | summary | untyped. */
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  assert.match(text, /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, `bad sample value in: ${line}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from the start of `rest`; returns the labels and what follows. */
function parseLabels(rest: string, line: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  while (rest[i] !== '}') {
    const name = LABEL_NAME.exec(rest.slice(i))?.[0];
    assert.ok(name, `bad label name in: ${line}`);
    i += name.length;
    assert.equal(rest.slice(i, i + 2), '="', `expected =" after label ${name} in: ${line}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = rest[i++];
      assert.ok(c !== undefined, `unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const e = rest[i++];
        assert.ok(e === '\\' || e === '"' || e === 'n', `bad escape \\${e} in: ${line}`);
        value += e === 'n' ? '\n' : e;
      } else {
        value += c;
      }
    }
    assert.ok(!(name in labels), `label ${name} twice in: ${line}`);
    labels[name] = value;
    if (rest[i] === ',') i++;
    else assert.equal(rest[i], '}', `expected , or } in: ${line}`);
  }
  return [labels, rest.slice(i + 1)];
}

/** The family a sample name belongs to: itself, or a histogram's/summary's base name. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const t = types.get(base);
  return t === 'histogram' || (t === 'summary' && !name.endsWith('_bucket')) ? base : undefined;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (m?.[1] === 'TYPE') {
        assert.ok(!types.has(m[2] as string), `TYPE of ${m[2]} declared twice`);
        assert.match(m[3] as string, /^(counter|gauge|histogram|summary|untyped)$/, line);
        types.set(m[2] as string, m[3] as string);
      }
      continue;
    }
    const name = NAME.exec(line)?.[0];
    assert.ok(name, `bad sample line: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, line);
    const fields = rest.trim().split(/\s+/);
    assert.ok(rest.startsWith(' ') && fields.length >= 1 && fields.length <= 2, `bad sample line: ${line}`);
    assert.ok(familyOf(name, types), `sample ${name} has no TYPE line before it`);
    samples.push({ name, labels, value: parseValue(fields[0] as string, line) });
  }
  return { types, samples };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The samples of `name` whose labels include `labels`. */
export function samplesOf(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample with exactly these labels; undefined if there is none. */
export function valueOf(e: Exposition, name: string, labels: Record<string, string>): number | undefined {
  const found = e.samples.filter((s) => s.name === name && sameLabels(s.labels, labels));
  assert.ok(found.length <= 1, `${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** One histogram series: its buckets (ascending, +Inf last, cumulative), _sum and _count. */
export interface HistogramReading {
  labels: Record<string, string>;
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/**
 * Every series of histogram `name`, after checking what Prometheus requires of each: buckets in
 * ascending `le` order ending at +Inf, counts that never decrease, +Inf equal to _count, a _sum.
 */
export function histogramsOf(e: Exposition, name: string): HistogramReading[] {
  assert.equal(e.types.get(name), 'histogram', `${name} is declared a histogram`);
  const series = new Map<string, HistogramReading>();
  const keyOf = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  for (const s of samplesOf(e, `${name}_bucket`)) {
    const { le, ...labels } = s.labels;
    assert.ok(le !== undefined, `${name}_bucket without le`);
    const key = keyOf(labels);
    const h = series.get(key) ?? { labels, buckets: [], sum: NaN, count: NaN };
    h.buckets.push({ le: parseValue(le, `le="${le}"`), count: s.value });
    series.set(key, h);
  }
  for (const h of series.values()) {
    const where = `${name}${JSON.stringify(h.labels)}`;
    const sum = e.samples.filter((s) => s.name === `${name}_sum` && sameLabels(s.labels, h.labels));
    const count = e.samples.filter((s) => s.name === `${name}_count` && sameLabels(s.labels, h.labels));
    assert.equal(sum.length, 1, `${where} has one _sum`);
    assert.equal(count.length, 1, `${where} has one _count`);
    h.sum = (sum[0] as Sample).value;
    h.count = (count[0] as Sample).value;
    h.buckets.forEach((b, i) => {
      if (i === 0) return;
      const prev = h.buckets[i - 1] as { le: number; count: number };
      assert.ok(b.le > prev.le, `${where}: le ${b.le} after ${prev.le}`);
      assert.ok(b.count >= prev.count, `${where}: bucket le=${b.le} holds ${b.count}, less than le=${prev.le}'s ${prev.count}`);
    });
    const last = h.buckets[h.buckets.length - 1];
    assert.equal(last?.le, Infinity, `${where}: the last bucket is +Inf`);
    assert.equal(last?.count, h.count, `${where}: +Inf bucket equals _count`);
  }
  for (const s of [...samplesOf(e, `${name}_sum`), ...samplesOf(e, `${name}_count`)]) {
    assert.ok(series.has(keyOf(s.labels)), `${s.name}${JSON.stringify(s.labels)} has no buckets`);
  }
  return [...series.values()];
}
