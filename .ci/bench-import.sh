#!/usr/bin/env bash
# The import numbers the MailFlow ingest issue asks for, on a generated log:
# lines/s of `carteiro import --dry-run` (with and without abuse detection)
# and of a full import into SQLite,
# against pflogsumm on the same file in the same run, and the importer's
# peak memory. Not part of CI: it needs a release build and a few minutes.
#
#   .ci/bench-import.sh [LINES]            (default 2000000; try 20000000 too)
#   .ci/bench-import.sh --corpus [LINES]   (the real logs of ../shared/corpus)
#
# With --corpus the log is not generated: the raw Postfix logs of the shared
# corpus (section B of its README: other servers, other daemons, RFC 3339 and
# classic timestamps, verbose and non-syslog lines) are concatenated in time
# order and repeated until at least LINES lines (default 1000000). The
# copies repeat the same log times and queue ids: the correlator sees each
# copy's messages again, as after a queue-id reuse. CORPUS=DIR names another
# corpus; FULL=0 skips the import into SQLite.
#
# Needs pflogsumm (apt-get install pflogsumm) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=
if [ "${1:-}" = --corpus ]; then
    corpus=${CORPUS:-../shared/corpus}
    shift
fi
lines=${1:-$([ -n "$corpus" ] && echo 1000000 || echo 2000000)}
runs=${RUNS:-3}
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/carteiro
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in pflogsumm /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
cargo build --release -p server --quiet

# One copy of the corpus's raw logs, oldest first (modoboa's date field is
# a template placeholder: a date is put in).
corpus_once() {
    local c=$1
    cat "$c/pixelpark-postfix-logsums__mail.log" \
        "$c/lightmeter-controlcenter__complete/mail.log.1" \
        "$c/lightmeter-controlcenter__complete/mail.log" \
        "$c/infohtreasure-Postfix-Maillog-Dump__maillog" \
        "$c/infohtreasure-Postfix-Maillog-Dump__mailog2" \
        "$c/lograptor__postfix.log" \
        "$c/digineo-postfix_exporter__testdata/mail.log"
    sed 's/^%(day)s/Nov 20/' "$c/modoboa__maillog-tests-mail.log"
}

if [ -n "$corpus" ]; then
    corpus_once "$corpus" >"$work/once.log"
    once=$(wc -l <"$work/once.log")
    for _ in $(seq $(((lines + once - 1) / once))); do cat "$work/once.log"; done >"$work/mail.log"
    rm "$work/once.log"
    lines=$(wc -l <"$work/mail.log")
else
    "$bin" generate-log --lines "$lines" --out "$work/mail.log"
fi
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

for _ in $(seq "$runs"); do
    measure pflogsumm "$work/mail.log"
done >"$work/pf"
pf=$(median <"$work/pf")
echo "pflogsumm:          $pf s (median of $runs)"

for _ in $(seq "$runs"); do
    measure "$bin" import --dry-run --report json "$work/mail.log"
done >"$work/dry"
dry=$(median <"$work/dry")
dry_mb=$(awk '{print $2}' "$work/dry" | sort -n | tail -1)
for _ in $(seq "$runs"); do
    measure "$bin" import --dry-run --no-detect --report json "$work/mail.log"
done >"$work/nodetect"
nodetect=$(median <"$work/nodetect")

full=0 full_mb=0
if [ "${FULL:-1}" != 0 ]; then
    read -r full full_mb < <(measure "$bin" import --db "sqlite://$work/db?mode=rwc" --report json "$work/mail.log")
fi

awk -v n="$lines" -v pf="$pf" -v dry="$dry" -v nd="$nodetect" -v full="$full" -v dmb="$dry_mb" -v fmb="$full_mb" 'BEGIN {
    printf "import --dry-run:   %s s (median of '"$runs"'), %.0f lines/s, %.1fx pflogsumm, peak %s MB\n", dry, n / dry, pf / dry, dmb
    printf "  ... --no-detect:  %s s (median of '"$runs"'), %.0f lines/s, %.1fx pflogsumm\n", nd, n / nd, pf / nd
    if (full > 0) printf "import into SQLite: %s s, %.0f lines/s, %.1fx pflogsumm, peak %s MB\n", full, n / full, pf / full, fmb
}'
