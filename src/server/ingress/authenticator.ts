// Who is calling: the secret in `authorization: Bearer <token>` or in the API-key header, looked up
// among the configured credentials. Any secret may be sent either way. Every refusal carries the
// same message, so a caller learns nothing about which part was wrong.

import { timingSafeEqual } from 'node:crypto';
import { type InferError, unauthenticated } from '../../errors';
import { type Credential, MAX_SECRET_LENGTH, secretDigest } from './credential';
import { IngressConfigError } from './ingress-config-error';
import type { Principal } from './ingress';

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

interface Entry {
  digest: Buffer;
  principal: Principal;
}

const BEARER = /^bearer +(\S+) *$/i;

export class Authenticator {
  // Keyed by the hex SHA-256 of the secret. A presented secret is hashed before it is compared with
  // anything, so the time a lookup takes depends on its digest, which says nothing usable about
  // any stored secret (finding a secret from digest prefixes means inverting SHA-256). That makes
  // the lookup constant-time in the sense that matters, at O(1) per request for any number of
  // credentials; timingSafeEqual then confirms the full digest.
  private readonly byDigest = new Map<string, Entry>();
  private readonly refusal: string;

  constructor(
    credentials: readonly Credential[],
    readonly apiKeyHeader: string,
  ) {
    const names = new Map<string, string>();
    for (const c of credentials) {
      const sameName = names.get(c.name);
      if (sameName !== undefined) throw new IngressConfigError(`${c.where}: name "${c.name}" is already used at ${sameName}`);
      names.set(c.name, c.where);
      const key = c.digest.toString('hex');
      const sameSecret = this.byDigest.get(key);
      if (sameSecret) throw new IngressConfigError(`${c.where}: "${c.name}" has the same secret as "${sameSecret.principal.id}"`);
      this.byDigest.set(key, { digest: c.digest, principal: Object.freeze({ id: c.name, models: c.models }) });
    }
    this.refusal = `authentication required: send "authorization: Bearer <token>" or "${apiKeyHeader}: <key>" with a valid credential`;
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The principal the headers prove; unauthenticated (one fixed message) otherwise. */
  authenticate(headers: RequestHeaders): Principal {
    const bearer = single(headers.authorization);
    const apiKey = single(headers[this.apiKeyHeader]);
    if (bearer === undefined && apiKey === undefined) throw this.refuse();
    let principal: Principal | undefined;
    if (bearer !== undefined) {
      const m = BEARER.exec(bearer);
      principal = m ? this.lookup(m[1]!) : undefined;
      if (!principal) throw this.refuse();
    }
    if (apiKey !== undefined) {
      const p = this.lookup(apiKey);
      // Both headers sent: both must hold a valid secret of the same credential.
      if (!p || (principal !== undefined && p !== principal)) throw this.refuse();
      principal = p;
    }
    return principal!;
  }

  private lookup(secret: string): Principal | undefined {
    if (secret.length === 0 || secret.length > MAX_SECRET_LENGTH) return undefined;
    const digest = secretDigest(secret);
    const entry = this.byDigest.get(digest.toString('hex'));
    return entry && timingSafeEqual(entry.digest, digest) ? entry.principal : undefined;
  }

  private refuse(): InferError {
    return unauthenticated(this.refusal);
  }
}

/** A header's one value; "" when it was sent more than once (never a valid secret). */
function single(v: string | string[] | undefined): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  return v.length === 1 ? v[0] : v.length === 0 ? undefined : '';
}
