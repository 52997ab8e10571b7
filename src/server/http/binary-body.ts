// The binary tensor data extension's body layout: `Inference-Header-Content-Length` bytes of JSON,
// then the binary tensors back to back. This splits a request body there; which tensor owns which
// bytes is decided by the inputs' `binary_data_size`, in the order the inputs appear.

import type { IncomingHttpHeaders } from 'node:http';
import { invalidArgument } from '../../errors';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface InferenceBody {
  /** The JSON part. */
  header: Buffer;
  /** Everything after it (empty without the extension). */
  binary: Buffer;
}

/** The declared JSON length, or undefined when the request does not use the extension. */
export function headerLengthOf(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers[HEADER_LENGTH];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? undefined : raw.trim();
  if (text === undefined || !/^[0-9]{1,15}$/.test(text)) {
    throw invalidArgument(`header "Inference-Header-Content-Length" must be one non-negative integer (the JSON header's byte length), got "${String(raw)}"`, {
      field: 'Inference-Header-Content-Length',
    });
  }
  return Number(text);
}

export function splitInferenceBody(body: Buffer, headerLength: number | undefined): InferenceBody {
  if (headerLength === undefined) return { header: body, binary: body.subarray(body.length) };
  if (headerLength === 0 || headerLength > body.length) {
    throw invalidArgument(
      `header "Inference-Header-Content-Length" is ${headerLength}, but the JSON header must be between 1 and the body's ${body.length} bytes`,
      { field: 'Inference-Header-Content-Length' },
    );
  }
  return { header: body.subarray(0, headerLength), binary: body.subarray(headerLength) };
}
