// Postprocessing: a score becomes a decision by thresholds from the model's config, not from the
// model itself, so a threshold can change without retraining (the guide's worked example: above
// 0.82 block, above 0.60 step-up, otherwise allow).

export interface DecisionBand {
  name: string;
  /** The band applies when the score is strictly greater than this. */
  above: number;
}

export class DecisionBands {
  /** Bands sorted by threshold, ascending. */
  private constructor(
    readonly bands: readonly DecisionBand[],
    readonly fallback: string,
  ) {}

  /**
   * Parses `name:threshold,name:threshold` (config.pbtxt parameter `infergate.decision_bands`).
   * Thresholds must be finite and strictly increasing in the order written.
   */
  static parse(spec: string, fallback = 'allow'): DecisionBands {
    const bands = spec.split(',').map((part) => {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*([-+0-9.eE]+)\s*$/.exec(part);
      if (!m) throw new Error(`decision band "${part.trim()}" must look like name:threshold (e.g. block:0.82)`);
      return { name: m[1] as string, above: Number(m[2]) };
    });
    return DecisionBands.of(bands, fallback);
  }

  /** Validated bands from data (as another thread receives them): thresholds finite and increasing. */
  static of(bands: readonly DecisionBand[], fallback = 'allow'): DecisionBands {
    bands.forEach(({ name, above }, i) => {
      if (!Number.isFinite(above)) throw new Error(`decision band "${name}" has a threshold that is not a finite number`);
      if (name === fallback || bands.findIndex((b) => b.name === name) !== i) {
        throw new Error(`decision band "${name}" is named twice (the score below every band is "${fallback}")`);
      }
      const prev = bands[i - 1];
      if (prev && above <= prev.above) {
        throw new Error(`decision band thresholds must increase: "${name}" (${above}) follows "${prev.name}" (${prev.above})`);
      }
    });
    return new DecisionBands(bands.map((b) => ({ ...b })), fallback);
  }

  decide(score: number): string {
    for (let i = this.bands.length - 1; i >= 0; i--) {
      const band = this.bands[i] as DecisionBand;
      if (score > band.above) return band.name;
    }
    return this.fallback;
  }
}

/** A request's answer: its score, the version that gave it, and the decision when bands are set. */
export interface ScoreResult {
  /** The model's score for the record (for the fraud model: the probability of fraud, 0..1). */
  score: number;
  /** The decision band the score falls in (config `infergate.decision_bands`); absent if none set. */
  decision?: string;
  /** The version that answered. */
  modelVersion: string;
}

/** Turns a version's scores into results: the one place a score meets its decision. */
export function scoreResults(bands: DecisionBands | undefined, version: number): (score: number) => ScoreResult {
  const modelVersion = String(version);
  return bands ? (score) => ({ score, decision: bands.decide(score), modelVersion }) : (score) => ({ score, modelVersion });
}
