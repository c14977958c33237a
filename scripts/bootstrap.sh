#!/usr/bin/env bash
# Installs what Distill needs to build, test and benchmark on Debian. Idempotent: checks first, installs
# only what is missing. Called by every Makefile target.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  echo "bootstrap: the Swift toolchain (6.x) is not on PATH; install it from swift.org first." >&2
  exit 1
fi

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openblas; then
  missing+=(libopenblas-dev)
fi
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# The label store (GRDB) links SQLite; the llama.cpp test server is built with cmake and probed with curl.
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# `serve` inflates gzip and deflate request bodies with compress-nio, which links zlib.
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
# The metrics tests lint /metrics with promtool and scrape it with a real Prometheus.
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# The report test renders report.html in headless Chromium.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The forwarding test ships real log lines to `serve` with syslog-ng's http() destination.
command -v syslog-ng >/dev/null 2>&1 || missing+=(syslog-ng-core)
ls /usr/lib/syslog-ng/*/libhttp.so >/dev/null 2>&1 || missing+=(syslog-ng-mod-http)

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bootstrap: Distill needs these Debian packages: ${missing[*]}" >&2
    echo "bootstrap: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# numpy: reference fixtures (scripts/) and the numpy peer in `make bench`. Not needed at run time.
if ! python3 -c "import numpy" >/dev/null 2>&1; then
  echo "bootstrap: installing numpy with pip"
  python3 -m pip install --quiet numpy
fi
