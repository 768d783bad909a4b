#!/usr/bin/env bash
# Runs a command with CARTEIRO_TEST_DATABASE_URL set to a throw-away
# PostgreSQL server started in a temporary directory, and stops and removes
# that server afterwards, whatever the command's outcome.
#   .ci/with-postgres.sh cargo test -p server --test api
set -euo pipefail

bindir=""
if command -v initdb >/dev/null 2>&1; then
  bindir=$(dirname "$(readlink -f "$(command -v initdb)")")
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$bindir/initdb" ] || { echo "with-postgres: no PostgreSQL server binaries (initdb) found" >&2; exit 1; }

dir=$(mktemp -d /tmp/carteiro-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

# PostgreSQL refuses to run as root: use nobody then.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown nobody "$dir"

stop() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -h 127.0.0.1 -p $port -F -c max_connections=200" start >/dev/null
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

export CARTEIRO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
