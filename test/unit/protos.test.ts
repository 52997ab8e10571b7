// protos/ against Triton's own protocol, as Triton's Python client (tritonclient) ships it: the
// same messages, fields, enums and RPCs, and bytes that each side's generated code reads back
// exactly as the other wrote them.

import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import {
  PROTOS_DIR,
  inferenceService,
  type MessageInit,
  type ModelConfigResponse,
  type ModelInferRequest,
  type ModelInferResponse,
  type UnaryMethodName,
} from '../../src/backends/triton/proto';
import { ROOT } from '../helpers';
import { type ProtoDescription, describeProtoFiles, diffDescriptions } from '../proto-description';
import { runTritonScript } from '../triton-python';

const SERVICE = 'inference.GRPCInferenceService';

// Every unary method proto.ts types. Record<UnaryMethodName, true> makes tsc reject a list that
// misses one or names one too many; the tests below check the list against the service itself.
const UNARY_METHODS: Record<UnaryMethodName, true> = {
  ServerLive: true,
  ServerReady: true,
  ModelReady: true,
  ServerMetadata: true,
  ModelMetadata: true,
  ModelInfer: true,
  ModelConfig: true,
  ModelStatistics: true,
  RepositoryIndex: true,
  RepositoryModelLoad: true,
  RepositoryModelUnload: true,
  SystemSharedMemoryStatus: true,
  SystemSharedMemoryRegister: true,
  SystemSharedMemoryUnregister: true,
  CudaSharedMemoryStatus: true,
  CudaSharedMemoryRegister: true,
  CudaSharedMemoryUnregister: true,
  TraceSetting: true,
  LogSettings: true,
};

interface InferRoundTrip {
  request: Record<string, unknown>;
  unknown_fields: number;
  reserialized: string;
  response: string;
}

