// Writes a handler's Reply, or an error, to the HTTP response. Errors use the one mapping of
// src/errors.ts; internal errors are logged and answered without their details.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { asInferError, httpStatusOf } from '../../errors';
import type { Reply } from './route';

const JSON_TYPE = 'application/json';

export function errorReply(req: IncomingMessage, res: ServerResponse, err: unknown): Reply {
  const e = asInferError(err);
  if (e.code === 'internal') process.stderr.write(`infergate: internal error on ${req.method} ${req.url}: ${e.stack ?? e.message}\n`);
  if (e.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(Math.ceil(e.retryAfterSeconds)));
  // A refused body is not read to its end; the connection cannot be reused.
  if (e.code === 'payload_too_large') res.setHeader('connection', 'close');
  const body = e.code === 'internal' ? { error: 'internal error', code: 'internal' } : e.toJSON();
  return { status: httpStatusOf(e.code), json: body };
}

/** Sends `reply`. The response's 'close' event says when it is done (or its client gone). */
export function writeReply(res: ServerResponse, reply: Reply): void {
  if ('empty' in reply) {
    res.writeHead(reply.status, { 'content-type': JSON_TYPE, 'content-length': 0 });
    res.end();
    return;
  }
  if ('inference' in reply) {
    const { header, binary } = reply.inference;
    if (binary.length === 0) {
      res.writeHead(reply.status, { 'content-type': JSON_TYPE, 'content-length': header.length });
      res.end(header);
      return;
    }
    // The binary tensor data extension: the JSON header's length, then the tensors back to back.
    const length = binary.reduce((n, b) => n + b.length, header.length);
    res.writeHead(reply.status, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': header.length,
      'content-length': length,
    });
    res.write(header);
    for (const b of binary) res.write(b);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.json);
  res.writeHead(reply.status, { ...reply.headers, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
