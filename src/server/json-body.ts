// Reads a request body with a hard size limit and parses it as JSON. Past the limit the body is
// not buffered further: the answer is payload_too_large (413).

import type { IncomingMessage } from 'node:http';
import { InferError, invalidArgument } from '../errors';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(limit: number): InferError {
  return new InferError('payload_too_large', `request body exceeds the limit of ${limit} bytes`);
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!done) reject(invalidArgument(`request body could not be read: ${err.message}`));
      done = true;
    });
  });
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) throw invalidArgument('request body is empty: expected a JSON object');
  return parseJson(body);
}

/** Parses JSON bytes; malformed JSON is invalid_argument with the parser's reason. */
export function parseJson(bytes: Buffer, what = 'body'): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`malformed JSON ${what}: ${(err as Error).message}`);
  }
}
