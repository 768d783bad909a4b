#!/usr/bin/env bash
# The release site's WASM as `make run` ships it (cargo-leptos in release,
# then wasm-opt), raw and gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/deps.sh --release
cargo leptos build --release --split
wasm=target/site/pkg/carteiro.wasm
printf 'release WASM %s: %d bytes, %d gzipped\n' "$wasm" "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
