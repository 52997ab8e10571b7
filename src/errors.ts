// The one error vocabulary of infergate. Every failure a caller can see is an InferError with one of
// these codes; the HTTP and gRPC faces translate codes to statuses here and nowhere else.

export type ErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'payload_too_large'
  | 'resource_exhausted'
  | 'deadline_exceeded'
  | 'unavailable'
  | 'unimplemented'
  | 'unauthenticated'
  | 'permission_denied'
  | 'internal';

export interface ErrorDetails {
  /** The request field (record key, tensor name, JSON path) the error is about. */
  field?: string;
  /** The model the request addressed. */
  model?: string;
  /** Seconds after which a retry may succeed (resource_exhausted, unavailable). */
  retryAfterSeconds?: number;
}

export class InferError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly model: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'InferError';
    this.code = code;
    this.field = details.field;
    this.model = details.model;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  toJSON(): Record<string, unknown> {
    // `error` is a plain string, as in Triton's HTTP error body, so KServe clients read it unchanged.
    const body: Record<string, unknown> = { error: this.message, code: this.code };
    if (this.field !== undefined) body.field = this.field;
    if (this.model !== undefined) body.model = this.model;
    return body;
  }
}

export const invalidArgument = (message: string, details?: ErrorDetails): InferError =>
  new InferError('invalid_argument', message, details);
export const notFound = (message: string, details?: ErrorDetails): InferError =>
  new InferError('not_found', message, details);
/**
 * The one wording of "no such model". The runtime answers a missing model with it and ingress
 * answers a model outside the caller's allow-list with it, so a caller cannot tell the two apart
 * (and so cannot probe which models exist). It names no other model for the same reason.
 */
export const modelNotLoaded = (name: string): InferError => notFound(`model "${name}" is not loaded`, { model: name });
export const unavailable = (message: string, details?: ErrorDetails): InferError =>
  new InferError('unavailable', message, details);
export const unauthenticated = (message: string): InferError => new InferError('unauthenticated', message);
export const internal = (message: string, details?: ErrorDetails): InferError =>
  new InferError('internal', message, details);

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  payload_too_large: 413,
  resource_exhausted: 429,
  deadline_exceeded: 504,
  unavailable: 503,
  unimplemented: 501,
  unauthenticated: 401,
  permission_denied: 403,
  internal: 500,
};

/** gRPC status codes (grpc/status.proto numbering). */
const GRPC_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 3,
  not_found: 5,
  payload_too_large: 8,
  resource_exhausted: 8,
  deadline_exceeded: 4,
  unavailable: 14,
  unimplemented: 12,
  unauthenticated: 16,
  permission_denied: 7,
  internal: 13,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export function grpcStatusOf(code: ErrorCode): number {
  return GRPC_STATUS[code];
}

/** Wraps anything thrown into an InferError, keeping InferErrors as they are. */
export function asInferError(err: unknown, details?: ErrorDetails): InferError {
  if (err instanceof InferError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return internal(message, details);
}
