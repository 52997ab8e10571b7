// Closed-loop peak over HTTP: autocannon keeps `connections` KServe v2 JSON infer requests in flight
// (one per connection, no pipelining) for `durationS` and counts what came back. The bodies are the
// first golden rows, each connection cycling through them.

import autocannon from 'autocannon';
import type { FraudRows } from './serve-senders';

const BODIES = 256;

export interface AutocannonOutcome {
  requestsPerSecond: number;
  requestsPerSecondMean: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
}

export async function runAutocannon(baseUrl: string, rows: FraudRows, connections: number, durationS: number): Promise<AutocannonOutcome> {
  const path = '/v2/models/fraud/infer';
  const headers = { 'content-type': 'application/json' };
  const requests = rows.tensors.slice(0, BODIES).map((t) => ({
    method: 'POST' as const,
    path,
    headers,
    body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, t.length], datatype: 'FP32', data: t }], outputs: [{ name: 'probabilities' }] }),
  }));
  const result = await autocannon({ url: `${baseUrl}${path}`, connections, pipelining: 1, duration: durationS, timeout: 30, requests });
  const ok = result['2xx'];
  return {
    requestsPerSecond: result.duration > 0 ? Math.round(ok / result.duration) : 0,
    requestsPerSecondMean: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: Math.round(result.duration * 100) / 100,
  };
}
