// Authentication and per-model allow-lists: bearer tokens and API keys accepted or refused with one
// generic message, anonymous access when no credentials exist, reload, and a model outside the
// allow-list answered exactly as the runtime answers a model that does not exist.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferError, grpcStatusOf, httpStatusOf } from '../../src/errors';
import { Runtime } from '../../src/runtime/runtime';
import { ANONYMOUS, type ConfiguredIngress, createIngress } from '../../src/server/ingress/create-ingress';
import { IngressConfigError } from '../../src/server/ingress/ingress-config-error';
import { MODELS } from '../helpers';

const TOKEN = 'tok-checkout-0123456789';
const KEY = 'key_reports_0123456789';
const REFUSAL = 'authentication required: send "authorization: Bearer <token>" or "x-api-key: <key>" with a valid credential';

function refused(err: unknown): true {
  assert.ok(err instanceof InferError, String(err));
  assert.equal(err.code, 'unauthenticated');
  assert.equal(err.message, REFUSAL);
  assert.deepEqual(err.toJSON(), { error: REFUSAL, code: 'unauthenticated' });
  return true;
}

describe('ingress: authentication', () => {
  const ingress = createIngress({
    credentials: [
      { name: 'checkout', secret: TOKEN, models: ['fraud'] },
      { name: 'reports', secret: KEY },
    ],
  });

  it('accepts a bearer token or an API key, in either header', () => {
    assert.equal(ingress.authenticationEnabled, true);
    const checkout = ingress.authenticate({ authorization: `Bearer ${TOKEN}` });
    assert.equal(checkout.id, 'checkout');
    assert.deepEqual(checkout.models, new Set(['fraud']));
    assert.equal(ingress.authenticate({ authorization: `bearer   ${TOKEN}` }), checkout, 'the scheme is case-insensitive; one principal object per credential');
    assert.equal(ingress.authenticate({ 'x-api-key': TOKEN }), checkout);
    assert.equal(ingress.authenticate({ 'x-api-key': [KEY] }).id, 'reports', 'a gRPC metadata list of one value');
    assert.equal(ingress.authenticate({ authorization: `Bearer ${KEY}`, 'x-api-key': KEY }).id, 'reports');
    assert.equal(ingress.authenticate({ authorization: `Bearer ${KEY}` }).models, '*');
  });

  it('refuses every wrong, missing or malformed credential with one message', () => {
    const cases: Record<string, string | string[] | undefined>[] = [
      {},
      { authorization: undefined, 'x-api-key': undefined },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: TOKEN },
      { authorization: `Basic ${Buffer.from(`checkout:${TOKEN}`).toString('base64')}` },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${TOKEN} extra` },
      { 'x-api-key': '' },
      { 'x-api-key': TOKEN.toUpperCase() },
      { 'x-api-key': [TOKEN, KEY] },
      { 'x-api-key': 'x'.repeat(100_000) },
      { 'x-other-key': TOKEN },
      // Both sent: each must be valid and name the same credential.
      { authorization: `Bearer ${TOKEN}`, 'x-api-key': KEY },
      { authorization: `Bearer ${TOKEN}`, 'x-api-key': 'wrong-key-0123456789' },
      { authorization: 'Bearer wrong-token-0123456789', 'x-api-key': TOKEN },
    ];
    for (const headers of cases) assert.throws(() => ingress.authenticate(headers), refused, JSON.stringify(headers).slice(0, 80));
  });

  it('answers HTTP 401 and gRPC UNAUTHENTICATED (16)', () => {
    assert.equal(httpStatusOf('unauthenticated'), 401);
    assert.equal(grpcStatusOf('unauthenticated'), 16);
  });

  it('uses the configured API-key header, and validates its name', () => {
    const custom = createIngress({ apiKeyHeader: 'x-team-key', credentials: [{ name: 'reports', secret: KEY }] });
    assert.equal(custom.authenticate({ 'x-team-key': KEY }).id, 'reports');
    assert.throws(() => custom.authenticate({ 'x-api-key': KEY }), (e: unknown) => e instanceof InferError && /"x-team-key: <key>"/.test(e.message));
    for (const bad of ['X-Api-Key', 'authorization', 'grpc-key', 'key-bin', '', 'a b']) {
      assert.throws(() => createIngress({ apiKeyHeader: bad }), (e: unknown) => e instanceof IngressConfigError && /^apiKeyHeader must be a lower-case header name/.test(e.message), bad);
    }
  });

  it('is off when no credential is configured: every caller is anonymous, with every model', () => {
    const open = createIngress({ env: {} });
    assert.equal(open.authenticationEnabled, false);
    assert.equal(open.authenticate({}), ANONYMOUS);
    assert.equal(open.authenticate({ authorization: 'Bearer anything' }), ANONYMOUS);
    assert.doesNotThrow(() => open.authorizeModel(ANONYMOUS, 'anything'));
  });
});

describe('ingress: per-model allow-lists', () => {
  let rt: Runtime;
  let ingress: ConfiguredIngress;
  before(async () => {
    rt = await Runtime.load({ repository: MODELS });
    ingress = createIngress({ credentials: [{ name: 'scoring', secret: TOKEN, models: 'identity' }, { name: 'all', secret: KEY }] });
  });
  after(() => rt.close());

  it('lets a principal use the models of its list, and every model with "*"', () => {
    const scoring = ingress.authenticate({ authorization: `Bearer ${TOKEN}` });
    assert.doesNotThrow(() => ingress.authorizeModel(scoring, 'identity'));
    const all = ingress.authenticate({ 'x-api-key': KEY });
    assert.doesNotThrow(() => ingress.authorizeModel(all, 'fraud'));
    assert.doesNotThrow(() => ingress.authorizeModel(all, 'identity'));
  });

  it('answers a loaded model outside the list exactly as the runtime answers a missing model', () => {
    assert.ok(rt.model('fraud'), 'fraud is loaded');
    const scoring = ingress.authenticate({ authorization: `Bearer ${TOKEN}` });
    const hidden = caught(() => ingress.authorizeModel(scoring, 'fraud'));
    // The same name through the runtime, for a model that is not there: only the name may differ.
    const missing = caught(() => rt.model('fraud2'));
    assert.equal(hidden.code, 'not_found');
    assert.equal(hidden.message, missing.message.replace('fraud2', 'fraud'));
    assert.deepEqual(hidden.toJSON(), { ...missing.toJSON(), error: hidden.message, model: 'fraud' });
    assert.equal(hidden.field, missing.field);
    assert.equal(hidden.retryAfterSeconds, missing.retryAfterSeconds);
    assert.equal(missing.message, 'model "fraud2" is not loaded', 'the runtime names no other model');
  });
});

describe('ingress: credentials reload', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'infergate-reload-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('picks up a changed file, and keeps the current credentials when the new file is wrong or empty', () => {
    const file = path.join(dir, 'auth.txt');
    writeFileSync(file, `checkout ${TOKEN} fraud\n`);
    const ingress = createIngress({ credentialsFile: file });
    assert.equal(ingress.authenticate({ 'x-api-key': TOKEN }).id, 'checkout');

    writeFileSync(file, `reports ${KEY}\n`);
    assert.equal(ingress.reloadCredentials(), 1);
    assert.equal(ingress.authenticate({ 'x-api-key': KEY }).id, 'reports');
    assert.throws(() => ingress.authenticate({ 'x-api-key': TOKEN }), refused);

    writeFileSync(file, `reports\n`);
    assert.throws(() => ingress.reloadCredentials(), (e: unknown) => e instanceof IngressConfigError && /auth\.txt:1: expected/.test(e.message));
    writeFileSync(file, '# nobody\n');
    assert.throws(() => ingress.reloadCredentials(), /keeping the current ones rather than turning authentication off/);
    assert.equal(ingress.authenticate({ 'x-api-key': KEY }).id, 'reports', 'still the last good credentials');
  });
});

function caught(fn: () => unknown): InferError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InferError, String(err));
    return err;
  }
  assert.fail('expected an InferError');
}
