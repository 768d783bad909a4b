#!/usr/bin/env bash
# The import numbers the MailFlow ingest issue asks for, on a generated log:
# lines/s of `carteiro import --dry-run` (with and without abuse detection)
# and of a full import into SQLite,
# against pflogsumm on the same file in the same run, and the importer's
# peak memory. Not part of CI: it needs a release build and a few minutes.
#
#   .ci/bench-import.sh [LINES]      (default 2000000; try 20000000 too)
#
# Needs pflogsumm (apt-get install pflogsumm) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

lines=${1:-2000000}
runs=${RUNS:-3}
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/carteiro
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in pflogsumm /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
cargo build --release -p server --quiet
"$bin" generate-log --lines "$lines" --out "$work/mail.log"
echo "log: $lines lines, $(du -m "$work/mail.log" | cut -f1) MB"

# seconds and peak RSS (MB) of one command, as "S MB"
measure() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/stderr" ||
        { cat "$work/stderr" >&2; exit 1; }
    awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$work/time"
}

# the median of the first fields of several runs
median() {
    sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

read -r pf _ < <(measure pflogsumm "$work/mail.log")
echo "pflogsumm:          $pf s"

for _ in $(seq "$runs"); do
    measure "$bin" import --dry-run --report json "$work/mail.log"
done >"$work/dry"
dry=$(median <"$work/dry")
dry_mb=$(awk '{print $2}' "$work/dry" | sort -n | tail -1)
for _ in $(seq "$runs"); do
    measure "$bin" import --dry-run --no-detect --report json "$work/mail.log"
done >"$work/nodetect"
nodetect=$(median <"$work/nodetect")

rm -f "$work"/db*
read -r full full_mb < <(measure "$bin" import --db "sqlite://$work/db?mode=rwc" --report json "$work/mail.log")

awk -v n="$lines" -v pf="$pf" -v dry="$dry" -v nd="$nodetect" -v full="$full" -v dmb="$dry_mb" -v fmb="$full_mb" 'BEGIN {
    printf "import --dry-run:   %s s (median of '"$runs"'), %.0f lines/s, %.1fx pflogsumm, peak %s MB\n", dry, n / dry, pf / dry, dmb
    printf "  ... --no-detect:  %s s (median of '"$runs"'), %.0f lines/s, %.1fx pflogsumm\n", nd, n / nd, pf / nd
    printf "import into SQLite: %s s, %.0f lines/s, %.1fx pflogsumm, peak %s MB\n", full, n / full, pf / full, fmb
}'
