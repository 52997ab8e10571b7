// A small HTTP(S) client for the server tests: raw bytes in and out, so binary tensor data and
// Triton's empty bodies can be checked exactly.

import * as http from 'node:http';
import * as https from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON (undefined when empty). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** For https: CA to trust, and a client certificate. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export function call(url: string, method: string, body?: string | Buffer, options: CallOptions = {}): Promise<HttpAnswer> {
  const secure = url.startsWith('https:');
  const lib = secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method,
        headers: { 'content-type': 'application/json', ...options.headers },
        ...(secure ? { ca: options.ca, cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const isJson = String(res.headers['content-type']).startsWith('application/json') && bytes.length > 0;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, json: isJson ? JSON.parse(bytes.toString()) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A binary-extension request body: the JSON header, then each binary tensor in order. */
export function binaryBody(header: unknown, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors]),
    headers: { 'inference-header-content-length': String(json.length), 'content-type': 'application/octet-stream' },
  };
}

/** Splits a binary-extension response into its JSON header and binary section. */
export function splitBinaryAnswer(a: HttpAnswer): { header: any; binary: Buffer } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const raw = a.headers['inference-header-content-length'];
  if (raw === undefined) return { header: JSON.parse(a.body.toString()), binary: Buffer.alloc(0) };
  const n = Number(raw);
  return { header: JSON.parse(a.body.subarray(0, n).toString()), binary: a.body.subarray(n) };
}
