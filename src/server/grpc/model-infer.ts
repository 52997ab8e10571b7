// One ModelInfer, from request message to response message; the unary RPC and each request of a
// ModelStreamInfer stream both run through here.

import type * as m from '../../backends/triton/messages';
import type { MessageInit } from '../../backends/triton/proto';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import type { Principal } from '../ingress/ingress';
import { decodeInferRequest } from './infer-request';
import { inferResponse } from './infer-response';
import type { ModelAccess } from './model-access';

export async function modelInfer(
  access: ModelAccess,
  registry: SharedMemoryRegistry,
  principal: Principal,
  req: m.ModelInferRequest,
  signal: AbortSignal,
): Promise<MessageInit<m.ModelInferResponse>> {
  const model = access.model(principal, req.model_name);
  const decoded = decodeInferRequest(req, model.name, registry);
  const result = await model.inferTensors(decoded.inputs, { ...decoded.options, signal });
  return inferResponse(result, { model: model.name, id: req.id, outputs: decoded.outputs }, registry);
}
