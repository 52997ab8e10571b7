// Rate limiting: one token bucket per key (a principal id). A request takes a token; tokens come
// back at `perSecond` up to `burst`. Memory is bounded: past `maxKeys` tracked keys the least
// recently used bucket is dropped. A dropped bucket would have been refilled by the time it is
// least recently used in all but adversarial cases; the cost of dropping one early is one extra
// burst for that key, never unbounded memory. Time comes from an injectable monotonic clock.

import { IngressConfigError } from './ingress-config-error';

export interface RateLimit {
  /** Tokens returned per second (sustained requests per second). */
  perSecond: number;
  /** Bucket size: requests allowed at once after a quiet period. Default: one second's worth. */
  burst: number;
}

interface Bucket {
  tokens: number;
  /** Clock reading (ms) when `tokens` was last brought up to date. */
  at: number;
}

/** Monotonic milliseconds. */
export type Clock = () => number;

// Float slack when a refill lands exactly on a whole token.
const EPSILON = 1e-9;

export class TokenBuckets {
  // Map keeps insertion order; a key is re-inserted on each use, so the first key is the least
  // recently used one.
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    readonly maxKeys: number,
    private readonly clock: Clock,
  ) {}

  /** Takes a token for `key`: 0 when granted, otherwise the seconds until one will be there. */
  take(key: string): number {
    const now = this.clock();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      // A clock that steps back (an injected one) refills nothing rather than draining.
      b.tokens = Math.min(this.limit.burst, b.tokens + (Math.max(0, now - b.at) * this.limit.perSecond) / 1000);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.limit.burst, at: now };
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1 - EPSILON) {
      b.tokens = Math.max(0, b.tokens - 1);
      return 0;
    }
    const waitMs = ((1 - b.tokens) * 1000) / this.limit.perSecond;
    return Math.ceil(waitMs) / 1000;
  }

  /** Keys tracked now (at most maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  has(key: string): boolean {
    return this.buckets.has(key);
  }
}

/** Validates a rate limit; `where` names the option in messages. */
export function resolveRateLimit(o: { perSecond: unknown; burst?: unknown }, where: string): RateLimit {
  const { perSecond } = o;
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0 || perSecond > 1e9) {
    throw new IngressConfigError(`${where}: perSecond must be a number in (0, 1e9], got ${String(perSecond)}`);
  }
  const burst = o.burst ?? Math.max(1, Math.ceil(perSecond));
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > 1e9) {
    throw new IngressConfigError(`${where}: burst must be an integer in [1, 1e9], got ${String(o.burst)}`);
  }
  return { perSecond, burst };
}

/** Parses a command-line rate limit, "<perSecond>" or "<perSecond>:<burst>" (e.g. "200:400"). */
export function parseRateLimit(text: string, where: string): RateLimit {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?::\s*([0-9]+)\s*)?$/.exec(text);
  if (!m) throw new IngressConfigError(`${where}: expected "<requests per second>" or "<requests per second>:<burst>", got "${text}"`);
  return resolveRateLimit({ perSecond: Number(m[1]), burst: m[2] === undefined ? undefined : Number(m[2]) }, where);
}
