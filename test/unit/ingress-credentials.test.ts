// Credentials from files (JSON and lines) and INFERGATE_CREDENTIALS: what is accepted, and that
// every mistake names the file and line, JSON path or variable entry, without repeating a secret.

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { credentialsFromEnv, parseCredentials, readCredentialsFile } from '../../src/server/ingress/credential-sources';
import { createIngress } from '../../src/server/ingress/create-ingress';
import { IngressConfigError } from '../../src/server/ingress/ingress-config-error';

const TOKEN = 'tok-checkout-0123456789';
const KEY = 'key_reports_0123456789';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Asserts an IngressConfigError whose message matches and never contains `secret`. */
function configError(message: RegExp, secret?: string) {
  return (err: unknown): true => {
    assert.ok(err instanceof IngressConfigError, String(err));
    assert.match(err.message, message);
    if (secret !== undefined) assert.ok(!err.message.includes(secret), `message repeats the secret: ${err.message}`);
    return true;
  };
}

describe('ingress credentials: sources', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'infergate-creds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads the line format: comments, blank lines, optional comma-separated models, sha256 digests', () => {
    const creds = readCredentialsFile(
      file('auth.txt', [`# name secret models`, '', `checkout  ${TOKEN}  fraud,identity`, `reports ${KEY} *`, `batch sha256:${sha256('batch-secret-000000')}\r`].join('\n')),
    );
    assert.deepEqual(
      creds.map((c) => [c.name, c.models === '*' ? '*' : [...c.models]]),
      [['checkout', ['fraud', 'identity']], ['reports', '*'], ['batch', '*']],
    );
    assert.equal(creds[0]!.digest.toString('hex'), sha256(TOKEN));
    assert.equal(creds[2]!.digest.toString('hex'), sha256('batch-secret-000000'));
    assert.equal(creds[0]!.where, `${path.join(dir, 'auth.txt')}:3`);
  });

  it('reads the JSON format', () => {
    const creds = readCredentialsFile(
      file('auth.json', JSON.stringify({ credentials: [{ name: 'checkout', secret: TOKEN, models: ['fraud'] }, { name: 'reports', secret: KEY }] })),
    );
    assert.deepEqual(creds.map((c) => c.name), ['checkout', 'reports']);
    assert.deepEqual(creds[0]!.models, new Set(['fraud']));
    assert.equal(creds[1]!.models, '*');
  });

  it('reads INFERGATE_CREDENTIALS, entries separated by ";" or newlines', () => {
    const creds = credentialsFromEnv({ INFERGATE_CREDENTIALS: `checkout ${TOKEN} fraud; reports ${KEY}\n` });
    assert.deepEqual(creds.map((c) => c.name), ['checkout', 'reports']);
    assert.deepEqual(credentialsFromEnv({}), []);
    assert.deepEqual(credentialsFromEnv({ INFERGATE_CREDENTIALS: '  ' }), []);
  });

  it('names the line and what was expected in the line format', () => {
    const f = 'auth.txt';
    assert.throws(() => parseCredentials(`# ok\n${'checkout'}\n`, f), configError(/^auth\.txt:2: expected "name secret \[models\]".*got 1 field$/));
    assert.throws(() => parseCredentials(`checkout ${TOKEN} fraud identity`, f), configError(/^auth\.txt:1: .*got 4 fields; separate model names with commas/, TOKEN));
    assert.throws(() => parseCredentials(`a ${TOKEN}\nbad/name ${KEY}`, f), configError(/^auth\.txt:2: name must be 1 to 128 characters .*got "bad\/name"/, KEY));
    assert.throws(() => parseCredentials(`checkout short`, f), configError(/^auth\.txt:1: secret of "checkout" is not valid: a secret must be 16 to 4096 characters/, 'short'));
    const quoted = `"${TOKEN}"`;
    assert.throws(() => parseCredentials(`checkout ${quoted}`, f), configError(/^auth\.txt:1: secret of "checkout" is not valid/, TOKEN));
    assert.throws(() => parseCredentials(`checkout sha256:abc`, f), configError(/^auth\.txt:1: secret of "checkout" starts with "sha256:" but is not followed by 64/));
    assert.throws(() => parseCredentials(`checkout ${TOKEN} fraud,,x`, f), configError(/^auth\.txt:1: models of "checkout": "" is not a model name/, TOKEN));
    assert.throws(() => parseCredentials(`checkout ${TOKEN} fraud,*`, f), configError(/^auth\.txt:1: models of "checkout": "\*" stands alone/));
    assert.throws(() => parseCredentials(`checkout ${TOKEN} ..`, f), configError(/^auth\.txt:1: models of "checkout": "\.\." is not a model name/));
  });

  it('names the JSON path and the key in the JSON format', () => {
    const f = 'auth.json';
    assert.throws(() => parseCredentials('{ "credentials": [ ', f), configError(/^credentials file "auth\.json" is not valid JSON: /));
    assert.throws(() => parseCredentials('{ "users": [] }', f), configError(/^auth\.json: unknown key "users" \(expected only "credentials"\)$/));
    assert.throws(() => parseCredentials('{ "credentials": {} }', f), configError(/^auth\.json: "credentials" must be a list/));
    assert.throws(() => parseCredentials('{ "credentials": [ 1 ] }', f), configError(/^auth\.json: credentials\[0\] must be an object/));
    const typo = JSON.stringify({ credentials: [{ name: 'a', secret: TOKEN }, { name: 'b', secret: KEY, model: ['fraud'] }] });
    assert.throws(() => parseCredentials(typo, f), configError(/^auth\.json: credentials\[1\]: unknown key "model" \(expected "name", "secret", "models"\)$/, KEY));
    const empty = JSON.stringify({ credentials: [{ name: 'a', secret: TOKEN, models: [] }] });
    assert.throws(() => parseCredentials(empty, f), configError(/^auth\.json: credentials\[0\]: models of "a" must be "\*" or a non-empty list of model names, got a list$/));
    const numeric = JSON.stringify({ credentials: [{ name: 'a', secret: 12345 }] });
    assert.throws(() => parseCredentials(numeric, f), configError(/^auth\.json: credentials\[0\]: secret of "a" must be a string$/));
  });

  it('names the variable entry', () => {
    assert.throws(
      () => credentialsFromEnv({ INFERGATE_CREDENTIALS: `checkout ${TOKEN}; reports` }),
      configError(/^INFERGATE_CREDENTIALS entry 2: expected "name secret \[models\]"/, TOKEN),
    );
  });

  it('names the file it cannot read, and refuses a directory or an oversized file', () => {
    assert.throws(() => readCredentialsFile(path.join(dir, 'missing.txt')), configError(/^credentials file ".*missing\.txt" cannot be read: ENOENT$/));
    assert.throws(() => readCredentialsFile(dir), configError(/is not a regular file$/));
    const big = file('big.txt', `# ${'x'.repeat(1024 * 1024)}\n`);
    assert.throws(() => readCredentialsFile(big), configError(/big\.txt" is \d+ bytes; the limit is 1048576$/));
  });

  it('refuses a name or a secret used twice, naming both places, across sources', () => {
    const f = file('dup.txt', `checkout ${TOKEN}\nreports ${KEY}\n`);
    assert.throws(
      () => createIngress({ credentialsFile: f, env: { INFERGATE_CREDENTIALS: `checkout other-secret-0123456789` } }),
      configError(/^INFERGATE_CREDENTIALS entry 1: name "checkout" is already used at .*dup\.txt:1$/),
    );
    assert.throws(
      () => createIngress({ credentialsFile: f, credentials: [{ name: 'third', secret: `sha256:${sha256(KEY)}` }] }),
      configError(/dup\.txt:2: "reports" has the same secret as "third"$/, KEY),
    );
  });
});
