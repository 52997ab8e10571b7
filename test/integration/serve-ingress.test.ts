// `infergate serve` with credentials, a rate limit and both listeners, as an operator runs it:
// the CLI wires one ingress into HTTP and gRPC; unauthenticated callers learn nothing about models,
// and a model outside a caller's allow-list looks exactly like a missing one.

import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CLI, MODELS, ROOT } from '../helpers';
import { call, callError, grpcClient } from '../support/grpc-client';

const FULL = 'full-access-token-0123456789';
const NONE = 'no-fraud-token-0123456789ab';

describe('infergate serve with ingress (CLI, HTTP and gRPC)', () => {
  let proc: ChildProcess;
  let http = '';
  let grpcAddress = '';
  let dir = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'infergate-auth-'));
    const file = path.join(dir, 'credentials');
    writeFileSync(file, `# name secret models\nops ${FULL} *\nother ${NONE} identity\n`);
    proc = spawn(process.execPath, [CLI, 'serve', '--repository', MODELS, '--http-port', '0', '--grpc-port', '0', '--metrics-port', 'off', '--auth-file', file, '--rate-limit', '1000:1000'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /infergate ready: (\S+) grpc=(\S+)/.exec(out);
        if (m) {
          http = m[1] as string;
          grpcAddress = m[2] as string;
          resolve();
        }
      });
      proc.on('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
    });
  });

  after(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string, token?: string) => fetch(`${http}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('HTTP: 401 without credentials (health stays open), 200 with them, 404 outside the allow-list', async () => {
    assert.equal((await get('/v2/health/ready')).status, 200);
    const denied = await get('/v2/models/fraud');
    assert.equal(denied.status, 401);
    assert.doesNotMatch(await denied.text(), /fraud/, 'nothing about the model');
    assert.equal((await get('/v2/models/fraud', 'wrong-token-0123456789abcdef')).status, 401);
    assert.equal((await get('/v2/models/fraud', FULL)).status, 200);
    const hidden = await get('/v2/models/fraud', NONE);
    const missing = await get('/v2/models/ghost', NONE);
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(
      ((await hidden.json()) as { error: string }).error.replace('fraud', 'X'),
      ((await missing.json()) as { error: string }).error.replace('ghost', 'X'),
      'a hidden model is worded exactly like a missing one',
    );
  });

  it('gRPC: UNAUTHENTICATED without credentials, served with them, NOT_FOUND outside the allow-list', async () => {
    const client = grpcClient(grpcAddress);
    try {
      const denied = await callError(client, 'ModelMetadata', { name: 'fraud' });
      assert.equal(denied.code, grpc.status.UNAUTHENTICATED);
      assert.doesNotMatch(denied.details, /fraud/);
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${FULL}`);
      assert.equal((await call(client, 'ModelMetadata', { name: 'fraud' }, md)).name, 'fraud');
      const other = new grpc.Metadata();
      other.set('x-api-key', NONE);
      assert.equal((await callError(client, 'ModelMetadata', { name: 'fraud' }, other)).code, grpc.status.NOT_FOUND);
    } finally {
      client.close();
    }
  });
});
