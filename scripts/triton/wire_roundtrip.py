#!/usr/bin/env python3
"""The Python half of test/unit/protos.test.ts's byte-level round trips, using the classes protoc
generated for Triton's own protos (tritonclient.grpc.service_pb2, model_config_pb2).

  wire_roundtrip.py infer
      Reads one serialized ModelInferRequest on stdin (written by infergate's serializer) and prints
      JSON: "request" (what Triton's class decoded, as MessageToDict with the .proto's field names),
      "unknown_fields" (fields Triton's descriptor does not know, at any depth: should be 0),
      "reserialized" (the request serialized again by Triton's class, deterministically, base64) and
      "response" (base64 of a ModelInferResponse that echoes the request: same id, model, parameters;
      one output per input with its name, datatype, shape, parameters and contents, and the raw
      input bytes as raw_output_contents), for infergate's deserializer to read back.

  wire_roundtrip.py config <config.pbtxt>
      Parses a model configuration with protobuf's text format into Triton's ModelConfig (so Triton's
      schema accepts the file) and prints JSON: "config" (MessageToDict, fields at their default
      included: only unset sub-messages and oneof members are left out) and "response" (base64 of
      a ModelConfigResponse carrying it).
"""

import base64
import json
import sys

from google.protobuf import json_format, text_format
from google.protobuf.unknown_fields import UnknownFieldSet
from tritonclient.grpc import model_config_pb2, service_pb2


def to_dict(message, with_defaults=False):
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=with_defaults
    )


def count_unknown(message):
    """Unknown fields of `message` and of every message inside it."""
    count = len(UnknownFieldSet(message))
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values() if field.message_type.fields_by_name["value"].message_type else []
        elif field.is_repeated:
            values = value
        else:
            values = [value]
        count += sum(count_unknown(v) for v in values)
    return count


def echo(request):
    response = service_pb2.ModelInferResponse(
        model_name=request.model_name, model_version=request.model_version, id=request.id
    )
    for key, value in request.parameters.items():
        response.parameters[key].CopyFrom(value)
    for tensor in request.inputs:
        out = response.outputs.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
        for key, value in tensor.parameters.items():
            out.parameters[key].CopyFrom(value)
        if tensor.HasField("contents"):
            out.contents.CopyFrom(tensor.contents)
    response.raw_output_contents.extend(request.raw_input_contents)
    return response


def b64(message):
    return base64.b64encode(message.SerializeToString(deterministic=True)).decode("ascii")


def main(argv):
    if argv[:1] == ["infer"] and len(argv) == 1:
        request = service_pb2.ModelInferRequest()
        request.ParseFromString(sys.stdin.buffer.read())
        out = {
            "request": to_dict(request),
            "unknown_fields": count_unknown(request),
            "reserialized": b64(request),
            "response": b64(echo(request)),
        }
    elif argv[:1] == ["config"] and len(argv) == 2:
        with open(argv[1], encoding="utf-8") as f:
            config = text_format.Parse(f.read(), model_config_pb2.ModelConfig())
        out = {"config": to_dict(config, with_defaults=True), "response": b64(service_pb2.ModelConfigResponse(config=config))}
    else:
        sys.exit("usage: wire_roundtrip.py infer < request.bin | wire_roundtrip.py config <config.pbtxt>")
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
