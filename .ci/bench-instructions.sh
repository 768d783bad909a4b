#!/usr/bin/env bash
# Instructions per log line of `carteiro import --dry-run`, counted by
# valgrind's callgrind: unlike seconds, the count does not depend on what
# else the machine is doing, so two builds can be compared on a busy box.
#
#   .ci/bench-instructions.sh [LINES] [BINARY...]
#
# LINES defaults to 200000; BINARY defaults to the release build
# (`cargo build --release -p server`). Give two binaries to compare them
# on the same generated log. Not part of CI (valgrind runs ~50x slower).
set -euo pipefail
cd "$(dirname "$0")/.."

lines=${1:-200000}
shift || true
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release -p server --quiet
    bins=("${CARGO_TARGET_DIR:-target}/release/carteiro")
fi
command -v valgrind >/dev/null || { echo "missing: valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"${bins[0]}" generate-log --lines "$lines" --out "$work/mail.log"
for bin in "${bins[@]}"; do
    for mode in "" "--no-detect"; do
        valgrind --tool=callgrind --callgrind-out-file="$work/out" \
            "$bin" import --dry-run $mode --report json "$work/mail.log" \
            >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        total=$(grep -m1 -oP '(?<=^summary: )\d+' "$work/out")
        awk -v t="$total" -v n="$lines" -v b="$bin" -v m="${mode:-(detect)}" \
            'BEGIN { printf "%s import --dry-run %s: %d instructions, %.0f per line\n", b, m, t, t / n }'
    done
done
