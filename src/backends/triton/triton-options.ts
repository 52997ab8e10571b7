// Options of the Triton backend: where the cluster is, how to reach it safely, and the bounds on
// retries, outstanding calls and health checks. Validated once, up front, with messages that name
// the option.

export interface TritonTlsOptions {
  /** PEM root certificates that sign the servers' certificates; default: the system's. */
  rootCerts?: Buffer | string;
  /** PEM client certificate and key, for mutual TLS. */
  certChain?: Buffer | string;
  privateKey?: Buffer | string;
  /** Overrides the name checked against the server certificate (tests, IP endpoints). */
  serverNameOverride?: string;
}

export interface TritonClientOptions {
  /** "host:port" of each replica's gRPC endpoint. */
  endpoints: string[];
  /** TLS for every channel; default: plaintext. */
  tls?: TritonTlsOptions;
  /** Sent as `authorization: Bearer <token>` on every call. */
  bearerToken?: string;
  /** Sent as `<apiKeyHeader>: <apiKey>` on every call. */
  apiKey?: string;
  /** Header that carries apiKey; default "x-api-key". */
  apiKeyHeader?: string;
  /** HTTP/2 keepalive ping interval on idle channels, ms; default 10000. */
  keepaliveMs?: number;
  /** Deadline of a call whose batch carries none, ms; default 10000. */
  defaultTimeoutMs?: number;
  /** Attempts per batch, across replicas, on unavailable; default 3 (bounded by the deadline too). */
  maxAttempts?: number;
  /** Health probe (ServerReady + ModelReady) period, ms; default 1000. */
  healthIntervalMs?: number;
  /** Consecutive failures that open a replica's circuit; default 5. */
  breakerThreshold?: number;
  /** How long an open circuit rejects calls before one trial call, ms; default 2000. */
  breakerOpenMs?: number;
  /** Calls in flight per replica; past it a batch waits (bounded by the scheduler's queue); default 64. */
  maxOutstandingPerReplica?: number;
}

export type ResolvedTritonClientOptions = Required<Omit<TritonClientOptions, 'tls' | 'bearerToken' | 'apiKey'>> &
  Pick<TritonClientOptions, 'tls' | 'bearerToken' | 'apiKey'>;

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/** Parses "host:port,host:port" (an optional triton:// prefix is accepted). */
export function parseEndpoints(text: string, where: string): string[] {
  const list = text
    .replace(/^triton:\/\//, '')
    .split(',')
    .map((s) => s.trim().replace(/^triton:\/\//, ''))
    .filter(Boolean);
  if (list.length === 0) throw new RangeError(`${where}: needs at least one "host:port" endpoint`);
  for (const e of list) checkEndpoint(e, where);
  return list;
}

function checkEndpoint(e: string, where: string): void {
  const m = ENDPOINT.exec(e);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new RangeError(`${where}: "${e}" is not a "host:port" endpoint (port 1-65535)`);
}

export function resolveTritonOptions(o: TritonClientOptions): ResolvedTritonClientOptions {
  if (!o || !Array.isArray(o.endpoints) || o.endpoints.length === 0) {
    throw new RangeError('triton.endpoints: needs at least one "host:port" endpoint');
  }
  for (const e of o.endpoints) checkEndpoint(e, 'triton.endpoints');
  if (new Set(o.endpoints).size !== o.endpoints.length) throw new RangeError('triton.endpoints: lists an endpoint twice');
  const int = (name: keyof TritonClientOptions, v: number | undefined, dflt: number, min: number): number => {
    const x = v ?? dflt;
    if (!Number.isInteger(x) || x < min) throw new RangeError(`triton.${name} must be an integer >= ${min}, got ${String(v)}`);
    return x;
  };
  if (o.bearerToken !== undefined && (typeof o.bearerToken !== 'string' || o.bearerToken === '')) {
    throw new RangeError('triton.bearerToken must be a non-empty string');
  }
  if (o.apiKey !== undefined && (typeof o.apiKey !== 'string' || o.apiKey === '')) throw new RangeError('triton.apiKey must be a non-empty string');
  const apiKeyHeader = o.apiKeyHeader ?? 'x-api-key';
  if (!/^[a-z0-9-]+$/.test(apiKeyHeader)) throw new RangeError(`triton.apiKeyHeader must be a lower-case header name, got "${apiKeyHeader}"`);
  if (o.tls && (o.tls.certChain === undefined) !== (o.tls.privateKey === undefined)) {
    throw new RangeError('triton.tls: certChain and privateKey go together (mutual TLS)');
  }
  return {
    endpoints: [...o.endpoints],
    tls: o.tls,
    bearerToken: o.bearerToken,
    apiKey: o.apiKey,
    apiKeyHeader,
    keepaliveMs: int('keepaliveMs', o.keepaliveMs, 10_000, 1000),
    defaultTimeoutMs: int('defaultTimeoutMs', o.defaultTimeoutMs, 10_000, 1),
    maxAttempts: int('maxAttempts', o.maxAttempts, 3, 1),
    healthIntervalMs: int('healthIntervalMs', o.healthIntervalMs, 1000, 10),
    breakerThreshold: int('breakerThreshold', o.breakerThreshold, 5, 1),
    breakerOpenMs: int('breakerOpenMs', o.breakerOpenMs, 2000, 1),
    maxOutstandingPerReplica: int('maxOutstandingPerReplica', o.maxOutstandingPerReplica, 64, 1),
  };
}
