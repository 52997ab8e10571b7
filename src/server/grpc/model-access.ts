// Who is calling and which models they may see, for every gRPC call: authentication from the call's
// metadata, the rate limit, and a model lookup that never tells an unauthorised caller more than a
// missing model would. Without an Ingress everyone is anonymous and may use every model.

import type * as grpc from '@grpc/grpc-js';
import { InferError, invalidArgument, notFound } from '../../errors';
import type { Model } from '../../runtime/model';
import type { Runtime } from '../../runtime/runtime';
import type { Ingress, Principal } from '../ingress/ingress';

/** The caller when no Ingress is configured. */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', models: '*' });

/** gRPC metadata as the header map Ingress reads: lower-case names, binary values as base64. */
export function headersOf(metadata: grpc.Metadata): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const key of Object.keys(metadata.getMap())) {
    const values = metadata.get(key).map((v) => (typeof v === 'string' ? v : v.toString('base64')));
    headers[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return headers;
}

export class ModelAccess {
  constructor(
    private readonly runtime: Runtime,
    private readonly ingress: Ingress | undefined,
  ) {}

  /** Who is calling, from the call's metadata; throws unauthenticated. */
  authenticate(metadata: grpc.Metadata): Principal {
    return this.ingress ? this.ingress.authenticate(headersOf(metadata)) : ANONYMOUS;
  }

  /** Takes one token from the caller's bucket: once per unary call, once per request of a stream. */
  admit(principal: Principal): void {
    this.ingress?.admit(principal);
  }

  /**
   * The loaded model `name`, if `principal` may use it. With an Ingress, a model outside the
   * caller's allow-list and a model that does not exist get the very same not_found, and the
   * message lists no other models.
   */
  model(principal: Principal, name: string): Model {
    if (typeof name !== 'string' || name === '') throw invalidArgument('a model name is required: the request\'s model name is empty', { field: 'name' });
    if (!this.ingress) return this.runtime.model(name);
    const missing = () => notFound(`model "${name}" is not available`, { model: name });
    try {
      this.ingress.authorizeModel(principal, name);
      return this.runtime.model(name);
    } catch (err) {
      if (err instanceof InferError && (err.code === 'not_found' || err.code === 'permission_denied')) throw missing();
      throw err;
    }
  }

  /** Whether `principal` may see `name` at all (for listings: index, statistics). */
  visible(principal: Principal, name: string): boolean {
    if (!this.ingress) return true;
    try {
      this.ingress.authorizeModel(principal, name);
      return true;
    } catch {
      return false;
    }
  }

  /** Checks that `principal` may address `name`, loaded or not (repository load and unload). */
  authorize(principal: Principal, name: string): void {
    if (this.ingress && !this.visible(principal, name)) throw notFound(`model "${name}" is not available`, { model: name });
  }
}
