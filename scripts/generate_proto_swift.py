#!/usr/bin/env python3
"""Generates the committed Swift protobuf messages with swift-protobuf's protoc-gen-swift:

  otlp: Sources/OTLPProto/*.pb.swift, the OTLP logs messages (opentelemetry-proto, Apache-2.0), for `serve`
  onnx: Sources/ONNXProto/onnx_ml.pb.swift, the ONNX model messages (onnx/onnx-ml.proto, Apache-2.0), for `export`

Run once when a version changes; the output is committed (building the plugin is slow). The .proto descriptors come
from the PyPI wheels, handed to the plugin as a CodeGeneratorRequest, so no protoc is needed:

  pip install --target .cache/pip/otel opentelemetry-proto==1.45.2      # otlp
  pip install --target .cache/pip/exports onnx==1.23.2                 # onnx
  swift build --product protoc-gen-swift --package-path .build/checkouts/swift-protobuf
  PYTHONPATH=.cache/pip/otel python3 scripts/generate_proto_swift.py otlp .build/checkouts/swift-protobuf/.build/debug/protoc-gen-swift
  PYTHONPATH=.cache/pip/exports python3 scripts/generate_proto_swift.py onnx .build/checkouts/swift-protobuf/.build/debug/protoc-gen-swift
"""
import re
import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

what, plugin = sys.argv[1:3]
root = Path(__file__).resolve().parent.parent / "Sources"
if what == "otlp":
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2
    import opentelemetry.proto.version as version

    modules, out = (common_pb2, resource_pb2, logs_pb2, logs_service_pb2), root / "OTLPProto"  # dependencies first
    source = f"opentelemetry-proto {getattr(version, '__version__', '?')}"
elif what == "onnx":
    import onnx
    from onnx import onnx_ml_pb2

    modules, out, source = (onnx_ml_pb2,), root / "ONNXProto", f"onnx {onnx.__version__}"
else:
    sys.exit(f"generate_proto_swift.py: unknown set '{what}' (otlp, onnx)")


def json_name(name):
    """protoc's ToJsonName: underscores dropped, the letter after one upper-cased."""
    return re.sub(r"_(.)", lambda m: m.group(1).upper(), name).replace("_", "")


def set_json_names(messages):
    # Serialized descriptors omit json_name; protoc always sets it and the plugin requires it.
    for m in messages:
        for f in m.field:
            f.json_name = json_name(f.name)
        set_json_names(m.nested_type)


request = plugin_pb2.CodeGeneratorRequest()
request.parameter = "Visibility=Public,FileNaming=DropPath"
for module in modules:
    proto = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    set_json_names(proto.message_type)
    request.proto_file.append(proto)
    request.file_to_generate.append(proto.name)
answer = plugin_pb2.CodeGeneratorResponse.FromString(
    subprocess.run([plugin], input=request.SerializeToString(), capture_output=True, check=True).stdout)
if answer.error:
    sys.exit(answer.error)
for f in answer.file:
    name = f.name.replace("-", "_")  # onnx-ml.pb.swift: a Swift file name without a dash
    (out / name).write_text(f.content)
    print(f"wrote {out / name} ({source})")
