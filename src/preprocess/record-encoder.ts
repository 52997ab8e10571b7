// Turns a raw record (a JSON object or a plain JS object) into the compact row the native plan
// reads: one float64 per field (docs/preprocess.md, "How strings reach the plan"). This is also
// where a record is validated, so every error names the field and what was expected.
//
// Each encoder compiles a straight-line function for its model's fields (see compileFastPath): it
// reads each field by its own name, so V8 caches every lookup by the record's shape, where a loop
// over field names reads through one generic keyed lookup per field (megamorphic: about twice the
// cost on the embedded hot path). It only says "valid" or "look closer": any record it does not
// accept whole goes through the generic loop, which is the one place that words errors.

import { invalidArgument } from '../errors';
import type { PlanField } from '../native/addon';

const TYPE_NAMES = { number: 'a finite number', string: 'a string', boolean: 'true or false' } as const;

interface FieldCodec {
  readonly name: string;
  readonly type: PlanField['type'];
  readonly required: boolean;
  readonly min: number;
  readonly max: number;
  readonly vocabulary: Map<string, number> | undefined;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/**
 * Writes a record's fields at `raw[base...]` and returns how many of its enumerable keys are not
 * fields holding a value (0 for a plain valid record), or NaN when some field's value is not
 * acceptable as it stands (missing where required, wrong type, out of range).
 */
type FastPath = (record: Record<string, unknown>, raw: Float64Array, base: number) => number;

function numberLiteral(n: number): string {
  return n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : `(${String(n)})`;
}

/**
 * The fast path's source is built from the field list alone: names enter it only as JSON string
 * literals and bounds only as number literals, so no record content ever becomes code. Where the
 * host forbids code generation (--disallow-code-generation-from-strings), there is no fast path.
 */
function compileFastPath(codecs: readonly FieldCodec[]): FastPath | undefined {
  const body: string[] = ['let v; let present = 0;'];
  codecs.forEach((c, i) => {
    const at = `raw[base + ${i}]`;
    const absent = c.required ? 'return NaN;' : `${at} = NaN;`;
    body.push(`v = record[${JSON.stringify(c.name)}];`, 'if (v !== undefined) present++;', `if (v === undefined || v === null) { ${absent} }`);
    switch (c.type) {
      case 'number':
        body.push(`else if (typeof v === 'number' && v - v === 0 && v >= ${numberLiteral(c.min)} && v <= ${numberLiteral(c.max)}) ${at} = v;`);
        break;
      case 'boolean':
        body.push(`else if (v === true) ${at} = 1;`, `else if (v === false) ${at} = 0;`);
        break;
      case 'string':
        body.push(`else if (typeof v === 'string') { const code = vocabulary${i} === undefined ? undefined : vocabulary${i}.get(v); ${at} = code === undefined ? -1 : code; }`);
        break;
    }
    body.push('else return NaN;');
  });
  body.push('let keys = 0;', 'for (const key in record) keys++;', 'return keys - present;');
  const constants = codecs.map((_, i) => `const vocabulary${i} = vocabularies[${i}];`).join('\n');
  try {
    const factory = new Function('vocabularies', `"use strict";\n${constants}\nreturn function encodeFields(record, raw, base) {\n${body.join('\n')}\n};`);
    return factory(codecs.map((c) => c.vocabulary)) as FastPath;
  } catch {
    return undefined;
  }
}

export class RecordEncoder {
  private readonly codecs: FieldCodec[];
  private readonly known: Set<string>;
  private readonly fastPath: FastPath | undefined;

  /** `compile: false` keeps to the generic loop (the reference the compiled path is tested against). */
  constructor(
    fields: readonly PlanField[],
    private readonly model: string,
    options: { compile?: boolean } = {},
  ) {
    this.codecs = fields.map((f) => ({
      name: f.name,
      type: f.type,
      required: f.missing === 'reject',
      min: f.min ?? -Infinity,
      max: f.max ?? Infinity,
      vocabulary: f.vocabulary && new Map(f.vocabulary.map((s, i) => [s, i])),
    }));
    this.known = new Set(fields.map((f) => f.name));
    this.fastPath = options.compile === false ? undefined : compileFastPath(this.codecs);
  }

  get fieldCount(): number {
    return this.codecs.length;
  }

  /** Field names, types and policies, for error messages and model metadata. */
  describeFields(): { name: string; type: string; required: boolean }[] {
    return this.codecs.map((c) => ({ name: c.name, type: c.type, required: c.required }));
  }

  /**
   * Validates `record` and writes its row at `raw[row * fieldCount ...]`. Throws invalid_argument
   * naming the field; on a throw the row's slots are left partly written and must not be used.
   */
  encode(record: unknown, raw: Float64Array, row: number): void {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw invalidArgument(`a record must be a JSON object with the model's fields, got ${describe(record)}`, {
        model: this.model,
      });
    }
    const rec = record as Record<string, unknown>;
    const base = row * this.codecs.length;
    if (this.fastPath) {
      const extraKeys = this.fastPath(rec, raw, base);
      if (extraKeys === 0) return;
      // Every field is valid and written; the record has other keys too (a routing key, a key set
      // to undefined, or an unknown one): the generic check below decides.
      if (!Number.isNaN(extraKeys)) return this.rejectUnknownKey(rec);
    }
    let present = 0;
    for (let i = 0; i < this.codecs.length; i++) {
      const c = this.codecs[i] as FieldCodec;
      const v = rec[c.name];
      if (v !== undefined) present++;
      raw[base + i] = v === undefined || v === null ? this.missing(c) : this.value(c, v);
    }
    let keys = 0;
    for (const k in rec) if (rec[k] !== undefined) keys++;
    if (keys !== present) this.rejectUnknownKey(rec);
  }

  private missing(c: FieldCodec): number {
    if (c.required) {
      throw invalidArgument(`field "${c.name}" is required: expected ${TYPE_NAMES[c.type]}`, {
        field: c.name,
        model: this.model,
      });
    }
    return NaN;
  }

  private value(c: FieldCodec, v: unknown): number {
    switch (c.type) {
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) break;
        if (v < c.min || v > c.max) {
          throw invalidArgument(`field "${c.name}" must be between ${c.min} and ${c.max}, got ${v}`, {
            field: c.name,
            model: this.model,
          });
        }
        return v;
      case 'boolean':
        if (typeof v !== 'boolean') break;
        return v ? 1 : 0;
      case 'string':
        if (typeof v !== 'string') break;
        // A string the plan has never seen is not an error: it is the "unknown" category.
        return c.vocabulary?.get(v) ?? -1;
    }
    throw invalidArgument(`field "${c.name}" must be ${TYPE_NAMES[c.type]}, got ${describe(v)}`, {
      field: c.name,
      model: this.model,
    });
  }

  /**
   * A field a record may carry that is not a feature: the canary's routing key (a customer id, say),
   * set by the traffic policy. Only consulted when a record has keys beyond the model's fields.
   */
  routingField: string | undefined;

  private rejectUnknownKey(rec: Record<string, unknown>): void {
    for (const k in rec) {
      if (rec[k] !== undefined && !this.known.has(k) && k !== this.routingField) {
        throw invalidArgument(
          `unknown field "${k}"; the model's fields are: ${[...this.known].join(', ')}`,
          { field: k, model: this.model },
        );
      }
    }
  }
}
