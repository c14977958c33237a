#!/usr/bin/env bash
# The replica benchmark of `make bench`: `distill label` on real Loghub lines with one llama.cpp server, then with
# the same teacher on two servers (openai:URL,URL). Each server gets one thread and one slot: the two share this
# machine's 2 cores, so one thread each is what lets two replicas run side by side (on separate machines or GPUs
# each would get its own). A third row, one server with both threads, is what a user of one endpoint gets here.
# Every run starts from an empty store; the answers of all runs must be byte-identical.
# Usage: bench/label_replicas.sh DISTILL_BINARY OUT_JSON [LINES_PER_SYSTEM]
set -euo pipefail
BIN=$1 OUT=$2 PER_SYSTEM=${3:-30}
WORK=$(mktemp -d)
ports=($(python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])'))
A=${ports[0]} B=${ports[1]} C=${ports[2]}
trap 'for p in $A $B $C; do scripts/llm-server stop $p >/dev/null 2>&1 || true; done; rm -rf "$WORK"' EXIT
for log in data/loghub/*/*_2k.log; do head -n "$PER_SYSTEM" "$log" | tr -d '\r'; done > "$WORK/lines.txt"
LABELS=normal,database,network,auth,storage,memory,application,configuration
LLAMA_THREADS=1 LLAMA_SLOTS=1 scripts/llm-server start "$A" >/dev/null
LLAMA_THREADS=1 LLAMA_SLOTS=1 scripts/llm-server start "$B" >/dev/null

label() {  # NAME TEACHER_URLS
  "$BIN" label --teacher "openai:$2" --labels "$LABELS" --input "$WORK/lines.txt" --out "$WORK/$1.jsonl" \
    --store "$WORK/$1.sqlite" > "$WORK/$1.json" 2> "$WORK/$1.log" || { cat "$WORK/$1.log" >&2; exit 1; }
}
label one "http://127.0.0.1:$A/v1"
label two "http://127.0.0.1:$A/v1,http://127.0.0.1:$B/v1"
scripts/llm-server stop "$A"; scripts/llm-server stop "$B"
LLAMA_THREADS=2 LLAMA_SLOTS=1 scripts/llm-server start "$C" >/dev/null
label both-threads "http://127.0.0.1:$C/v1"

python3 - "$WORK" "$OUT" "$(wc -l < "$WORK/lines.txt")" <<'EOF'
import json, sys, pathlib
work, out, lines = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
runs = {}
for name in ["one", "two", "both-threads"]:
    s = json.loads((work / f"{name}.json").read_text().splitlines()[0])
    spread = next((l.split("replicas: ", 1)[1] for l in (work / f"{name}.log").read_text().splitlines() if "replicas: " in l), "")
    runs[name] = {"questions": s["questions"], "requests": s["requests"], "seconds": s["seconds"],
                  "callsPerSecond": s["requests"] / s["seconds"], "spread": spread,
                  "identical": (work / f"{name}.jsonl").read_bytes() == (work / "one.jsonl").read_bytes()}
base = runs["one"]["callsPerSecond"]
rows = [("one llama-server, 1 thread", "one"), ("two llama-servers, 1 thread each (openai:URL,URL)", "two"),
        ("one llama-server, 2 threads", "both-threads")]
print(f"\nLabelling with replicas: {lines} real lines (first of each Loghub system), SmolLM2-135M Q4_1, 1 slot per server, 2 cores\n")
print("| teacher endpoints | questions | requests | s | calls/s | vs one server, 1 thread | answers identical | spread |")
print("|---|---|---|---|---|---|---|---|")
for title, name in rows:
    r = runs[name]
    print(f"| {title} | {r['questions']} | {r['requests']} | {r['seconds']:.1f} | {r['callsPerSecond']:.2f} | "
          f"{r['callsPerSecond'] / base:.2f}x | {'yes' if r['identical'] else 'NO'} | {r['spread'] or '-'} |")
pathlib.Path(out).write_text(json.dumps({"lines": lines, "runs": runs, "twoReplicasRatio": runs["two"]["callsPerSecond"] / base}, indent=1))
if not all(r["identical"] for r in runs.values()):
    sys.exit("the answers differ between runs")
EOF
