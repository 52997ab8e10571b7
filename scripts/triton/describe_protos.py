#!/usr/bin/env python3
"""Prints, as JSON, the shape of the protocol descriptors that Triton's own Python client ships.

tritonclient bundles protoc's output for Triton's grpc_service.proto and model_config.proto
(tritonclient.grpc.service_pb2, tritonclient.grpc.model_config_pb2). Those descriptors are the
reference that test/unit/protos.test.ts compares infergate's protos/ against, field by field. The
JSON layout here is the one that test builds from our .proto files; change both together.

Everything is read from the FileDescriptorProto each module embeds (descriptor.CopyToProto), so the
output is what protoc recorded, not what a runtime library infers from it:

  {
    "files":    { "<file>": { "package", "syntax", "dependencies": [...] } },
    "messages": { "<full name>": { "file", "map_entry", "oneofs": [...], "fields": [
                    { "name", "number", "label", "type", "type_name", "oneof",
                      "proto3_optional", "packed" } ] } },
    "enums":    { "<full name>": { "file", "values": { "<NAME>": number } } },
    "services": { "<full name>": { "file", "methods": { "<name>": {
                    "input_type", "output_type", "client_streaming", "server_streaming" } } } }
  }

Names are fully qualified without protoc's leading dot. `label` is optional / required / repeated,
`type` is the .proto scalar name or "message" / "enum", `type_name` is "" for scalars, `oneof` is the
containing oneof's name or null, `packed` says whether a repeated field is written packed on the wire
(proto3's default for numeric types unless [packed = false]).

Usage: .venv/triton/bin/python scripts/triton/describe_protos.py
"""

import json
import sys

from google.protobuf import descriptor_pb2
from tritonclient.grpc import model_config_pb2, service_pb2

FDP = descriptor_pb2.FieldDescriptorProto

# FieldDescriptorProto.Type numbers → the words a .proto file uses.
TYPE_NAMES = {
    FDP.TYPE_DOUBLE: "double",
    FDP.TYPE_FLOAT: "float",
    FDP.TYPE_INT64: "int64",
    FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_INT32: "int32",
    FDP.TYPE_FIXED64: "fixed64",
    FDP.TYPE_FIXED32: "fixed32",
    FDP.TYPE_BOOL: "bool",
    FDP.TYPE_STRING: "string",
    FDP.TYPE_GROUP: "group",
    FDP.TYPE_MESSAGE: "message",
    FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_UINT32: "uint32",
    FDP.TYPE_ENUM: "enum",
    FDP.TYPE_SFIXED32: "sfixed32",
    FDP.TYPE_SFIXED64: "sfixed64",
    FDP.TYPE_SINT32: "sint32",
    FDP.TYPE_SINT64: "sint64",
}

LABEL_NAMES = {
    FDP.LABEL_OPTIONAL: "optional",
    FDP.LABEL_REQUIRED: "required",
    FDP.LABEL_REPEATED: "repeated",
}

# Only varint and fixed-width scalars can be packed; strings, bytes and messages never are.
PACKABLE = {name for name in TYPE_NAMES.values() if name not in ("string", "bytes", "message", "group")}


def strip_dot(name):
    return name[1:] if name.startswith(".") else name


def describe_field(field, oneof_names, syntax):
    label = LABEL_NAMES[field.label]
    type_name = TYPE_NAMES[field.type]
    packed = False
    if label == "repeated" and type_name in PACKABLE:
        # An explicit [packed = ...] wins; otherwise proto3 packs and proto2 does not.
        packed = field.options.packed if field.options.HasField("packed") else syntax == "proto3"
    return {
        "name": field.name,
        "number": field.number,
        "label": label,
        "type": type_name,
        "type_name": strip_dot(field.type_name),
        "oneof": oneof_names[field.oneof_index] if field.HasField("oneof_index") else None,
        "proto3_optional": field.proto3_optional,
        "packed": packed,
    }


def describe_enum(enum, scope, file_name, out):
    full = f"{scope}.{enum.name}"
    out["enums"][full] = {"file": file_name, "values": {v.name: v.number for v in enum.value}}


def describe_message(message, scope, file_name, syntax, out):
    full = f"{scope}.{message.name}"
    oneof_names = [o.name for o in message.oneof_decl]
    out["messages"][full] = {
        "file": file_name,
        "map_entry": message.options.map_entry,
        "oneofs": oneof_names,
        "fields": [describe_field(f, oneof_names, syntax) for f in message.field],
    }
    for nested in message.nested_type:
        describe_message(nested, full, file_name, syntax, out)
    for enum in message.enum_type:
        describe_enum(enum, full, file_name, out)


def describe_file(module, out):
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    # protoc leaves `syntax` empty for proto2 files.
    syntax = proto.syntax or "proto2"
    out["files"][proto.name] = {
        "package": proto.package,
        "syntax": syntax,
        "dependencies": list(proto.dependency),
    }
    scope = proto.package
    for message in proto.message_type:
        describe_message(message, scope, proto.name, syntax, out)
    for enum in proto.enum_type:
        describe_enum(enum, scope, proto.name, out)
    for service in proto.service:
        out["services"][f"{scope}.{service.name}"] = {
            "file": proto.name,
            "methods": {
                m.name: {
                    "input_type": strip_dot(m.input_type),
                    "output_type": strip_dot(m.output_type),
                    "client_streaming": m.client_streaming,
                    "server_streaming": m.server_streaming,
                }
                for m in service.method
            },
        }


def main():
    out = {"files": {}, "messages": {}, "enums": {}, "services": {}}
    for module in (model_config_pb2, service_pb2):
        describe_file(module, out)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
