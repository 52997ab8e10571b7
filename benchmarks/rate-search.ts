// Which rates to run, and the highest rate that meets a latency objective.
//
// First a fixed ladder, ascending, so that modes can be compared at the same rates; it stops after
// the first rate that fails (running rates far past the failure point only measures a queue). Then
// the search starts from what the ladder learned: while everything passed it doubles, and once a
// rate has failed it bisects between the highest pass and the lowest failure a few times.

export interface RatePlan {
  /** Rates every mode runs, ascending, up to and including its first failure. */
  ladder: number[];
  /** Bisection steps between the highest pass and the lowest failure. */
  bisections: number;
  /** Doubling stops above this rate. */
  maxRate: number;
  /**
   * Run every ladder rate even after one fails: for a reference mode (the generator alone), whose
   * figures at every rate are subtracted from the others'; a noisy moment must not cost them those.
   */
  wholeLadder?: boolean;
}

export type Phase = 'ladder' | 'search';

export interface SearchOutcome<R> {
  steps: R[];
  /** Highest rate that passed; null if none did. */
  maxPassingRate: number | null;
  /** The lowest rate that failed; null if none did (the search hit plan.maxRate). */
  lowestFailingRate: number | null;
}

export async function searchRates<R>(
  plan: RatePlan,
  run: (rate: number, phase: Phase) => Promise<R>,
  passes: (r: R) => boolean,
): Promise<SearchOutcome<R>> {
  const steps: R[] = [];
  let lo = 0;
  let hi: number | undefined;
  const step = async (rate: number, phase: Phase) => {
    const r = await run(rate, phase);
    steps.push(r);
    if (passes(r)) lo = Math.max(lo, rate);
    else hi = Math.min(hi ?? Infinity, rate);
    return passes(r);
  };
  for (const rate of plan.ladder) {
    if (!(await step(rate, 'ladder')) && !plan.wholeLadder) break;
  }
  for (let rate = lo * 2; hi === undefined && lo > 0 && rate <= plan.maxRate; rate *= 2) await step(rate, 'search');
  for (let i = 0; i < plan.bisections && hi !== undefined; i++) {
    const mid = roundRate((lo + hi) / 2);
    if (mid <= lo || mid >= hi) break;
    await step(mid, 'search');
  }
  return { steps, maxPassingRate: lo > 0 ? lo : null, lowestFailingRate: hi ?? null };
}

/** Rates are kept to multiples of 50/s (of 10/s below 100/s) so reports stay readable. */
function roundRate(rate: number): number {
  const unit = rate < 100 ? 10 : 50;
  return Math.round(rate / unit) * unit;
}
