// From infergate's error vocabulary to a gRPC status, for every handler of the gRPC face. Status
// codes come from errors.ts (grpcStatusOf), the one place they are decided.

import * as grpc from '@grpc/grpc-js';
import { asInferError, grpcStatusOf } from '../../errors';
import type { Logger } from '../../observability/logger';

/** What grpc-js sends for a failed call: the status code, the message and trailing metadata. */
export interface CallStatus {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

/**
 * The status for anything a handler threw. InferErrors keep their message (it names the field and
 * the model); anything else is a bug: logged with its stack, answered INTERNAL without details.
 */
export function callStatusOf(err: unknown, method: string, logger: Logger): CallStatus {
  const e = asInferError(err);
  const metadata = new grpc.Metadata();
  if (e.retryAfterSeconds !== undefined) metadata.set('retry-after', String(Math.ceil(e.retryAfterSeconds)));
  if (e.code === 'internal') {
    logger.log('error', 'grpc.internal_error', { method, error: e.stack ?? e.message });
    return { code: grpc.status.INTERNAL, details: 'internal error', metadata };
  }
  return { code: grpcStatusOf(e.code), details: e.message, metadata };
}
