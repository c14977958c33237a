#!/usr/bin/env bash
# Runs the test suites whose results depend on the BLAS kernels (DistillCoreTests, DistillNNTests: GEMM
# determinism across thread counts, gradient checks, parity with the float64 and PyTorch references) once more
# under every OpenBLAS kernel family this CPU can run, and once with OPENBLAS_CORETYPE unset if the machine's
# environment sets it. `make test` runs it after the full suite, so a machine with another CPU or another
# OPENBLAS_CORETYPE does not find out first in CI. Usage: scripts/test_blas_kernels.sh [SWIFT]
set -euo pipefail
swift=${1:-swift}
filter='DistillCoreTests|DistillNNTests'
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)" "
vendor=$(grep -m1 '^vendor_id' /proc/cpuinfo 2>/dev/null || true)
has() { for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }

# Families OpenBLAS can be told to use here (the same rules as BLASKernel.recommendedCoreType).
cores=(Prescott)
has avx && cores+=(Sandybridge)
has avx2 fma && cores+=(Haswell)
[[ $vendor == *GenuineIntel* ]] && has avx512f avx512bw avx512dq avx512vl && cores+=(SkylakeX)

run() {
  local label=$1; shift
  echo "== BLAS kernel: $label"
  local start=$SECONDS
  if ! "$@" "$swift" test --skip-build --filter "$filter" > "${TMPDIR:-/tmp}/distill-blas-$label.log" 2>&1; then
    tail -n 60 "${TMPDIR:-/tmp}/distill-blas-$label.log"
    echo "BLAS kernel $label: tests failed (log: ${TMPDIR:-/tmp}/distill-blas-$label.log)" >&2
    return 1
  fi
  grep -E "Test run with [0-9]+ tests" "${TMPDIR:-/tmp}/distill-blas-$label.log" | tail -n 1
  echo "   ($((SECONDS - start)) s)"
}

status=0
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  run "unset" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE || status=1
fi
for core in "${cores[@]}"; do
  [ "${OPENBLAS_CORETYPE:-}" = "$core" ] && continue    # the full suite ran with it already
  l2=()
  # The setting this workplace uses on AVX-512 machines (OPENBLAS_L2_SIZE changes the blocking).
  [ "$core" = Haswell ] && l2=(OPENBLAS_L2_SIZE=512)
  run "$core" env OPENBLAS_CORETYPE="$core" "${l2[@]}" || status=1
done
exit $status
