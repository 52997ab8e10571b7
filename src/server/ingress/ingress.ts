// The contract between the servers (HTTP, gRPC) and ingress control: who is calling, may they use
// this model, may they call now. One Ingress per server process, shared by both listeners.
// The implementation lives beside this file.

/** An authenticated caller (or the anonymous one when authentication is off). */
export interface Principal {
  /** Stable id for rate limiting and logs: the credential's name, never the secret. */
  id: string;
  /** Models this caller may use; "*" for all. */
  models: '*' | ReadonlySet<string>;
}

export interface Ingress {
  /**
   * Authenticates by request headers (lower-case names; HTTP headers or gRPC metadata):
   * `authorization: Bearer <token>` or the API-key header. Throws InferError unauthenticated
   * (HTTP 401 / gRPC 16) with a message that reveals nothing about models.
   */
  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Principal;
  /**
   * Throws when the principal may not use `model`. The answer must not reveal whether the model
   * exists: a model outside the allow-list is reported exactly like a missing one (not_found).
   */
  authorizeModel(principal: Principal, model: string): void;
  /** Token bucket per principal; throws resource_exhausted with retryAfterSeconds when empty. */
  admit(principal: Principal): void;
  /** Largest request body (HTTP) or message (gRPC) accepted, bytes. */
  readonly maxRequestBytes: number;
  /** Concurrent gRPC streams (ModelStreamInfer) per server; past it a new stream is refused. */
  readonly maxConcurrentStreams: number;
}
