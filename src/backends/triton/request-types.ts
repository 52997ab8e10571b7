// What the Triton backend sends: messages where any field may be left at its default.

import type { InferParameter, MessageInit, ModelInferRequest } from './proto';

/** One value of a `parameters` map: set exactly one of bool/int64/string/double/uint64_param. */
export type ParameterInit = MessageInit<InferParameter>;
export type InferRequestInit = MessageInit<ModelInferRequest>;
