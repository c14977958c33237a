#!/usr/bin/env bash
# Load test of `distill serve` with wrk on loopback: bounded duration and connections; writes a JSON result
# (requests, errors, latency percentiles, RSS at start/end/peak) for `distill bench --edge-peers`.
# Usage: bench/load_test.sh DISTILL_BINARY MODEL_DIR STREAM_FILE OUT_JSON [SECONDS] [CONNECTIONS] [LINES_PER_REQUEST]
# SERVE_ARGS (environment): extra `distill serve` options, e.g. "--cache-size 0" to time the model on every request.
# BODIES, CONTENT_TYPE, LABEL (environment): post the prepared bodies in BODIES (each a UInt32 LE length and the bytes,
# bench/forward_load.sh writes them) to /v1/logs with CONTENT_TYPE instead of /v1/classify texts; LABEL names the run.
set -euo pipefail
BIN=$1 MODEL=$2 STREAM=$3 OUT=$4 SECONDS_=${5:-20} CONNECTIONS=${6:-8}
LINES_PER_REQUEST=${7:-100}
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; fi
fi
WORK=$(mktemp -d)
trap 'kill ${PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [ -n "${BODIES:-}" ]; then
  SCRIPT=bench/wrk_logs.lua BODIES_FILE=$BODIES
else
  SCRIPT=bench/wrk_post.lua BODIES_FILE=$WORK/bodies.jsonl
  python3 - "$STREAM" "$WORK/bodies.jsonl" "$LINES_PER_REQUEST" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[:20000]
n = int(sys.argv[3])
with open(sys.argv[2], "w") as f:
    for s in range(0, len(lines) - n + 1, n):
        f.write(json.dumps({"texts": lines[s:s + n]}) + "\n")
PY
fi
export BODIES_FILE CONTENT_TYPE=${CONTENT_TYPE:-application/json}
"$BIN" serve --model "$MODEL" --port 0 --threads 2 ${SERVE_ARGS:-} > "$WORK/serve.out" 2> "$WORK/serve.err" &
PID=$!
for _ in $(seq 1 200); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/serve.out")
[ -n "$PORT" ] || { echo "distill serve did not start: $(cat "$WORK/serve.err")" >&2; exit 1; }
rss() { awk '/^VmRSS/ {print $2 * 1024}' /proc/$PID/status; }
# Warm-up (fills the cache with the stream's templates), then the measured run with RSS sampled each second.
wrk -t2 -c"$CONNECTIONS" -d3s -s "$SCRIPT" "http://127.0.0.1:$PORT" > /dev/null
RSS_START=$(rss)
curl -s "http://127.0.0.1:$PORT/metrics" > "$WORK/metrics-before.txt"
REFUSED_BEFORE=$(awk '/^distill_http_requests_total/ && /status="503"/ {s += $2} END {print s + 0}' "$WORK/metrics-before.txt")
OK_BEFORE=$(awk '/^distill_http_requests_total/ && /route="\/v1\/(logs|classify)"/ && /status="200"/ {s += $2} END {print s + 0}' "$WORK/metrics-before.txt")
( while kill -0 $PID 2>/dev/null; do rss >> "$WORK/rss.txt"; sleep 1; done ) &
SAMPLER=$!
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_}s" --latency -s "$SCRIPT" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt"
RSS_END=$(rss)
PEAK=$(awk '/^VmHWM/ {print $2 * 1024}' /proc/$PID/status)
kill $SAMPLER 2>/dev/null || true
curl -s "http://127.0.0.1:$PORT/metrics" > "$WORK/metrics.txt"
ERRORS=$(awk '/^distill_http_requests_total/ && $0 !~ /status="200"/ && $0 !~ /status="503"/ {s += $2} END {print s + 0}' "$WORK/metrics.txt")
# 503s of the measured run (a full forward queue): not errors, and not lines taken in.
REFUSED=$(awk -v before="$REFUSED_BEFORE" '/^distill_http_requests_total/ && /status="503"/ {s += $2} END {print s - before}' "$WORK/metrics.txt")
# Requests answered 200 in the measured run, by the server's count (what lines/s is made of).
ACCEPTED=$(awk -v before="$OK_BEFORE" '/^distill_http_requests_total/ && /route="\/v1\/(logs|classify)"/ && /status="200"/ {s += $2} END {print s - before}' "$WORK/metrics.txt")
# With --forward: what reached the store by the end of the run, and what was still queued.
FORWARD_SENT=$(awk '/^distill_forward_sent_records_total/ {s += $2} END {print s + 0}' "$WORK/metrics.txt")
FORWARD_QUEUED=$(awk '/^distill_forward_queued_records/ {s += $2} END {print s + 0}' "$WORK/metrics.txt")
kill -TERM $PID; wait $PID || true
cat "$WORK/wrk.txt" >&2
python3 - "$WORK/wrk.txt" "$OUT" "$MODEL" "$RSS_START" "$RSS_END" "$PEAK" "$ERRORS" "$LINES_PER_REQUEST" "$WORK/rss.txt" "${SERVE_ARGS:-}" \
  "${LABEL:-classify}" "$REFUSED" "$FORWARD_SENT" "$FORWARD_QUEUED" "$ACCEPTED" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def ms(v, unit): return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
requests = int(re.search(r"(\d+) requests in ([\d.]+)(s|m)", text).group(1))
seconds = float(re.search(r"requests in ([\d.]+)s", text).group(1))
socket_errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
non2xx = max(0, non2xx - int(sys.argv[12]))  # 503s (a full forward queue) are counted apart
samples = [int(x) for x in open(sys.argv[9]).read().split()] if open(sys.argv[9]).read().strip() else []
result = {"model": sys.argv[3] + (" " + sys.argv[10] if sys.argv[10] else ""), "requests": requests, "seconds": seconds, "errors": socket_errors + non2xx + int(sys.argv[7]),
          "lines_per_request": int(sys.argv[8]), "p50_ms": lat["50"], "p99_ms": lat["99"],
          "rss_start_bytes": int(sys.argv[4]), "rss_end_bytes": int(sys.argv[5]), "peak_rss_bytes": int(sys.argv[6]), "rss_samples": samples,
          "label": sys.argv[11], "refused": int(sys.argv[12]), "forward_sent": int(sys.argv[13]), "forward_queued": int(sys.argv[14]),
          "accepted": int(sys.argv[15])}
json.dump(result, open(sys.argv[2], "w"), indent=1)
print(json.dumps({k: v for k, v in result.items() if k != "rss_samples"}))
PY
