#!/usr/bin/env bash
# The 30-day soak benchmark of issue 19: `carteiro month-bench` on a release
# build, into a throw-away SQLite file or a throw-away PostgreSQL server
# (.ci/with-postgres.sh). Prints a line a day (size, import lines/s, purge,
# p50/p95 of the traces, the MailFlow overview and the month chart) and the
# goals at the end. Not part of CI's test run; small enough to add to it.
# PostgreSQL: .ci/with-postgres.sh starts it with fsync off (-F).
#
#   .ci/soak-month.sh [DAYS] [LINES_PER_DAY] [sqlite|postgres]
#     (defaults: 30 100000 sqlite)
#   MONTH_BENCH_ARGS='--horizon-days 7 --queries 100' .ci/soak-month.sh 30 300000 postgres
set -euo pipefail
cd "$(dirname "$0")/.."

days=${1:-30}
lines=${2:-100000}
backend=${3:-sqlite}
target=${CARGO_TARGET_DIR:-target}
bin=$(realpath -m "$target/release/carteiro")
# shellcheck disable=SC2206 # options are words
extra=(${MONTH_BENCH_ARGS:-})

case $backend in
sqlite | postgres) ;;
*)
    echo "usage: $0 [DAYS] [LINES_PER_DAY] [sqlite|postgres]" >&2
    exit 2
    ;;
esac

cargo build --release -p server --quiet
bench=(month-bench --days "$days" --lines-per-day "$lines" "${extra[@]}")
if [ "$backend" = sqlite ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$bin" --db "sqlite://$work/month.db?mode=rwc" "${bench[@]}"
else
    # The throw-away server's own database: nothing else is in it.
    .ci/with-postgres.sh bash -c '"$0" --db "$CARTEIRO_TEST_DATABASE_URL" "$@"' "$bin" "${bench[@]}"
fi
