#!/usr/bin/env python3
"""Generates Sources/ONNXProto/onnx-ml.pb.swift: the ONNX model messages (onnx/onnx-ml.proto, Apache-2.0) in Swift,
for `distill export --format onnx`.

Run once when the ONNX version changes; the output is committed (building swift-protobuf's plugin is slow). The
descriptor comes from the onnx wheel (PyPI), handed to protoc-gen-swift as a CodeGeneratorRequest, so no protoc
is needed:

  pip install --target .cache/pip/exports onnx==1.23.2
  swift build -c release --product protoc-gen-swift --package-path .build/checkouts/swift-protobuf \
      --scratch-path ~/.cache/distill/protoc-gen-swift
  PYTHONPATH=.cache/pip/exports python3 scripts/generate_onnx_swift.py ~/.cache/distill/protoc-gen-swift/release/protoc-gen-swift
"""
import re
import subprocess
import sys
from pathlib import Path

import onnx
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from onnx import onnx_ml_pb2

plugin = sys.argv[1]
out = Path(__file__).resolve().parent.parent / "Sources" / "ONNXProto"
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


proto = descriptor_pb2.FileDescriptorProto.FromString(onnx_ml_pb2.DESCRIPTOR.serialized_pb)
set_json_names(proto.message_type)
request.proto_file.append(proto)
request.file_to_generate.append(proto.name)
answer = plugin_pb2.CodeGeneratorResponse.FromString(
    subprocess.run([plugin], input=request.SerializeToString(), capture_output=True, check=True).stdout)
if answer.error:
    sys.exit(answer.error)
for f in answer.file:
    name = f.name.replace("-", "_")
    (out / name).write_text(f.content)
    print(f"wrote {out / name} (onnx {onnx.__version__}, {proto.name})")
