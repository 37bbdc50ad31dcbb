#!/usr/bin/env bash
# Run every libFuzzer target of tests/fuzz for a while on its seed corpus,
# with AddressSanitizer, UndefinedBehaviorSanitizer and leak detection.
# Builds its own small build (build-fuzz/, with clang, -DIM_FUZZ=ON; only the
# fuzz targets are compiled). Fails on any crash, leak, timeout or sanitizer
# report; the input that caused it is left in build-fuzz/fuzz/findings/.
# Usage: tests/fuzz/run.sh [--seconds N] [TARGET...]
#   --seconds N   how long each target runs (default 15)
#   TARGET        protocol, train_spec, campaign_spec, pid_table, idx (default: all)
# New inputs found are kept in build-fuzz/fuzz/corpus/<target>/ (not in the
# seed corpus: copy the interesting ones to tests/fuzz/corpus/<target>/).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=15
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option '$1'" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
case "$seconds" in '' | *[!0-9]*) echo "fuzz: --seconds must be a whole number" >&2; exit 2 ;; esac
[ ${#targets[@]} -gt 0 ] || targets=(protocol train_spec campaign_spec pid_table idx)

command -v clang >/dev/null || { echo "fuzz: clang is missing (deploy/install-deps.sh clang libclang-rt-14-dev)" >&2; exit 1; }

echo "== fuzz build (build-fuzz/)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DIM_FUZZ=ON \
    -DIM_SANITIZE=address,undefined >/dev/null
make -C build-fuzz -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory \
    $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

out=build-fuzz/fuzz
mkdir -p "$out/findings"
failed=()
for t in "${targets[@]}"; do
    seed=tests/fuzz/corpus/$t
    [ -d "$seed" ] || { echo "fuzz: no seed corpus $seed" >&2; exit 1; }
    mkdir -p "$out/corpus/$t"
    echo "== fuzz_$t for ${seconds} s"
    # The first corpus directory receives new inputs; the seeds are read only.
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$out/fuzz_$t" -max_total_time="$seconds" -detect_leaks=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$out/findings/$t-" "$out/corpus/$t" "$seed" \
        >"$out/$t.log" 2>&1; then
        grep -E '^stat::number_of_executed_runs|^#[0-9]+.*DONE' "$out/$t.log" | tail -2 || true
    else
        echo "fuzz: fuzz_$t FAILED (log: $out/$t.log)" >&2
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$out/$t.log" | head -20 >&2 || true
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all targets ran ${seconds} s without a crash, leak or sanitizer report"