/** Serializes `request` with our client's serializer and sends it through Triton's classes. */
function inferRoundTrip(request: MessageInit<ModelInferRequest>): { sent: Buffer; python: InferRoundTrip; echoed: ModelInferResponse } {
  const method = inferenceService().service['ModelInfer'];
  assert.ok(method);
  const sent = method.requestSerialize(request);
  const python = JSON.parse(runTritonScript('wire_roundtrip.py', ['infer'], sent)) as InferRoundTrip;
  const echoed = method.responseDeserialize(Buffer.from(python.response, 'base64')) as ModelInferResponse;
  return { sent, python, echoed };
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');

let tritonDescription: ProtoDescription | undefined;
/** The reference: describe_protos.py's description of tritonclient's descriptors (run once). */
function triton(): ProtoDescription {
  tritonDescription ??= JSON.parse(runTritonScript('describe_protos.py', [])) as ProtoDescription;
  return tritonDescription;
}

describe("protos/ match Triton's protocol descriptors", () => {
  let theirs: ProtoDescription;
  let ours: ProtoDescription;
  let problems: string[];

  before(() => {
    theirs = triton();
    ours = describeProtoFiles(PROTOS_DIR, ['grpc_service.proto']);
    problems = diffDescriptions(ours, theirs);
  });

  it("reads a complete description of Triton's protocol from tritonclient", () => {
    // Guards against a vacuous comparison: the reference must hold the whole service.
    assert.deepEqual(Object.keys(theirs.files).sort(), ['grpc_service.proto', 'model_config.proto']);
    const methods = Object.keys(theirs.services[SERVICE]?.methods ?? {});
    for (const name of [...Object.keys(UNARY_METHODS), 'ModelStreamInfer']) assert.ok(methods.includes(name), `Triton's service lacks ${name}`);
    assert.ok(theirs.messages['inference.ModelConfig'] && theirs.messages['inference.ModelInferRequest.InferInputTensor']);
    assert.ok(theirs.enums['inference.DataType']);
  });

  it('declares the same files, packages, syntax and imports', () => {
    assert.deepEqual(problems.filter((p) => p.startsWith('file ')), []);
  });

  it('declares every enum with the same values, and no other', () => {
    assert.deepEqual(problems.filter((p) => p.startsWith('enum ') || p.startsWith('value of enum')), []);
  });

  it('declares every message with the same fields (number, type, label, map, oneof, packing), and no other', () => {
    assert.deepEqual(problems.filter((p) => p.startsWith('message ') || p.startsWith('field of message')), []);
  });

  it('declares the service with the same methods, message types and streaming, and no other', () => {
    assert.deepEqual(problems.filter((p) => p.startsWith('service ') || p.startsWith('method of service')), []);
  });

  it('finds nothing else to differ', () => {
    assert.deepEqual(problems, []);
  });

  it('reports a difference in any of those properties', () => {
    const altered = structuredClone(ours);
    const live = altered.messages['inference.ServerLiveResponse'];
    const shape = altered.messages['inference.ModelInferRequest.InferInputTensor']?.fields.find((f) => f.name === 'shape');
    const methods = altered.services[SERVICE]?.methods;
    assert.ok(live && shape && methods);
    live.fields[0] = { ...live.fields[0]!, number: 2 };
    shape.packed = false;
    delete methods['LogSettings'];
    altered.messages['inference.ServerLiveRequest']?.fields.push({ ...live.fields[0]!, name: 'extra', number: 9 });
    assert.deepEqual(diffDescriptions(altered, theirs), [
      `message inference.ModelInferRequest.InferInputTensor field shape: packed is false in ours, true in Triton's`,
      `field of message inference.ServerLiveRequest: extra: ours has it, Triton's does not`,
      `message inference.ServerLiveResponse field live: number is 2 in ours, 1 in Triton's`,
      `method of service ${SERVICE}: LogSettings: Triton's has it, ours does not`,
    ]);
  });
});

describe('the loaded GRPCInferenceService', () => {
  it('loads from the package root and is built once', () => {
    assert.equal(PROTOS_DIR, path.join(ROOT, 'protos'));
    assert.equal(inferenceService(), inferenceService());
  });

  it("has every RPC of Triton's service, at Triton's paths, each on the client", () => {
    const methods = triton().services[SERVICE]?.methods ?? {};
    const { Client, service } = inferenceService();
    assert.deepEqual(Object.keys(service).sort(), Object.keys(methods).sort());
    assert.deepEqual([...Object.keys(UNARY_METHODS), 'ModelStreamInfer'].sort(), Object.keys(methods).sort());
    for (const [name, m] of Object.entries(methods)) {
      const def = service[name];
      assert.ok(def, name);
      // The HTTP/2 path is what a Triton server routes on.
      assert.equal(def.path, `/${SERVICE}/${name}`);
      assert.equal(def.requestStream, m.client_streaming, name);
      assert.equal(def.responseStream, m.server_streaming, name);
      assert.equal(typeof (Client.prototype as unknown as Record<string, unknown>)[name], 'function', name);
    }
  });
});

describe("byte-level round trips through Triton's Python classes", () => {
  it('a ModelInferRequest with raw_input_contents: Triton reads every field, and writes the same bytes', () => {
    const features = Buffer.from(new Float32Array([0.5, -1.25, 3, 1e-3, 65504, -0]).buffer);
    const ids = Buffer.alloc(16);
    ids.writeBigInt64LE(-2n, 0);
    ids.writeBigInt64LE(2n ** 62n, 8);
    // No field set to its default and map keys in order: Triton's deterministic encoding of what
    // it decoded is then byte-identical to ours (an explicit default would be written by
    // protobufjs and dropped by protobuf; both read the same).
    const request: MessageInit<ModelInferRequest> = {
      model_name: 'fraud',
      model_version: '3',
      id: 'batch-17',
      parameters: {
        offset: { int64_param: -7 },
        priority: { uint64_param: 2 },
        sequence_start: { bool_param: true },
        tag: { string_param: 'shadow' },
        threshold: { double_param: 0.25 },
      },
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: { int64_param: 24 } } },
        { name: 'ids', datatype: 'INT64', shape: [2] },
      ],
      outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 1 } } }, { name: 'logits' }],
      raw_input_contents: [features, ids],
    };
    const { sent, python, echoed } = inferRoundTrip(request);

    assert.equal(python.unknown_fields, 0);
    // protobuf's JSON form: int64 as strings, bytes as base64, fields at their default left out.
    assert.deepEqual(python.request, {
      model_name: 'fraud',
      model_version: '3',
      id: 'batch-17',
      parameters: {
        offset: { int64_param: '-7' },
        priority: { uint64_param: '2' },
        sequence_start: { bool_param: true },
        tag: { string_param: 'shadow' },
        threshold: { double_param: 0.25 },
      },
      inputs: [
        { name: 'features', datatype: 'FP32', shape: ['2', '3'], parameters: { binary_data_size: { int64_param: '24' } } },
        { name: 'ids', datatype: 'INT64', shape: ['2'] },
      ],
      outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: '1' } } }, { name: 'logits' }],
      raw_input_contents: [b64(features), b64(ids)],
    });
    assert.ok(Buffer.from(python.reserialized, 'base64').equals(sent), 'Triton re-encodes the request to the same bytes');

    // And back: Triton's ModelInferResponse, as our deserializer hands it to the client.
    const expected: ModelInferResponse = {
      model_name: 'fraud',
      model_version: '3',
      id: 'batch-17',
      parameters: {
        offset: { parameter_choice: 'int64_param', int64_param: -7 },
        priority: { parameter_choice: 'uint64_param', uint64_param: 2 },
        sequence_start: { parameter_choice: 'bool_param', bool_param: true },
        tag: { parameter_choice: 'string_param', string_param: 'shadow' },
        threshold: { parameter_choice: 'double_param', double_param: 0.25 },
      },
      outputs: [
        {
          name: 'features',
          datatype: 'FP32',
          shape: [2, 3],
          parameters: { binary_data_size: { parameter_choice: 'int64_param', int64_param: 24 } },
          contents: null,
        },
        { name: 'ids', datatype: 'INT64', shape: [2], parameters: {}, contents: null },
      ],
      raw_output_contents: [features, ids],
    };
    assert.deepEqual(echoed, expected);
    assert.ok(echoed.raw_output_contents.every((b) => Buffer.isBuffer(b)));
  });

  it('typed InferTensorContents: every list, at the edges of its type', () => {
    const contents = {
      bool_contents: [true, false, true],
      int_contents: [-2147483648, 0, 2147483647],
      int64_contents: [-9007199254740991, 9007199254740991],
      uint_contents: [0, 4294967295],
      uint64_contents: [0, 9007199254740991],
      fp32_contents: [1.5, -0.25, 3.4028234663852886e38],
      fp64_contents: [Math.PI, -Number.MAX_VALUE, 5e-324],
      bytes_contents: [Buffer.from('ok'), Buffer.alloc(0), Buffer.from([0, 255, 10])],
    };
    const request: MessageInit<ModelInferRequest> = {
      model_name: 'm',
      inputs: [{ name: 'all', datatype: 'FP64', shape: [3], contents }],
    };
    const { sent, python, echoed } = inferRoundTrip(request);

    assert.equal(python.unknown_fields, 0);
    assert.deepEqual(python.request, {
      model_name: 'm',
      inputs: [
        {
          name: 'all',
          datatype: 'FP64',
          shape: ['3'],
          contents: {
            bool_contents: [true, false, true],
            int_contents: [-2147483648, 0, 2147483647],
            int64_contents: ['-9007199254740991', '9007199254740991'],
            uint_contents: [0, 4294967295],
            uint64_contents: ['0', '9007199254740991'],
            // protobuf's JSON prints a float at its shortest float32 spelling.
            fp32_contents: [1.5, -0.25, 3.4028235e38],
            fp64_contents: [Math.PI, -Number.MAX_VALUE, 5e-324],
            bytes_contents: ['b2s=', '', 'AP8K'],
          },
        },
      ],
    });
    assert.ok(Buffer.from(python.reserialized, 'base64').equals(sent), 'Triton re-encodes the request to the same bytes');
    assert.deepEqual(echoed.outputs[0]?.contents, contents);
    assert.deepEqual(echoed.raw_output_contents, []);
  });

  it("a ModelConfigResponse Triton's classes build from the example model's config.pbtxt", () => {
    const pbtxt = path.join(ROOT, 'models', 'fraud', 'config.pbtxt');
    const out = JSON.parse(runTritonScript('wire_roundtrip.py', ['config', pbtxt])) as { config: Record<string, unknown>; response: string };
    const method = inferenceService().service['ModelConfig'];
    assert.ok(method);
    const decoded = method.responseDeserialize(Buffer.from(out.response, 'base64')) as ModelConfigResponse;
    assert.ok(decoded.config);
    assertSameAsProtoJson(decoded.config, out.config, 'config');
    // The typed subset reads as declared.
    assert.equal(decoded.config.name, out.config['name']);
    assert.equal(decoded.config.max_batch_size, out.config['max_batch_size']);
    assert.ok(decoded.config.input.length > 0 && decoded.config.input.every((i) => i.data_type.startsWith('TYPE_') && i.reshape === null));
    assert.equal(decoded.config.scheduling_choice, 'dynamic_batching' in out.config ? 'dynamic_batching' : undefined);
  });
});

