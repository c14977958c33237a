#!/usr/bin/env bash
# The forwarding benchmark of `make bench`: /v1/logs under wrk with shipper NDJSON, then with --forward to a loopback
# Loki and OTLP sink (throughput and the p99 added by forwarding), OTLP protobuf vs OTLP JSON intake, and RSS
# with a forward queue held full by a store that is down. Each run writes a load_test.sh JSON for `distill bench`.
# Usage: bench/forward_load.sh DISTILL_BINARY MODEL_DIR STREAM_FILE OUT_DIR [SECONDS] [CONNECTIONS] [LINES_PER_REQUEST]
set -euo pipefail
BIN=$1 MODEL=$2 STREAM=$3 OUT=$4 SECONDS_=${5:-10} CONNECTIONS=${6:-8} N=${7:-100}
CACHE=${CACHE:-.cache}
WORK=$(mktemp -d)
trap 'kill ${SINK:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
PYTHONPATH=$CACHE/pip/otel python3 bench/make_log_bodies.py "$STREAM" "$WORK" "$N" >&2
PYTHONPATH=$CACHE/pip/otel python3 scripts/store_receiver.py --port 0 --out /dev/null --discard > "$WORK/sink.out" &
SINK=$!
for _ in $(seq 1 100); do grep -q "receiving on" "$WORK/sink.out" 2>/dev/null && break; sleep 0.05; done
SINK_URL=$(sed -n 's/receiving on \(.*\)/\1/p' "$WORK/sink.out")
DEAD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run() {  # LABEL BODIES CONTENT_TYPE OUT [SERVE_ARGS]
  LABEL=$1 BODIES=$WORK/$2.bin CONTENT_TYPE=$3 SERVE_ARGS="--cache-size 100000 ${5:-}" \
    bash bench/load_test.sh "$BIN" "$MODEL" "$STREAM" "$OUT/$4" "$SECONDS_" "$CONNECTIONS" "$N"
}
run "logs NDJSON" ndjson application/x-ndjson forward-none.json
run "logs NDJSON, --forward loki" ndjson application/x-ndjson forward-loki.json "--forward loki=$SINK_URL"
run "logs NDJSON, --forward otlp" ndjson application/x-ndjson forward-otlp.json "--forward otlp=$SINK_URL"
run "OTLP protobuf in" otlp-protobuf application/x-protobuf intake-otlp-protobuf.json
run "OTLP JSON in" otlp-json application/json intake-otlp-json.json
run "logs NDJSON, --forward to a store that is down (8 MiB queue)" ndjson application/x-ndjson forward-full.json \
  "--forward http=http://127.0.0.1:$DEAD_PORT/ingest --forward-queue-mb 8 --forward-timeout 1"
