// Score drift: the PSI of the live scores' sliding window against the reference distribution stored
// with the model. observe() is on the prediction path, so it costs O(1) and allocates nothing: the
// window is a ring of bin indices beside per-bin counts, and a score entering the window increments
// its bin while the score it evicts decrements its own. The PSI (one pass over the bins) is
// recomputed every `checkEvery` scores and on state(); a change of level is reported once.

import { binIndex, histogramTotal, populationStabilityIndex, PSI_EPSILON, type Histogram } from './score-distribution';
import { MAX_REFERENCE_BINS } from './score-reference';
import { positiveInteger } from './window-size';

export type DriftLevel = 'ok' | 'warn' | 'alert' | 'insufficient';

export interface DriftChange {
  from: DriftLevel;
  to: DriftLevel;
  /** The PSI that caused the change; null while the window is empty. */
  psi: number | null;
  samples: number;
}

export interface DriftMonitorOptions {
  /** Scores in the sliding window (default 5,000). */
  windowSize?: number;
  /** PSI at or above which the level is 'warn' (default 0.1). */
  warnAt?: number;
  /** PSI at or above which the level is 'alert' (default 0.25). */
  alertAt?: number;
  /** Below this many scores in the window the level is 'insufficient' (default 500, at most windowSize). */
  minSamples?: number;
  /** The PSI is recomputed every this many observed scores (default 100), and on state(). */
  checkEvery?: number;
  /** Replaces an empty bin's proportion in the PSI (default PSI_EPSILON, 1e-4). */
  epsilon?: number;
  /** Called once per change of level, after the change (the caller turns it into a metric and a log event). */
  onChange?: (event: DriftChange) => void;
}

export interface DriftState {
  /** PSI of the window against the reference; null while the window is empty. */
  psi: number | null;
  level: DriftLevel;
  /** Scores in the window now (at most windowSize). */
  samples: number;
  windowSize: number;
  warnAt: number;
  alertAt: number;
}

export class DriftMonitor {
  readonly windowSize: number;
  readonly warnAt: number;
  readonly alertAt: number;
  readonly minSamples: number;
  readonly checkEvery: number;
  private readonly edges: readonly number[];
  private readonly reference: Histogram;
  private readonly epsilon: number;
  private readonly onChange: ((event: DriftChange) => void) | undefined;
  /** Bin index of each score in the window, oldest at `next` once the ring is full. */
  private readonly ring: Uint32Array;
  /** Scores of the window per bin. */
  private readonly windowCounts: Float64Array;
  private next = 0;
  private samples = 0;
  private sinceCheck = 0;
  private level: DriftLevel = 'insufficient';
  private psi: number | null = null;

  constructor(reference: Histogram, opts: DriftMonitorOptions = {}) {
    histogramTotal(reference, 'reference'); // validates it: edges, one count per bin, a total > 0
    if (reference.edges.length - 1 > MAX_REFERENCE_BINS) {
      throw new RangeError(`the reference has ${reference.edges.length - 1} bins, more than the ${MAX_REFERENCE_BINS} allowed`);
    }
    this.edges = [...reference.edges];
    this.reference = { edges: this.edges, counts: Array.from(reference.counts) };
    this.windowSize = positiveInteger(opts.windowSize, 'windowSize', 5_000);
    this.minSamples = positiveInteger(opts.minSamples, 'minSamples', Math.min(500, this.windowSize));
    if (this.minSamples > this.windowSize) {
      throw new RangeError(`minSamples (${this.minSamples}) must not exceed windowSize (${this.windowSize}): the level would stay 'insufficient'`);
    }
    this.checkEvery = positiveInteger(opts.checkEvery, 'checkEvery', 100);
    this.warnAt = opts.warnAt ?? 0.1;
    this.alertAt = opts.alertAt ?? 0.25;
    if (!(Number.isFinite(this.warnAt) && this.warnAt > 0)) throw new RangeError(`warnAt must be a number > 0, got ${String(opts.warnAt)}`);
    if (!(Number.isFinite(this.alertAt) && this.alertAt >= this.warnAt)) {
      throw new RangeError(`alertAt must be a number >= warnAt (${this.warnAt}), got ${String(opts.alertAt)}`);
    }
    this.epsilon = opts.epsilon ?? PSI_EPSILON;
    this.onChange = opts.onChange;
    this.ring = new Uint32Array(this.windowSize);
    this.windowCounts = new Float64Array(this.edges.length - 1);
  }

  /** Adds one live score to the window (evicting the oldest when full). O(1) but every checkEvery-th call. */
  observe(score: number): void {
    if (!Number.isFinite(score)) throw new RangeError(`score must be a finite number, got ${String(score)}`);
    const bin = binIndex(score, this.edges);
    if (this.samples === this.windowSize) (this.windowCounts[this.ring[this.next] as number] as number)--;
    else this.samples++;
    this.ring[this.next] = bin;
    (this.windowCounts[bin] as number)++;
    this.next = this.next + 1 === this.windowSize ? 0 : this.next + 1;
    if (++this.sinceCheck >= this.checkEvery) this.check();
  }

  /** The window's PSI and level now (recomputed, so a pending change of level is reported first). */
  state(): DriftState {
    this.check();
    return {
      psi: this.psi,
      level: this.level,
      samples: this.samples,
      windowSize: this.windowSize,
      warnAt: this.warnAt,
      alertAt: this.alertAt,
    };
  }

  /** The window's counts per bin, with the edges (a copy), to chart against the reference. */
  windowHistogram(): { edges: number[]; counts: number[] } {
    return { edges: [...this.edges], counts: Array.from(this.windowCounts) };
  }

  private check(): void {
    this.sinceCheck = 0;
    this.psi =
      this.samples === 0
        ? null
        : populationStabilityIndex(this.reference, { edges: this.edges, counts: this.windowCounts }, { epsilon: this.epsilon });
    const level = this.levelOf(this.psi);
    if (level === this.level) return;
    const from = this.level;
    this.level = level;
    this.onChange?.({ from, to: level, psi: this.psi, samples: this.samples });
  }

  private levelOf(psi: number | null): DriftLevel {
    if (psi === null || this.samples < this.minSamples) return 'insufficient';
    if (psi >= this.alertAt) return 'alert';
    if (psi >= this.warnAt) return 'warn';
    return 'ok';
  }
}
