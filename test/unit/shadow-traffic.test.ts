// The shadow's queue on its own: bounded, counted, and never in the way of the primary's promise,
// even when the shadow never answers at all.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { type ShadowSink, ShadowTraffic } from '../../src/routing/shadow-traffic';

function sink() {
  const s = { pairs: [] as unknown[], failures: [] as string[], drops: 0 };
  const impl: ShadowSink = {
    record: (p) => s.pairs.push(p),
    recordShadowFailure: (code) => s.failures.push(code),
    recordDrop: () => s.drops++,
  };
  return { s, impl };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('shadow traffic', () => {
  it('a shadow that never answers holds only its own bounded queue: the rest is dropped and counted', async () => {
    const { s, impl } = sink();
    let started = 0;
    const hung = new ShadowTraffic<number>({ sampleRate: 1, maxQueue: 4, maxConcurrency: 2 }, impl, () => {
      started++;
      return new Promise(() => undefined);
    });
    const primaries = Array.from({ length: 100 }, (_, i) => Promise.resolve({ score: i / 100 }));
    for (let i = 0; i < 100; i++) hung.offer(i, primaries[i]!);
    for (let i = 0; i < 5; i++) await turn();
    const stats = hung.stats();
    assert.equal(started, 2, 'no more copies run than maxConcurrency');
    assert.equal(stats.inFlight, 2);
    assert.equal(stats.queued, 2, 'the queue holds what it can (4), less the two sent');
    assert.equal(stats.dropped, 96);
    assert.equal(s.drops, 96);
    assert.equal(stats.offered, 100);
    // Every primary settled on its own, untouched.
    assert.deepEqual((await Promise.all(primaries)).map((p) => p.score), Array.from({ length: 100 }, (_, i) => i / 100));
    hung.close();
    assert.equal(hung.stats().queued, 0);
    assert.equal(hung.stats().dropped, 98, 'closing drops the queued copies, counted');
  });

  it('compares each pair once both settle; a failing shadow is counted by code; a failing primary leaves nothing to compare', async () => {
    const { s, impl } = sink();
    const shadow = new ShadowTraffic<number>({ sampleRate: 1, maxQueue: 16, maxConcurrency: 4 }, impl, (i) =>
      i === 1 ? Promise.reject(Object.assign(new Error('no'), { code: 'unavailable' })) : Promise.resolve({ score: i + 0.5, decision: 'allow' }),
    );
    const failed = Promise.reject(new Error('primary failed'));
    failed.catch(() => undefined);
    shadow.offer(0, Promise.resolve({ score: 0, decision: 'allow' }));
    shadow.offer(1, Promise.resolve({ score: 1 }));
    shadow.offer(2, failed);
    while (shadow.stats().sent < 3 || shadow.stats().inFlight > 0) await turn();
    assert.equal(s.pairs.length, 1);
    const pair = s.pairs[0] as { primaryScore: number; shadowScore: number; input: number };
    assert.deepEqual([pair.primaryScore, pair.shadowScore, pair.input], [0, 0.5, 0]);
    assert.deepEqual(s.failures, ['unavailable']);
  });

  it('copies only the sampled share', async () => {
    const { impl } = sink();
    let draws = 0;
    const values = [0.1, 0.9, 0.4, 0.6];
    const sampled = new ShadowTraffic<number>({ sampleRate: 0.5, maxQueue: 16, maxConcurrency: 4 }, impl, () => Promise.resolve({ score: 0 }), undefined, () => values[draws++ % 4]!);
    for (let i = 0; i < 4; i++) sampled.offer(i, Promise.resolve({ score: 0 }));
    assert.equal(sampled.stats().offered, 2);
  });
});
