// One credential: a name (the principal id), the digest of its secret and the models it may use.
// Every source (file, environment, options) validates through makeCredential, so one set of rules
// and one wording of mistakes apply everywhere. Messages never repeat a secret.

import { createHash } from 'node:crypto';
import { IngressConfigError } from './ingress-config-error';

export interface Credential {
  /** The principal id: appears in logs and rate-limit errors, never a secret. */
  name: string;
  /** SHA-256 of the secret (32 bytes). The secret itself is not kept in memory. */
  digest: Buffer;
  /** Models this credential may use; "*" for all. */
  models: '*' | ReadonlySet<string>;
  /** Where it was declared ("auth.txt:3", "INFERGATE_CREDENTIALS entry 2"), for later messages. */
  where: string;
}

/** A credential as a source states it, before validation. */
export interface CredentialInput {
  name: unknown;
  secret: unknown;
  /** Absent or "*": every model. Otherwise model names (a list, or a comma-separated string). */
  models?: unknown;
}

/** Bounds what one configuration may hold. */
export const MAX_CREDENTIALS = 10_000;
export const MAX_SECRET_LENGTH = 4096;

const NAME = /^[A-Za-z0-9._@-]{1,128}$/;
// RFC 6750's b64token alphabet: what a bearer token may contain, so any secret can travel in either
// header unquoted. Also keeps the line and environment formats free of separators.
const SECRET = new RegExp(`^[A-Za-z0-9\\-._~+/=]{16,${MAX_SECRET_LENGTH}}$`);
const SECRET_DIGEST = /^sha256:([0-9a-f]{64})$/;
const MODEL = /^[^/\\\s,]{1,256}$/;

export const SECRET_RULE = 'a secret must be 16 to 4096 characters of A-Z a-z 0-9 - . _ ~ + / =, or "sha256:" and 64 lower-case hex digits';

export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function makeCredential(input: CredentialInput, where: string): Credential {
  const { name, secret } = input;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new IngressConfigError(`${where}: name must be 1 to 128 characters of A-Z a-z 0-9 . _ @ -, got ${describe(name)}`);
  }
  if (typeof secret !== 'string') throw new IngressConfigError(`${where}: secret of "${name}" must be a string`);
  let digest: Buffer;
  const stored = SECRET_DIGEST.exec(secret);
  if (stored) digest = Buffer.from(stored[1]!, 'hex');
  else if (secret.startsWith('sha256:')) throw new IngressConfigError(`${where}: secret of "${name}" starts with "sha256:" but is not followed by 64 lower-case hex digits`);
  else if (SECRET.test(secret)) digest = secretDigest(secret);
  else throw new IngressConfigError(`${where}: secret of "${name}" is not valid: ${SECRET_RULE}`);
  return { name, digest, models: modelList(input.models, `${where}: models of "${name}"`), where };
}

function modelList(models: unknown, what: string): '*' | ReadonlySet<string> {
  if (models === undefined || models === '*') return '*';
  const list = typeof models === 'string' ? models.split(',').map((m) => m.trim()) : models;
  if (!Array.isArray(list) || list.length === 0) {
    throw new IngressConfigError(`${what} must be "*" or a non-empty list of model names, got ${describe(models)}`);
  }
  for (const m of list) {
    if (m === '*') throw new IngressConfigError(`${what}: "*" stands alone (it means every model)`);
    if (typeof m !== 'string' || !MODEL.test(m) || m === '.' || m === '..') {
      throw new IngressConfigError(`${what}: ${describe(m)} is not a model name (a plain folder name)`);
    }
  }
  return new Set(list as string[]);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
  if (v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}
