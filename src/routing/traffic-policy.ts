// Which version answers a model's requests, and where copies of them go: the traffic policy. It is
// plain data, set from config.pbtxt (`infergate.traffic.*`), the embedded API, the CLI or
// PUT /v1/models/{name}/traffic, and checked against the versions loaded before it takes effect.

import { invalidArgument } from '../errors';
import { BACKEND_MODES, type BackendMode } from '../repository/model-settings';

export interface CanaryPolicy {
  /** The version that receives the canary share (loaded beside the primary). */
  version: number;
  /** Share of requests sent to it, 0..100 (fractions allowed, to 0.01 %). */
  percent: number;
  /**
   * The record field whose value keeps a caller on one side (e.g. "customer_id"): the same key
   * always lands on the same version, and raising the percentage only moves keys onto the canary.
   * A request may also pass `routingKey`. Without either, each request is split at random.
   */
  key?: string;
}

export interface ShadowPolicy {
  /** The version that receives copies; default: the primary's version. */
  version?: number;
  /** The backend that runs the copies; default: the model's own. "triton" shadows a local model on Triton. */
  backend?: BackendMode;
  /** Share of requests copied, 0..1; default 1. */
  sampleRate?: number;
  /** Copies waiting to be sent; past it a copy is dropped and counted. Default 1024. */
  maxQueue?: number;
  /** Copies running at once. Default 64. */
  maxConcurrency?: number;
}

export interface TrafficPolicy {
  /** The version that answers; default: the newest loaded. */
  primary?: number;
  canary?: CanaryPolicy;
  shadow?: ShadowPolicy;
}

/** A policy with its defaults filled in, checked against the loaded versions. */
export interface ResolvedTraffic {
  primary: number;
  canary: Required<Omit<CanaryPolicy, 'key'>> & { key: string | undefined } | undefined;
  shadow: Required<Omit<ShadowPolicy, 'backend'>> & { backend: BackendMode } | undefined;
}

export const SHADOW_DEFAULTS = { sampleRate: 1, maxQueue: 1024, maxConcurrency: 64 } as const;

/** Validates `policy` for `model` whose loaded versions are `loaded` (ascending) served by `mode`. */
export function resolveTraffic(model: string, policy: TrafficPolicy, loaded: readonly number[], mode: BackendMode): ResolvedTraffic {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw invalidArgument(`traffic policy of model "${model}": ${field} must be ${expected}, got ${JSON.stringify(got)}`, { field, model });
  };
  const loadedVersion = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !loaded.includes(v)) bad(field, `a loaded version (${loaded.join(', ')})`, v);
    return v as number;
  };
  if (policy === null || typeof policy !== 'object') bad('policy', 'an object', policy);
  const primary = policy.primary === undefined ? (loaded[loaded.length - 1] as number) : loadedVersion('primary', policy.primary);

  let canary: ResolvedTraffic['canary'];
  if (policy.canary !== undefined) {
    const c = policy.canary;
    if (c === null || typeof c !== 'object') bad('canary', 'an object { version, percent, key? }', c);
    const version = loadedVersion('canary.version', c.version);
    if (version === primary) bad('canary.version', `a version other than the primary (${primary})`, c.version);
    if (typeof c.percent !== 'number' || !Number.isFinite(c.percent) || c.percent < 0 || c.percent > 100) bad('canary.percent', 'a number in [0, 100]', c.percent);
    if (c.key !== undefined && (typeof c.key !== 'string' || c.key === '')) bad('canary.key', 'a record field name', c.key);
    canary = { version, percent: c.percent, key: c.key };
  }

  let shadow: ResolvedTraffic['shadow'];
  if (policy.shadow !== undefined) {
    const s = policy.shadow;
    if (s === null || typeof s !== 'object') bad('shadow', 'an object { version?, backend?, sampleRate?, maxQueue?, maxConcurrency? }', s);
    const backend = s.backend ?? mode;
    if (!BACKEND_MODES.includes(backend)) bad('shadow.backend', BACKEND_MODES.join(' | '), s.backend);
    const version = s.version === undefined ? primary : loadedVersion('shadow.version', s.version);
    if (version === primary && backend === mode) {
      bad('shadow', `another version or another backend than the primary's (version ${primary} on ${mode})`, s);
    }
    const sampleRate = s.sampleRate ?? SHADOW_DEFAULTS.sampleRate;
    if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) bad('shadow.sampleRate', 'a number in [0, 1]', s.sampleRate);
    const maxQueue = s.maxQueue ?? SHADOW_DEFAULTS.maxQueue;
    if (!Number.isInteger(maxQueue) || maxQueue < 1 || maxQueue > 1_000_000) bad('shadow.maxQueue', 'an integer in [1, 1000000]', s.maxQueue);
    const maxConcurrency = s.maxConcurrency ?? SHADOW_DEFAULTS.maxConcurrency;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 65_536) {
      bad('shadow.maxConcurrency', 'an integer in [1, 65536]', s.maxConcurrency);
    }
    shadow = { version, backend, sampleRate, maxQueue, maxConcurrency };
  }
  return { primary, canary, shadow };
}

/** The plain policy a resolved one came from (what GET /traffic shows and a rollback records). */
export function describeTraffic(t: ResolvedTraffic): TrafficPolicy {
  return {
    primary: t.primary,
    ...(t.canary ? { canary: { version: t.canary.version, percent: t.canary.percent, ...(t.canary.key ? { key: t.canary.key } : {}) } } : {}),
    ...(t.shadow ? { shadow: { ...t.shadow } } : {}),
  };
}
