#!/usr/bin/env python3
"""Writes /v1/logs request bodies for the forwarding benchmark from a stream file: N records per body, as
shipper NDJSON (Vector's shape), OTLP protobuf and OTLP JSON (opentelemetry-proto), each body framed as a UInt32
little-endian length and the bytes (bench/wrk_logs.lua reads them).

  PYTHONPATH=.cache/pip/otel make_log_bodies.py STREAM OUT_DIR [N]
"""
import json
import struct
import sys
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

stream, out, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 100
lines = [l for l in open(stream, encoding="utf-8").read().split("\n") if l][:20000]
out.mkdir(parents=True, exist_ok=True)
files = {name: open(out / f"{name}.bin", "wb") for name in ("ndjson", "otlp-protobuf", "otlp-json")}
t0 = 1796119200_000_000_000
for s in range(0, len(lines) - n + 1, n):
    chunk = lines[s:s + n]
    ndjson = "".join(json.dumps({"message": l, "host": "edge-1", "source_type": "kubernetes_logs",
                                 "timestamp": "2026-12-01T10:00:00.%06dZ" % (k % 1000000)}) + "\n" for k, l in enumerate(chunk, s)).encode()
    request = logs_service_pb2.ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    kv = rl.resource.attributes.add(); kv.key = "service.name"; kv.value.string_value = "checkout"
    sl = rl.scope_logs.add(); sl.scope.name = "bench"
    for k, l in enumerate(chunk, s):
        r = sl.log_records.add()
        r.time_unix_nano = t0 + k
        r.severity_number = 9
        r.body.string_value = l
        a = r.attributes.add(); a.key = "line.number"; a.value.int_value = k
    for name, body in (("ndjson", ndjson), ("otlp-protobuf", request.SerializeToString()), ("otlp-json", json_format.MessageToJson(request, indent=None).encode())):
        files[name].write(struct.pack("<I", len(body)) + body)
for f in files.values():
    f.close()
print(f"{len(lines) // n} bodies of {n} records in {out}")
