// Loads protos/grpc_service.proto (which imports model_config.proto) once, and hands out the
// GRPCInferenceService client constructor and service definition generated from it. The loader
// options fix the shape of every message the Triton backend and the gRPC server touch; messages.ts
// types those shapes, so the two must change together.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type * as m from './messages';

export type * from './messages';

// dist/src/backends/triton/proto.js → the package root is four levels up.
export const PROTOS_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'protos');

const SERVICE_PROTO = 'grpc_service.proto';

/** The proto-loader options messages.ts is written against; see there for what each one does. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTOS_DIR],
};

/** Request and response of every unary method of GRPCInferenceService. */
export interface UnaryMethods {
  ServerLive: { request: m.ServerLiveRequest; response: m.ServerLiveResponse };
  ServerReady: { request: m.ServerReadyRequest; response: m.ServerReadyResponse };
  ModelReady: { request: m.ModelReadyRequest; response: m.ModelReadyResponse };
  ServerMetadata: { request: m.ServerMetadataRequest; response: m.ServerMetadataResponse };
  ModelMetadata: { request: m.ModelMetadataRequest; response: m.ModelMetadataResponse };
  ModelInfer: { request: m.ModelInferRequest; response: m.ModelInferResponse };
  ModelConfig: { request: m.ModelConfigRequest; response: m.ModelConfigResponse };
  ModelStatistics: { request: m.ModelStatisticsRequest; response: m.ModelStatisticsResponse };
  RepositoryIndex: { request: m.RepositoryIndexRequest; response: m.RepositoryIndexResponse };
  RepositoryModelLoad: { request: m.RepositoryModelLoadRequest; response: m.RepositoryModelLoadResponse };
  RepositoryModelUnload: { request: m.RepositoryModelUnloadRequest; response: m.RepositoryModelUnloadResponse };
  SystemSharedMemoryStatus: { request: m.SystemSharedMemoryStatusRequest; response: m.SystemSharedMemoryStatusResponse };
  SystemSharedMemoryRegister: { request: m.SystemSharedMemoryRegisterRequest; response: m.SystemSharedMemoryRegisterResponse };
  SystemSharedMemoryUnregister: { request: m.SystemSharedMemoryUnregisterRequest; response: m.SystemSharedMemoryUnregisterResponse };
  CudaSharedMemoryStatus: { request: m.CudaSharedMemoryStatusRequest; response: m.CudaSharedMemoryStatusResponse };
  CudaSharedMemoryRegister: { request: m.CudaSharedMemoryRegisterRequest; response: m.CudaSharedMemoryRegisterResponse };
  CudaSharedMemoryUnregister: { request: m.CudaSharedMemoryUnregisterRequest; response: m.CudaSharedMemoryUnregisterResponse };
  TraceSetting: { request: m.TraceSettingRequest; response: m.TraceSettingResponse };
  LogSettings: { request: m.LogSettingsRequest; response: m.LogSettingsResponse };
}

export type UnaryMethodName = keyof UnaryMethods;

/**
 * What a sender may pass for a message: any field may be left out (the serializer writes nothing
 * for it, which the receiver reads as the default), at every depth.
 */
export type MessageInit<T> = T extends Buffer
  ? Buffer | Uint8Array
  : T extends readonly (infer E)[]
    ? MessageInit<E>[]
    : T extends object
      ? { [K in keyof T]?: MessageInit<T[K]> | undefined }
      : T;

/** A unary method as the generated client has it (the form that takes every argument). */
export type UnaryClientMethod<M extends UnaryMethodName> = (
  request: MessageInit<UnaryMethods[M]['request']>,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: UnaryMethods[M]['response']) => void,
) => grpc.ClientUnaryCall;

/** An instance of the generated client: a grpc.Client with one method per RPC. */
export type GRPCInferenceServiceClient = grpc.Client & { [M in UnaryMethodName]: UnaryClientMethod<M> } & {
  ModelStreamInfer(
    metadata?: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientDuplexStream<MessageInit<m.ModelInferRequest>, m.ModelStreamInferResponse>;
};

export interface InferenceService {
  /** `new Client('host:8001', grpc.credentials.createInsecure(), channelOptions)`. */
  Client: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => GRPCInferenceServiceClient;
  /** For a server: `server.addService(service, handlers)`. */
  service: grpc.ServiceDefinition;
}

let cached: InferenceService | undefined;

/** The generated GRPCInferenceService client and its service definition; the protos load once. */
export function inferenceService(): InferenceService {
  if (cached === undefined) {
    const file = path.join(PROTOS_DIR, SERVICE_PROTO);
    if (!fs.existsSync(file)) {
      throw new Error(`infergate's protocol definitions are missing: expected ${file} (the package's protos/ folder).`);
    }
    const definition = protoLoader.loadSync(SERVICE_PROTO, LOADER_OPTIONS);
    const inference = grpc.loadPackageDefinition(definition)['inference'] as grpc.GrpcObject | undefined;
    const ctor = inference?.['GRPCInferenceService'];
    if (typeof ctor !== 'function' || !('service' in ctor)) {
      throw new Error(`${file} does not define the service inference.GRPCInferenceService.`);
    }
    cached = {
      // grpc-js builds the methods at run time from the definition; UnaryMethods names the same
      // methods and test/unit/protos.test.ts checks that every one of them exists.
      Client: ctor as unknown as InferenceService['Client'],
      service: ctor.service,
    };
  }
  return cached;
}