/**
 * `ours` (decoded by proto-loader) holds what `json` (protobuf's JSON form of the same message,
 * fields at their default included) does: the same values (int64 as a decimal string, bytes as
 * base64), and where JSON has no key only an unset sub-message (null) or a oneof's name.
 */
function assertSameAsProtoJson(ours: unknown, json: unknown, where: string): void {
  if (Array.isArray(json)) {
    assert.ok(Array.isArray(ours), `${where}: expected a list`);
    assert.equal(ours.length, json.length, `${where}: length`);
    json.forEach((item, i) => assertSameAsProtoJson(ours[i], item, `${where}[${i}]`));
  } else if (json !== null && typeof json === 'object') {
    assert.ok(ours !== null && typeof ours === 'object' && !Array.isArray(ours), `${where}: expected a message or map`);
    const mine = ours as Record<string, unknown>;
    const theirs = json as Record<string, unknown>;
    for (const key of Object.keys(theirs)) assertSameAsProtoJson(mine[key], theirs[key], `${where}.${key}`);
    for (const [key, value] of Object.entries(mine)) {
      if (key in theirs) continue;
      const isOneofName = typeof value === 'string' && value in theirs;
      assert.ok(value === null || isOneofName, `${where}.${key}: ours decoded ${JSON.stringify(value)}, Triton's JSON has no such field`);
    }
  } else if (typeof json === 'string' && typeof ours === 'number') {
    assert.equal(String(ours), json, `${where}: int64`);
  } else if (typeof json === 'string' && Buffer.isBuffer(ours)) {
    assert.equal(ours.toString('base64'), json, `${where}: bytes`);
  } else {
    assert.equal(ours, json, where);
  }
}
