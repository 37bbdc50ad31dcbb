#!/usr/bin/env bash
# Install the Debian packages infomorph needs to build and run.
# Idempotent: quiet and quick when everything is already there.
# Usage: deploy/install-deps.sh            (as root, or with sudo available)
set -euo pipefail

packages=(build-essential cmake pkg-config libzmq3-dev libsqlite3-dev sqlite3
          libopenblas-dev libjansson-dev zlib1g-dev)
# Optional extras passed as arguments (e.g. nodejs npm for fetching mnist10k;
# tests/run.sh asks for clang and libclang-rt-14-dev, the fuzzers' compiler
# and runtime, and iproute2 and tcpdump for the network-namespace test:
# test-only, never needed to run infomorph).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
