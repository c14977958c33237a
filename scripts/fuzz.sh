#!/usr/bin/env bash
# make fuzz: libFuzzer (with AddressSanitizer) over Distill's four input surfaces, SECONDS_PER_TARGET each
# (default 150: 10 minutes in all; the comment in the README names the last run). Seeds are made from the repository's real logs and a small student; the
# corpus grows in .cache/fuzz/<target> and is reused by the next run. Crashes are written to runs/fuzz/<target>/
# and fail the run. The summary table goes to runs/fuzz/summary.md.
set -euo pipefail
SWIFT=${SWIFT:-swift}
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-150}
CACHE=${CACHE:-.cache}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$SWIFT" build -c release --product distill-fuzz --build-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DDISTILL_FUZZ \
  -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld  # (gold fails on the sanitized link)
fuzzer=.build-fuzz/release/distill-fuzz
"$SWIFT" build -c release --product distill >/dev/null

# Seeds (idempotent): real log lines, JSON-lines records, request bodies and a real student's weights.
seeds=$CACHE/fuzz
mkdir -p "$seeds"/{safetensors,jsonl,normalizer,requests} runs/fuzz
if [ ! -f "$seeds/normalizer/seed-0" ]; then
  i=0
  for f in data/loghub/*/*_2k.log; do
    head -n 3 "$f" | while IFS= read -r line; do printf '%s' "$line" > "$seeds/normalizer/seed-$i-$RANDOM"; done
    i=$((i + 1))
  done
  printf '%s' '2026-12-01T10:00:00Z ERROR blk_-1608999687919862906 0x7fff5fbff8a8 10.0.0.1:5432 /var/log 1234567890123456789' > "$seeds/normalizer/seed-0"
  printf '{"text": "disk full", "label": "a"}\n{"text": "user login"}\n' > "$seeds/jsonl/seed-0"
  head -n 20 data/loghub/OpenSSH/*_2k.log | python3 -c 'import json,sys; [print(json.dumps({"text": l.rstrip("\n"), "label": "a"})) for l in sys.stdin]' > "$seeds/jsonl/seed-1"
  printf '%s' '{"texts": ["disk full on /var", "user alice logged in"], "top_k": 2}' > "$seeds/requests/seed-0"
  printf '%s' '[{"message": "disk full"}, {"log": "oom killer"}, "bare line"]' > "$seeds/requests/seed-1"
  printf '{"message": "a"}\n{"msg": "b"}\n' > "$seeds/requests/seed-2"
  work=$(mktemp -d)
  printf '{"text": "disk full", "label": "a"}\n{"text": "login ok", "label": "b"}\n' > "$work/train.jsonl"
  cat > "$work/recipe.yaml" <<YAML
labels: [a, b]
data: {labelled: train.jsonl}
student: {kind: ngram-bag, buckets: 64, embedding_size: 4}
training: {epochs: 1}
output: run
YAML
  .build/release/distill train --recipe "$work/recipe.yaml" >/dev/null 2>&1
  cp "$work/run/final/model.safetensors" "$seeds/safetensors/seed-bag"
  .build/release/distill quantize --model "$work/run/final" --out "$work/int8" >/dev/null 2>&1 && cp "$work/int8/model.safetensors" "$seeds/safetensors/seed-int8" || true
  rm -rf "$work"
fi

summary=runs/fuzz/summary.md
{
  echo "# make fuzz — $(date -u +%Y-%m-%dT%H:%MZ), ${SECONDS_PER_TARGET} s per target, libFuzzer + AddressSanitizer"
  echo
  echo "| target | inputs run | inputs/s | corpus | coverage (edges) | peak RSS MB | crashes |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} > "$summary"
failed=0
for target in safetensors jsonl normalizer requests; do
  mkdir -p "runs/fuzz/$target"
  log=runs/fuzz/$target.log
  set +e
  FUZZ_TARGET=$target "$fuzzer" "$seeds/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="runs/fuzz/$target/" > "$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  corpus=$(ls "$seeds/$target" | wc -l)
  crashes=$(ls "runs/fuzz/$target" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
  [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="exit $status"
  echo "| $target | ${runs:-?} | ${rate:-?} | $corpus | ${cov:-?} | ${rss:-?} | $crashes |" >> "$summary"
  if [ "$status" -ne 0 ]; then failed=1; echo "fuzz: $target found a problem; see $log and runs/fuzz/$target/" >&2; fi
done
cat "$summary"
exit $failed
