#!/usr/bin/env python3
"""A loopback stand-in for the log stores `distill serve --forward` writes to, decoding each wire format with
the real parsers (opentelemetry-proto for OTLP protobuf and JSON, json for Loki, _bulk and NDJSON).

Every record received is appended to --out as one JSON line {"kind", "path", "record"}; OTLP records are
flattened to {"resource", "scope", "body", "attributes", "time", "observed", "severity_text", "trace_id"}.
Elasticsearch `_bulk` answers 201 per new `_id` and 409 for one seen before, as Elasticsearch does.

Faults for the tests: --fail 429,503 answers the first requests with these statuses (Retry-After from
--retry-after), --always 400 answers every request with one, --reject-containing TEXT answers 400 to any request
whose body contains TEXT (a store refusing one bad record fails the whole request), --delay slows every answer,
--hold-first-until FILE holds only the first request until FILE exists (at most 10 minutes). Each request also
leaves a row {"kind": "arrival"} once its body is read, before it is stored or answered, and a row {"kind": "answered", "status"} once it is answered (or its client is gone).

  store_receiver.py --port 0 --out received.jsonl [--fail 429,500] [--retry-after 1] [--always 400] [--delay 0.5]
Prints "receiving on http://127.0.0.1:PORT" once listening. Needs PYTHONPATH with opentelemetry-proto.
"""
import argparse
import base64
import gzip
import json
import os
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--out", required=True)
parser.add_argument("--fail", default="")
parser.add_argument("--retry-after", default="1")
parser.add_argument("--always", type=int, default=0)
parser.add_argument("--delay", type=float, default=0)
parser.add_argument("--hold-first-until", default="",
                    help="the first request waits until this file exists (a test releases it), at most 10 minutes")
parser.add_argument("--reject-containing", default="")
parser.add_argument("--discard", action="store_true", help="answer success without decoding or storing (a fast sink for benchmarks)")
args = parser.parse_args()

lock = threading.Lock()
failures = [int(s) for s in args.fail.split(",") if s]
seen_ids = set()
requests_seen = 0
out = open(args.out, "a", buffering=1)


def any_value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, kind)


def otlp_records(request):
    for rl in request.resource_logs:
        resource = {kv.key: any_value(kv.value) for kv in rl.resource.attributes}
        for sl in rl.scope_logs:
            for r in sl.log_records:
                yield {"resource": resource, "scope": sl.scope.name, "scope_version": sl.scope.version,
                       "body": any_value(r.body), "attributes": {kv.key: any_value(kv.value) for kv in r.attributes},
                       "time": r.time_unix_nano, "observed": r.observed_time_unix_nano, "severity_text": r.severity_text,
                       "severity_number": r.severity_number, "trace_id": r.trace_id.hex()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", content_type="application/json", headers=()):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed while its request was held (a test's point)
        if not args.discard:
            with lock:
                out.write(json.dumps({"kind": "answered", "path": self.path, "status": status}) + "\n")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "deflate":
            body = zlib.decompress(body)
        global requests_seen
        with lock:
            first = requests_seen == 0
            requests_seen += 1
            # An "arrival" row: the body is here, not yet stored nor answered (a test can kill the sender now).
            if not args.discard:
                out.write(json.dumps({"kind": "arrival", "path": self.path, "bytes": len(body)}) + "\n")
        if args.delay:
            time.sleep(args.delay)
        if first and args.hold_first_until:
            deadline = time.monotonic() + 600
            while not os.path.exists(args.hold_first_until) and time.monotonic() < deadline:
                time.sleep(0.05)
        with lock:
            status = failures.pop(0) if failures else args.always
        if args.reject_containing and args.reject_containing.encode() in body:
            status = 400
        if status:
            extra = [("Retry-After", args.retry_after)] if status in (429, 503) else []
            return self.answer(status, json.dumps({"error": f"injected {status}"}).encode(), headers=extra)
        content_type = self.headers.get("Content-Type", "")
        path = urllib.parse.urlsplit(self.path).path
        if args.discard:
            if path.endswith("/v1/logs") and content_type.startswith("application/x-protobuf"):
                return self.answer(200, b"", "application/x-protobuf")
            return self.answer(204 if path == "/loki/api/v1/push" else 200, b"" if path == "/loki/api/v1/push" else b'{"errors":false}')
        rows, reply = [], (200, b"{}", "application/json")
        if path.endswith("/_bulk"):
            lines = body.decode().splitlines()
            items, errors = [], False
            with lock:
                for action, doc in zip(lines[0::2], lines[1::2]):
                    doc_id = json.loads(action)["create"]["_id"]
                    if doc_id in seen_ids:
                        items.append({"create": {"_id": doc_id, "status": 409, "error": {"type": "version_conflict_engine_exception"}}})
                        errors = True
                    else:
                        seen_ids.add(doc_id)
                        items.append({"create": {"_id": doc_id, "status": 201}})
                        rows.append(("elasticsearch", dict(json.loads(doc), _id=doc_id)))
            reply = (200, json.dumps({"took": 1, "errors": errors, "items": items}).encode(), "application/json")
        elif path == "/loki/api/v1/push":
            for stream in json.loads(body)["streams"]:
                for value in stream["values"]:
                    rows.append(("loki", {"stream": stream["stream"], "ts": value[0], "line": value[1], "metadata": value[2] if len(value) > 2 else {}}))
            reply = (204, b"", "application/json")
        elif path.endswith("/v1/logs"):
            request = logs_service_pb2.ExportLogsServiceRequest()
            if content_type.startswith("application/x-protobuf"):
                request.ParseFromString(body)
                kind = "otlp"
                reply = (200, logs_service_pb2.ExportLogsServiceResponse().SerializeToString(), "application/x-protobuf")
            else:
                # OTLP/JSON writes trace and span ids in hex where the generic protobuf JSON mapping has base64.
                document = json.loads(body)
                for rl in document.get("resourceLogs", []):
                    for sl in rl.get("scopeLogs", []):
                        for r in sl.get("logRecords", []):
                            for key in ("traceId", "spanId"):
                                if key in r:
                                    r[key] = base64.b64encode(bytes.fromhex(r[key])).decode()
                json_format.ParseDict(document, request)
                kind = "otlp-json"
            rows += [(kind, r) for r in otlp_records(request)]
        else:
            rows += [("http", json.loads(line)) for line in body.decode().splitlines() if line.strip()]
        with lock:
            for kind, record in rows:
                out.write(json.dumps({"kind": kind, "path": self.path, "record": record}) + "\n")
        self.answer(*reply[:1], body=reply[1], content_type=reply[2])


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"receiving on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
