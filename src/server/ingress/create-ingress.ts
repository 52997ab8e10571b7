// Builds the process's one Ingress from options: credentials (file, environment, or given), the
// API-key header, a per-principal rate limit and the request limits. Options are validated up
// front; a mistake is an IngressConfigError naming the option, file line or variable entry.

import { performance } from 'node:perf_hooks';
import { InferError, modelNotLoaded } from '../../errors';
import { Authenticator, type RequestHeaders } from './authenticator';
import { type Credential, type CredentialInput, MAX_CREDENTIALS, makeCredential } from './credential';
import { credentialsFromEnv, readCredentialsFile } from './credential-sources';
import type { Ingress, Principal } from './ingress';
import { IngressConfigError } from './ingress-config-error';
import { type Clock, type RateLimit, TokenBuckets, resolveRateLimit } from './token-buckets';

export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT_STREAMS = 64;
export const DEFAULT_MAX_TRACKED_PRINCIPALS = 10_000;
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

/** The caller when no credentials are configured: may use every model. */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', models: '*' });

export interface IngressOptions {
  /** A credentials file: JSON or one credential per line (docs/ingress.md). Reread by reloadCredentials(). */
  credentialsFile?: string;
  /** The environment to read INFERGATE_CREDENTIALS from (pass process.env); default: none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Credentials given in code, validated like the others. */
  credentials?: readonly CredentialInput[];
  /** Lower-case header that carries an API key; default "x-api-key". */
  apiKeyHeader?: string;
  /** Requests per second per principal, and burst (default: one second's worth); default: no limit. */
  rateLimit?: { perSecond: number; burst?: number };
  /** Principals whose rate buckets are kept; past it the least recently seen is dropped; default 10000. */
  maxTrackedPrincipals?: number;
  /** Largest HTTP body or gRPC message, bytes; default 4 MiB (gRPC's own default). */
  maxRequestBytes?: number;
  /** Concurrent ModelStreamInfer streams per server; default 64. */
  maxConcurrentStreams?: number;
  /** Monotonic milliseconds for the rate limiter; default performance.now (tests pass a manual clock). */
  clock?: Clock;
}

export interface ConfiguredIngress extends Ingress {
  /** False when no credential is configured: every caller is ANONYMOUS. */
  readonly authenticationEnabled: boolean;
  readonly credentialCount: number;
  readonly apiKeyHeader: string;
  readonly rateLimit: RateLimit | undefined;
  /**
   * Rereads the credentials file and environment (wire it to SIGHUP). On any mistake, or when the
   * result would have no credentials while some are in force, throws and keeps the current ones.
   * Returns the number of credentials now in force.
   */
  reloadCredentials(): number;
}

export function createIngress(options: IngressOptions = {}): ConfiguredIngress {
  const apiKeyHeader = resolveApiKeyHeader(options.apiKeyHeader);
  const maxRequestBytes = integer('maxRequestBytes', options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 1024, 2 ** 31 - 1);
  const maxConcurrentStreams = integer('maxConcurrentStreams', options.maxConcurrentStreams, DEFAULT_MAX_CONCURRENT_STREAMS, 1, 65_536);
  const maxTracked = integer('maxTrackedPrincipals', options.maxTrackedPrincipals, DEFAULT_MAX_TRACKED_PRINCIPALS, 1, 10_000_000);
  const rateLimit = options.rateLimit === undefined ? undefined : resolveRateLimit(options.rateLimit, 'rateLimit');
  const buckets = rateLimit ? new TokenBuckets(rateLimit, maxTracked, options.clock ?? (() => performance.now())) : undefined;

  const load = (): Authenticator => new Authenticator(gatherCredentials(options), apiKeyHeader);
  let auth = load();

  return {
    maxRequestBytes,
    maxConcurrentStreams,
    apiKeyHeader,
    rateLimit,
    get authenticationEnabled() {
      return auth.size > 0;
    },
    get credentialCount() {
      return auth.size;
    },
    authenticate(headers: RequestHeaders): Principal {
      return auth.size === 0 ? ANONYMOUS : auth.authenticate(headers);
    },
    authorizeModel(principal: Principal, model: string): void {
      if (principal.models !== '*' && !principal.models.has(model)) throw modelNotLoaded(model);
    },
    admit(principal: Principal): void {
      if (!buckets) return;
      const wait = buckets.take(principal.id);
      if (wait > 0) {
        throw new InferError(
          'resource_exhausted',
          `rate limit of ${buckets.limit.perSecond} requests/s (burst ${buckets.limit.burst}) exceeded for "${principal.id}"; retry after ${wait} s`,
          { retryAfterSeconds: wait },
        );
      }
    },
    reloadCredentials(): number {
      const next = load();
      if (next.size === 0 && auth.size > 0) {
        throw new IngressConfigError('credentials reload found no credentials; keeping the current ones rather than turning authentication off');
      }
      auth = next;
      return auth.size;
    },
  };
}

function gatherCredentials(o: IngressOptions): Credential[] {
  const all: Credential[] = [];
  (o.credentials ?? []).forEach((c, i) => all.push(makeCredential(c, `credentials[${i}]`)));
  if (o.credentialsFile !== undefined) all.push(...readCredentialsFile(o.credentialsFile));
  if (o.env !== undefined) all.push(...credentialsFromEnv(o.env));
  if (all.length > MAX_CREDENTIALS) throw new IngressConfigError(`${all.length} credentials configured; the limit is ${MAX_CREDENTIALS}`);
  return all;
}

function resolveApiKeyHeader(h: string | undefined): string {
  const header = h ?? DEFAULT_API_KEY_HEADER;
  // Lower case because HTTP/2 and Node lower-case header names; "-bin" metadata is binary in gRPC.
  if (typeof header !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(header) || header.endsWith('-bin') || header.startsWith('grpc-') || header === 'authorization') {
    throw new IngressConfigError(`apiKeyHeader must be a lower-case header name other than "authorization", "grpc-*" or "*-bin", got ${JSON.stringify(header)}`);
  }
  return header;
}

function integer(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min || x > max) throw new IngressConfigError(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return x;
}
