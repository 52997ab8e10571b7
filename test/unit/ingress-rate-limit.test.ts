// The per-principal token bucket on a manual clock (no sleeping): burst, refill rate, the wait a
// refused caller is told, independence of principals, the bound on tracked principals, and the
// request limits' defaults and validation.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InferError, grpcStatusOf, httpStatusOf } from '../../src/errors';
import { DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_REQUEST_BYTES, createIngress } from '../../src/server/ingress/create-ingress';
import type { Principal } from '../../src/server/ingress/ingress';
import { IngressConfigError } from '../../src/server/ingress/ingress-config-error';
import { TokenBuckets, parseRateLimit } from '../../src/server/ingress/token-buckets';

/** A clock the test moves by hand. */
function manualClock() {
  let now = 1000;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

const principal = (id: string): Principal => ({ id, models: '*' });

function exhausted(retryAfterSeconds: number) {
  return (err: unknown): true => {
    assert.ok(err instanceof InferError, String(err));
    assert.equal(err.code, 'resource_exhausted');
    assert.equal(err.retryAfterSeconds, retryAfterSeconds);
    assert.match(err.message, new RegExp(`^rate limit of 10 requests/s \\(burst 3\\) exceeded for "a"; retry after ${retryAfterSeconds} s$`));
    return true;
  };
}

describe('ingress: rate limit', () => {
  it('allows a burst, then one request per 1/rate seconds, and says how long to wait', () => {
    const clock = manualClock();
    const ingress = createIngress({ rateLimit: { perSecond: 10, burst: 3 }, clock: clock.now });
    const a = principal('a');
    for (let i = 0; i < 3; i++) ingress.admit(a);
    assert.throws(() => ingress.admit(a), exhausted(0.1));
    clock.advance(40);
    assert.throws(() => ingress.admit(a), exhausted(0.06), 'a refused request takes no token');
    clock.advance(60);
    ingress.admit(a);
    assert.throws(() => ingress.admit(a), exhausted(0.1));
    // A long quiet period refills to the burst, not beyond.
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) ingress.admit(a);
    assert.throws(() => ingress.admit(a), exhausted(0.1));
    assert.equal(httpStatusOf('resource_exhausted'), 429);
    assert.equal(grpcStatusOf('resource_exhausted'), 8);
  });

  it('keeps one bucket per principal', () => {
    const clock = manualClock();
    const ingress = createIngress({ rateLimit: { perSecond: 1, burst: 1 }, clock: clock.now });
    ingress.admit(principal('a'));
    assert.throws(() => ingress.admit(principal('a')), (e: unknown) => e instanceof InferError && e.retryAfterSeconds === 1);
    ingress.admit(principal('b'));
  });

  it('defaults the burst to one second of requests, and admits everything without a limit', () => {
    const clock = manualClock();
    const limited = createIngress({ rateLimit: { perSecond: 2.5 }, clock: clock.now });
    assert.deepEqual(limited.rateLimit, { perSecond: 2.5, burst: 3 });
    for (let i = 0; i < 3; i++) limited.admit(principal('a'));
    assert.throws(() => limited.admit(principal('a')), (e: unknown) => e instanceof InferError && e.retryAfterSeconds === 0.4);
    const open = createIngress();
    assert.equal(open.rateLimit, undefined);
    for (let i = 0; i < 10_000; i++) open.admit(principal('a'));
  });

  it('ignores a clock that steps back rather than refilling or draining', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, 10, clock.now);
    assert.equal(buckets.take('a'), 0);
    clock.set(0);
    assert.equal(buckets.take('a'), 1);
    clock.advance(1000);
    assert.equal(buckets.take('a'), 0);
  });

  it('tracks at most maxKeys principals, dropping the least recently seen', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, 3, clock.now);
    for (const k of ['a', 'b', 'c']) assert.equal(buckets.take(k), 0);
    assert.equal(buckets.take('a'), 1, 'a is empty, and now the most recently seen');
    assert.equal(buckets.take('d'), 0);
    assert.equal(buckets.size, 3);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => buckets.has(k)), [true, false, true, true], 'b was the least recently seen');
    for (let i = 0; i < 10_000; i++) buckets.take(`p${i}`);
    assert.equal(buckets.size, 3);
    assert.equal(buckets.take('b'), 0, 'an evicted principal starts again with a full bucket');
  });

  it('bounds tracked principals through the ingress option', () => {
    const clock = manualClock();
    const ingress = createIngress({ rateLimit: { perSecond: 1, burst: 1 }, maxTrackedPrincipals: 2, clock: clock.now });
    ingress.admit(principal('a'));
    ingress.admit(principal('b'));
    ingress.admit(principal('c'));
    ingress.admit(principal('a'));
    assert.throws(() => ingress.admit(principal('a')), (e: unknown) => e instanceof InferError && e.code === 'resource_exhausted');
  });

  it('parses and validates rate limits, naming the option', () => {
    assert.deepEqual(parseRateLimit('200', '--rate-limit'), { perSecond: 200, burst: 200 });
    assert.deepEqual(parseRateLimit('0.5:4', '--rate-limit'), { perSecond: 0.5, burst: 4 });
    for (const bad of ['', 'fast', '10:', '-1', '10:2.5', '1:2:3']) {
      assert.throws(() => parseRateLimit(bad, '--rate-limit'), (e: unknown) => e instanceof IngressConfigError && e.message.startsWith('--rate-limit: '), bad);
    }
    assert.throws(() => parseRateLimit('0', '--rate-limit'), /^IngressConfigError: --rate-limit: perSecond must be a number in \(0, 1e9\], got 0$/);
    assert.throws(() => parseRateLimit('5:0', '--rate-limit'), /--rate-limit: burst must be an integer in \[1, 1e9\], got 0$/);
    assert.throws(() => createIngress({ rateLimit: { perSecond: Number.NaN } }), /^IngressConfigError: rateLimit: perSecond must be a number/);
  });
});

describe('ingress: request limits', () => {
  it('defaults to 4 MiB requests and 64 concurrent streams', () => {
    const ingress = createIngress();
    assert.equal(ingress.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES);
    assert.equal(DEFAULT_MAX_REQUEST_BYTES, 4 * 1024 * 1024);
    assert.equal(ingress.maxConcurrentStreams, DEFAULT_MAX_CONCURRENT_STREAMS);
    assert.equal(DEFAULT_MAX_CONCURRENT_STREAMS, 64);
  });

  it('takes and validates both, naming the option', () => {
    const ingress = createIngress({ maxRequestBytes: 65_536, maxConcurrentStreams: 8, maxTrackedPrincipals: 5 });
    assert.equal(ingress.maxRequestBytes, 65_536);
    assert.equal(ingress.maxConcurrentStreams, 8);
    assert.throws(() => createIngress({ maxRequestBytes: 100 }), /^IngressConfigError: maxRequestBytes must be an integer in \[1024, 2147483647\], got 100$/);
    assert.throws(() => createIngress({ maxRequestBytes: 2 ** 31 }), /maxRequestBytes must be an integer/);
    assert.throws(() => createIngress({ maxConcurrentStreams: 0 }), /^IngressConfigError: maxConcurrentStreams must be an integer in \[1, 65536\], got 0$/);
    assert.throws(() => createIngress({ maxConcurrentStreams: 1.5 }), /maxConcurrentStreams must be an integer/);
    assert.throws(() => createIngress({ maxTrackedPrincipals: 0 }), /maxTrackedPrincipals must be an integer/);
  });
});
