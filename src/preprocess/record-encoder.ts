// Turns a raw record (a JSON object or a plain JS object) into the compact row the native plan
// reads: one float64 per field (docs/preprocess.md, "How strings reach the plan"). This is also
// where a record is validated, so every error names the field and what was expected.

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

export class RecordEncoder {
  private readonly codecs: FieldCodec[];
  private readonly known: Set<string>;

  constructor(
    fields: readonly PlanField[],
    private readonly model: string,
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
