// Triton's own Python clients (tritonclient.grpc and tritonclient.http 2.73.0) against a real
// tritonserver and against infergate, through one script: scripts/triton/client_compat.py. It
// checks health, metadata, config, readiness, inference over gRPC raw tensors, HTTP JSON, HTTP
// binary data and system shared memory (gRPC and HTTP), statistics and error statuses, and prints
// a report normalised so that two servers' reports compare check by check.
//
// Real Triton is the reference: every check passes there and its scores are golden.json's. Then
// infergate must give the same report, check by check, and the same scores.

import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers';
import { type CompatReport, failures, runClientCompat } from '../support/client-compat';
import { type InfergateServers, startInfergate } from '../support/infergate-servers';
import { startTriton } from '../support/triton';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { scores: number[] };
const TOLERANCE = 1e-5;
const INFER_PATHS = ['grpc', 'http_json', 'http_binary', 'grpc_shm', 'http_shm'];

/** Every infer path scored its rows, and each score is golden.json's within 1e-5. */
function assertGoldenScores(report: CompatReport, server: string): void {
  assert.deepEqual(Object.keys(report.scores).sort(), [...INFER_PATHS].sort(), `${server}: infer paths that returned scores`);
  for (const [infer, scores] of Object.entries(report.scores)) {
    const [first, end] = report.rows[infer] as [number, number];
    assert.equal(scores.length, end - first, `${server} ${infer}: one score per row`);
    scores.forEach((score, i) => {
      const expected = golden.scores[first + i] as number;
      assert.ok(Math.abs(score - expected) <= TOLERANCE, `${server} ${infer}: row ${first + i} scored ${score}, golden ${expected}`);
    });
  }
}

function assertNoSharedMemoryLeft(report: CompatReport): void {
  assert.ok(report.shm_keys.length > 0, 'the shared-memory checks created no region');
  assert.deepEqual(report.shm_keys.filter((key) => existsSync(path.join('/dev/shm', key))), [], 'shared-memory objects left behind');
}

/**
 * `make()` run once, on first use, by the tests themselves rather than a before() hook: when a
 * server cannot start, each test fails with the reason (a failed hook would only cancel them).
 */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

describe('Triton client compatibility: tritonclient 2.73.0 against real Triton and infergate', () => {
  const reference = once(async (): Promise<CompatReport> => {
    const cluster = await startTriton({ models: ['fraud'] });
    try {
      const [replica] = cluster.replicas;
      return await runClientCompat({ grpc: replica!.grpcAddress, http: replica!.httpUrl });
    } finally {
      await cluster.stop();
    }
  });

  describe('real tritonserver 2.51 (the reference)', () => {
    it('passes every check', async () => {
      const report = await reference();
      assert.equal(report.summary.failed.length, 0, `checks failed against real Triton:\n${failures(report)}`);
      assert.equal(report.summary.passed, Object.keys(report.checks).length);
    });

    it('scores the golden rows on every infer path as golden.json does (1e-5)', async () => {
      assertGoldenScores(await reference(), 'triton');
    });

    it('refuses bad requests with the statuses the comparison relies on', async () => {
      const report = await reference();
      const status = (name: string) => (report.checks[name]?.value as { status?: string } | null)?.status;
      for (const kind of ['unknown_model_infer', 'unknown_model_metadata', 'unregistered_shm_region']) {
        assert.equal(status(`grpc.error.${kind}`), 'StatusCode.NOT_FOUND', kind);
        assert.equal(status(`http.error.${kind}`), '404', kind);
      }
      for (const kind of ['wrong_shape', 'wrong_datatype']) {
        assert.equal(status(`grpc.error.${kind}`), 'StatusCode.INVALID_ARGUMENT', kind);
        assert.equal(status(`http.error.${kind}`), '400', kind);
      }
    });

    it('leaves no shared-memory object behind', async () => {
      assertNoSharedMemoryLeft(await reference());
    });
  });

  describe('infergate (gRPC and HTTP servers over the project fraud model)', () => {
    let servers: InfergateServers | undefined;
    const ours = once(async (): Promise<CompatReport> => {
      servers = await startInfergate(['fraud']);
      return runClientCompat({ grpc: servers.grpcAddress, http: servers.httpAddress });
    });
    after(() => servers?.close());

    it('passes every check', async () => {
      const report = await ours();
      assert.equal(report.summary.failed.length, 0, `checks failed against infergate:\n${failures(report)}`);
    });

    it('answers every check as real Triton does (after normalisation)', async (t) => {
      const [expected, actual] = await Promise.all([reference(), ours()]);
      assert.deepEqual(Object.keys(actual.checks), Object.keys(expected.checks), 'the same checks ran');
      for (const [name, want] of Object.entries(expected.checks)) {
        await t.test(name, () => {
          const got = actual.checks[name];
          assert.ok(got?.ok, `${name} failed against infergate: ${got?.error ?? 'not run'}`);
          assert.deepEqual(got.value, want.value, `${name}: infergate ${JSON.stringify(got.value)}, Triton ${JSON.stringify(want.value)}`);
        });
      }
    });

    it('scores the golden rows on every infer path as golden.json does (1e-5)', async () => {
      assertGoldenScores(await ours(), 'infergate');
    });

    it('leaves no shared-memory object behind', async () => {
      assertNoSharedMemoryLeft(await ours());
    });
  });
});
