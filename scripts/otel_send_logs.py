#!/usr/bin/env python3
"""Sends log lines to an OTLP/HTTP endpoint with the OpenTelemetry Python SDK (the real client the forwarding
tests use): one log record per input line, resource service.name=SERVICE, attribute line.number.

  otel_send_logs.py URL SERVICE [json] < lines.txt     (URL e.g. http://127.0.0.1:8080/v1/logs)
Prints "exported N" on success; exits 1 when the exporter reports a failure.
"""
import logging
import sys

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

url, service = sys.argv[1], sys.argv[2]
exporter = OTLPLogExporter(endpoint=url, timeout=30)
results = []
export = exporter.export


def counted(batch):
    result = export(batch)
    results.append(result)
    return result


exporter.export = counted
provider = LoggerProvider(resource=Resource.create({"service.name": service, "host.name": "edge-1"}))
provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
logger = provider.get_logger("otel-test", "1.0")
lines = [line.rstrip("\n") for line in sys.stdin if line.strip()]
for n, line in enumerate(lines):
    logger.emit(body=line, severity_number=SeverityNumber.INFO, severity_text="INFO", attributes={"line.number": n})
provider.shutdown()
failed = [r for r in results if r != LogRecordExportResult.SUCCESS]
print(f"exported {len(results) - len(failed)}")
sys.exit(1 if failed or len(results) != len(lines) else 0)
