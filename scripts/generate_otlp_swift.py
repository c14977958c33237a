#!/usr/bin/env python3
"""Generates Sources/OTLPProto/*.pb.swift: the OTLP logs messages (opentelemetry-proto, Apache-2.0) in Swift.

Run once when the OTLP version changes; the output is committed (building swift-protobuf's plugin is slow).
The .proto descriptors come from the opentelemetry-proto wheel (PyPI), handed to protoc-gen-swift as a
CodeGeneratorRequest, so no protoc is needed:

  pip install --target .cache/pip/otel opentelemetry-proto
  (cd ~/.cache/distill/src/swift-protobuf && swift build -c release --product protoc-gen-swift)
  PYTHONPATH=.cache/pip/otel python3 scripts/generate_otlp_swift.py PATH/TO/protoc-gen-swift
"""
import re
import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
import opentelemetry.proto.version as otel_version

plugin = sys.argv[1]
out = Path(__file__).resolve().parent.parent / "Sources" / "OTLPProto"
request = plugin_pb2.CodeGeneratorRequest()
request.parameter = "Visibility=Public,FileNaming=DropPath"
def json_name(name):
    """protoc's ToJsonName: underscores dropped, the letter after one upper-cased."""
    return re.sub(r"_(.)", lambda m: m.group(1).upper(), name).replace("_", "")


def set_json_names(messages):
    # Serialized descriptors omit json_name; protoc always sets it and the plugin requires it.
    for m in messages:
        for f in m.field:
            f.json_name = json_name(f.name)
        set_json_names(m.nested_type)


for module in (common_pb2, resource_pb2, logs_pb2, logs_service_pb2):  # dependencies first
    proto = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    set_json_names(proto.message_type)
    request.proto_file.append(proto)
    request.file_to_generate.append(proto.name)
answer = plugin_pb2.CodeGeneratorResponse.FromString(
    subprocess.run([plugin], input=request.SerializeToString(), capture_output=True, check=True).stdout)
if answer.error:
    sys.exit(answer.error)
for f in answer.file:
    (out / f.name).write_text(f.content)
    print(f"wrote {out / f.name} (opentelemetry-proto {getattr(otel_version, '__version__', '?')})")
