// Inference: KServe v2 tensors (JSON, binary tensor data, shared memory) at /v2/models/{name}/infer,
// and a raw record scored at /v1/models/{name}/score.

import type { IncomingMessage } from 'node:http';
import { invalidArgument } from '../../errors';
import { headerLengthOf } from './binary-body';
import { parseInferRequest } from './infer-request';
import { encodeInferResponse, plannedOutputs } from './infer-response';
import { NAME, type Reply, type RequestScope, type Route, type ServerContext, VERSION, json } from './route';

/** An optional string header of at most 256 characters (a routing key, a request id). */
function stringHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 256) {
    throw invalidArgument(`header "${name}" must be a single value of 1 to 256 characters`, { field: name });
  }
  return raw;
}

/** An optional non-negative integer request header; a malformed one is invalid_argument naming it. */
function integerHeader(req: IncomingMessage, name: string): number | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (Number.isNaN(n)) throw invalidArgument(`header "${name}" must be a non-negative integer, got "${String(raw)}"`, { field: name });
  return n;
}

export function inferRoutes(ctx: ServerContext): Route[] {
  const infer = async (s: RequestScope): Promise<Reply> => {
    const model = s.model(s.param(1) as string);
    const version = s.param(2);
    // The header is checked before the body is read: a malformed one is refused without buffering.
    const headerLength = headerLengthOf(s.req.headers);
    const request = parseInferRequest(await s.body(), headerLength, model.name, ctx.sharedMemory);
    const planned = plannedOutputs(request, model.config, ctx.sharedMemory);
    const routingKey = request.routingKey ?? stringHeader(s.req, 'x-infergate-routing-key');
    const requestId = request.id || stringHeader(s.req, 'x-request-id');
    const result = await model.inferTensors(request.inputs, {
      outputs: planned.map((o) => o.name),
      ...(routingKey !== undefined ? { routingKey } : {}),
      ...(requestId ? { requestId } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(request.priority ? { priority: request.priority } : {}),
      ...(request.timeoutMicroseconds ? { timeoutMicroseconds: request.timeoutMicroseconds } : {}),
      ...(Object.keys(request.parameters).length > 0 ? { parameters: request.parameters } : {}),
    });
    const encoded = encodeInferResponse(model.name, result.modelVersion, request.id, planned, result.outputs, ctx.sharedMemory);
    return { status: 200, inference: encoded };
  };

  const score = async (s: RequestScope): Promise<Reply> => {
    const model = s.model(s.param(1) as string);
    const version = s.param(2);
    const record = await s.json();
    const priority = integerHeader(s.req, 'x-infergate-priority');
    const timeout = integerHeader(s.req, 'x-infergate-timeout-us');
    const routingKey = stringHeader(s.req, 'x-infergate-routing-key');
    const requestId = stringHeader(s.req, 'x-request-id');
    return json(
      200,
      await model.infer(record, {
        ...(routingKey !== undefined ? { routingKey } : {}),
        ...(requestId !== undefined ? { requestId } : {}),
        ...(version !== undefined ? { version } : {}),
        ...(priority !== undefined ? { priority } : {}),
        ...(timeout !== undefined ? { timeoutMicroseconds: timeout } : {}),
      }),
    );
  };

  return [
    { method: 'POST', pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/infer$`), handler: infer },
    { method: 'POST', pattern: new RegExp(`^/v1/models/${NAME}${VERSION}/score$`), handler: score },
  ];
}
