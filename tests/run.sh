#!/usr/bin/env bash
# The whole test suite, as the README gives it: installs missing build
# dependencies (and the test-only clang and its fuzzer runtime), builds twice
# (release; debug with AddressSanitizer and UndefinedBehaviorSanitizer;
# warnings are errors) and runs ctest in both, then runs every fuzz target
# for 15 s (tests/fuzz/run.sh, its own build in build-fuzz/).
# Fetches mnist10k into data/ first (the tests load it from there).
# Usage: tests/run.sh        (from anywhere; builds in build/, build-asan/, build-fuzz/)
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh clang libclang-rt-14-dev iproute2 tcpdump
deploy/fetch-datasets.sh --only mnist10k data

jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C build -j"$jobs" --no-print-directory

echo "== sanitizer build (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIM_SANITIZE=address,undefined >/dev/null
make -C build-asan -j"$jobs" --no-print-directory

echo "== tests (release)"
(cd build && ctest --output-on-failure -j"$jobs")
echo "== tests (address + undefined behaviour sanitizers; the attacks labelled release-only run once, above)"
(cd build-asan && ctest --output-on-failure -j"$jobs" -LE release-only)
echo "== fuzzing (15 s per target)"
tests/fuzz/run.sh --seconds 15
