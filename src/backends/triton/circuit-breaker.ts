// A circuit breaker per replica. After `threshold` consecutive failures the circuit opens: the
// replica gets no calls for `openMs`, so a dying server is not fed batches that will time out.
// Then one trial call is let through (half-open): success closes the circuit, failure opens it
// again. The clock is injected so tests move time by hand.

export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private isOpen = false;
  private trialInFlight = false;
  /** Times the circuit opened, for stats. */
  opened = 0;

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get state(): CircuitState {
    if (!this.isOpen) return 'closed';
    return this.now() - this.openedAt >= this.openMs ? 'half-open' : 'open';
  }

  /** Whether a call may go now (without taking the half-open trial slot). */
  get allowsCalls(): boolean {
    const s = this.state;
    return s === 'closed' || (s === 'half-open' && !this.trialInFlight);
  }

  /** Takes permission for one call; false when the circuit refuses it. */
  acquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.isOpen = false;
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    if (this.isOpen) {
      // The trial failed: another full open period.
      this.openedAt = this.now();
      return;
    }
    if (++this.failures >= this.threshold) {
      this.isOpen = true;
      this.openedAt = this.now();
      this.opened++;
    }
  }

  /** A call that neither proves nor disproves the replica (cancelled, invalid request). */
  release(): void {
    this.trialInFlight = false;
  }
}
