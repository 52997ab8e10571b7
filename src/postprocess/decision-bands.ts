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
    const bands: DecisionBand[] = [];
    for (const part of spec.split(',')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*([-+0-9.eE]+)\s*$/.exec(part);
      if (!m) throw new Error(`decision band "${part.trim()}" must look like name:threshold (e.g. block:0.82)`);
      const name = m[1] as string;
      const above = Number(m[2]);
      if (!Number.isFinite(above)) throw new Error(`decision band "${name}" has a threshold that is not a finite number`);
      if (name === fallback || bands.some((b) => b.name === name)) {
        throw new Error(`decision band "${name}" is named twice (the score below every band is "${fallback}")`);
      }
      const prev = bands[bands.length - 1];
      if (prev && above <= prev.above) {
        throw new Error(`decision band thresholds must increase: "${name}" (${above}) follows "${prev.name}" (${prev.above})`);
      }
      bands.push({ name, above });
    }
    return new DecisionBands(bands, fallback);
  }

  decide(score: number): string {
    for (let i = this.bands.length - 1; i >= 0; i--) {
      const band = this.bands[i] as DecisionBand;
      if (score > band.above) return band.name;
    }
    return this.fallback;
  }
}
