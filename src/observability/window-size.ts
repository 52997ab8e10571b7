// The one check the sliding-window monitors (shadow comparison, drift) share for their size options.

/** `value`, or `fallback` when absent; a RangeError naming `name` unless it is an integer >= 1. */
export function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be an integer >= 1, got ${String(value)}`);
  return v;
}
