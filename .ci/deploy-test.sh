#!/usr/bin/env bash
# The deployment test (issue 21): installs the Debian package on this
# machine and runs Carteiro as an ISP would, on a throw-away PostgreSQL:
#   - dpkg -i: files, the carteiro user, /var/lib/carteiro, the conffiles;
#     `systemd-analyze verify` on both units and their hardening;
#   - the portal from /etc/carteiro/carteiro.toml as the user carteiro;
#   - a relay (`serve --roles ingest,policyd`, /etc/carteiro/relay.toml) on
#     the same database, tailing a log file: lines appended there show in
#     the portal's counts (/metrics, an API token), and a block the portal
#     approves is answered REJECT by the relay's policy daemon;
#   - /healthz and /readyz; SIGTERM stops both within the unit's bound;
#   - dpkg --purge keeps the database, CARTEIRO_PURGE_DATA=yes removes it.
# Everything it installs or starts is removed on exit, even on failure.
#   .ci/deploy-test.sh              packages the debug build (.ci/deb.sh --debug)
#   .ci/deploy-test.sh --deb FILE   tests that package instead (e.g. `make deb`'s)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> deploy-test: %s\033[0m\n' "$*"; }
fail() { printf '\033[1;31mdeploy-test: FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  printf '\033[1;33m%s\n%s\n%s\033[0m\n' \
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' \
    '!!! deploy-test SKIPPED: it needs root (dpkg -i, a system user).   !!!' \
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' >&2
  exit 0
fi

deb=""
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=$(readlink -f "$2"); shift 2 ;;
    *) echo "deploy-test.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# Build first, then start PostgreSQL around the test itself.
[ -n "$deb" ] || deb=$(.ci/deb.sh --debug | tail -n 1)
if [ -z "${CARTEIRO_TEST_DATABASE_URL:-}" ]; then
  exec .ci/with-postgres.sh "$0" --deb "$deb"
fi
[ -f "$deb" ] || fail "no package $deb"
pg="$CARTEIRO_TEST_DATABASE_URL"
started=$(date +%s)

# Whether dpkg knows a carteiro package (installed, half-installed, or its conffiles).
package_present() {
  local state
  state=$(dpkg-query -W -f='${db:Status-Status}' carteiro 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != not-installed ]
}
if package_present; then
  fail "a carteiro package is installed on this machine: the test would replace and purge it (dpkg --purge carteiro first, or use a throw-away machine)"
fi
had_user=0 had_state=0
getent passwd carteiro >/dev/null && had_user=1
[ -e /var/lib/carteiro ] && had_state=1
[ "$had_state" -eq 0 ] || fail "/var/lib/carteiro exists already: the test would delete it"

work=$(mktemp -d /tmp/deb-deploy.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.out; do
      [ -f "$log" ] && { echo "---- $log (last 30 lines) ----"; tail -n 30 "$log"; }
    done
  fi
  if package_present; then
    CARTEIRO_PURGE_DATA=yes dpkg_ --purge carteiro >/dev/null 2>&1 || true
  fi
  [ "$had_state" -eq 1 ] || rm -rf /var/lib/carteiro
  if [ "$had_user" -eq 0 ] && getent passwd carteiro >/dev/null; then
    userdel carteiro 2>/dev/null || true
    getent group carteiro >/dev/null && groupdel carteiro 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# dpkg, waiting up to two minutes while another apt or dpkg holds its lock.
dpkg_() {
  local until=$(($(date +%s) + 120))
  until dpkg "$@" >"$work/dpkg.out" 2>&1; do
    grep -q 'lock' "$work/dpkg.out" && [ "$(date +%s)" -lt "$until" ] || { cat "$work/dpkg.out"; return 1; }
    sleep 2
  done
  cat "$work/dpkg.out"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# A command as the service user, from its state directory, as the units run
# it (arguments before the command are environment variables). setpriv
# execs it, so $! is carteiro itself; runuser -u would stay its parent and
# SIGKILL it two seconds after passing SIGTERM on.
as_carteiro=(setpriv --reuid=carteiro --regid=carteiro --init-groups env -C /var/lib/carteiro HOME=/var/lib/carteiro)
# Waits up to $1 seconds for the command after it to succeed.
within() {
  local secs=$1; shift
  local until=$(($(date +%s) + secs))
  until "$@"; do
    [ "$(date +%s)" -lt "$until" ] || return 1
    sleep 0.5
  done
}

# ---- install ---------------------------------------------------------------
say "dpkg -i $(basename "$deb")"
dpkg_ -i "$deb" >"$work/dpkg-install.out" 2>&1 || fail "dpkg -i: $(cat "$work/dpkg-install.out")"

for f in /usr/bin/carteiro /usr/share/carteiro/site/pkg/carteiro.wasm /usr/share/carteiro/site/pkg/carteiro.js \
  /usr/share/carteiro/site/pkg/carteiro.css /usr/share/doc/carteiro/postfix/main.cf.policy \
  /usr/share/doc/carteiro/dovecot/dovecot-sql.pgsql.conf.ext /usr/share/doc/carteiro/carteiro.example.toml \
  /usr/lib/systemd/system/carteiro.service /usr/lib/systemd/system/carteiro-relay.service; do
  [ -f "$f" ] || fail "the package did not install $f"
done
uid=$(id -u carteiro) || fail "postinst did not create the user carteiro"
[ "$uid" -lt 1000 ] || fail "carteiro is not a system user (uid $uid)"
[ "$(stat -c '%U:%G %a' /var/lib/carteiro)" = "carteiro:carteiro 750" ] ||
  fail "/var/lib/carteiro is $(stat -c '%U:%G %a' /var/lib/carteiro), not carteiro:carteiro 750"
for f in /etc/carteiro/carteiro.toml /etc/carteiro/relay.toml; do
  [ "$(stat -c '%U:%G %a' "$f")" = "root:carteiro 640" ] || fail "$f is $(stat -c '%U:%G %a' "$f"), not root:carteiro 640"
  dpkg-query -W -f='${Conffiles}\n' carteiro | grep -q " $f " || fail "$f is not a conffile"
done
grep -qx 'url = "sqlite:///var/lib/carteiro/carteiro.db?mode=rwc"' /etc/carteiro/carteiro.toml ||
  fail "carteiro.toml does not point at /var/lib/carteiro/carteiro.db"
grep -qx 'site_root = "/usr/share/carteiro/site"' /etc/carteiro/carteiro.toml ||
  fail "carteiro.toml does not point at /usr/share/carteiro/site"

# ---- units -----------------------------------------------------------------
say "systemd-analyze verify carteiro.service carteiro-relay.service"
units=(/usr/lib/systemd/system/carteiro.service /usr/lib/systemd/system/carteiro-relay.service)
systemd-analyze verify "${units[@]}" >"$work/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$work/verify.out")"
[ ! -s "$work/verify.out" ] || fail "systemd-analyze verify is not clean: $(cat "$work/verify.out")"
# SIGTERM's bound (server.shutdown_secs) must be within systemd's.
shutdown_secs=$(sed -n 's/^shutdown_secs *= *\([0-9]*\).*/\1/p' /etc/carteiro/carteiro.toml)
for unit in "${units[@]}"; do
  for line in User=carteiro ProtectSystem=strict ReadWritePaths=/var/lib/carteiro NoNewPrivileges=yes \
    PrivateTmp=yes ProtectHome=yes Restart=on-failure SupplementaryGroups=adm; do
    grep -qx "$line" "$unit" || fail "$(basename "$unit") lacks $line"
  done
  stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
  [ "${stop:-0}" -gt "${shutdown_secs:-20}" ] ||
    fail "$(basename "$unit"): TimeoutStopSec=${stop:-unset} is not above server.shutdown_secs (${shutdown_secs:-20})"
done
grep -qx 'ExecStart=/usr/bin/carteiro --config /etc/carteiro/relay.toml serve --roles ingest,policyd' "${units[1]}" ||
  fail "carteiro-relay.service does not run serve --roles ingest,policyd from relay.toml"
# The portal's unit is enabled on installation, the relay's waits for relay.toml.
wants=/etc/systemd/system/multi-user.target.wants
[ -L "$wants/carteiro.service" ] || fail "carteiro.service is not enabled"
[ ! -e "$wants/carteiro-relay.service" ] || fail "carteiro-relay.service is enabled before relay.toml is set"

# ---- the conffiles load, the service user can write its database --------------
say "carteiro config and migrate as the user carteiro"
"${as_carteiro[@]}" /usr/bin/carteiro --config /etc/carteiro/carteiro.toml config >"$work/config.out" 2>&1 ||
  fail "carteiro.toml does not load: $(cat "$work/config.out")"
grep -q 'sqlite:///var/lib/carteiro/carteiro.db' "$work/config.out" || fail "carteiro config: $(cat "$work/config.out")"
"${as_carteiro[@]}" /usr/bin/carteiro --config /etc/carteiro/carteiro.toml migrate >"$work/migrate.out" 2>&1 ||
  fail "migrate on the packaged SQLite path: $(cat "$work/migrate.out")"
[ -f /var/lib/carteiro/carteiro.db ] || fail "no /var/lib/carteiro/carteiro.db after migrate"

# ---- the portal --------------------------------------------------------------
port=$(free_port)
pport=$(free_port)
base="http://127.0.0.1:$port"
password="deploy-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$password" | "${as_carteiro[@]}" CARTEIRO_DATABASE_URL="$pg" /usr/bin/carteiro --config /etc/carteiro/carteiro.toml \
  user add --username deploy-admin --role admin >"$work/user.out" 2>&1 || fail "user add: $(cat "$work/user.out")"

say "portal on $base (PostgreSQL), relay's policy daemon on 127.0.0.1:$pport"
# The portal's own policy daemon is off: the relay's is the one under test.
"${as_carteiro[@]}" CARTEIRO_DATABASE_URL="$pg" CARTEIRO_DEFENCE__POLICY_LISTEN= \
  /usr/bin/carteiro --config /etc/carteiro/carteiro.toml serve --listen "127.0.0.1:$port" >"$work/portal.out" 2>&1 &
portal=$!
pids+=("$portal")

ok() { curl -fsS -o /dev/null "$1" 2>/dev/null; }
# The portal has migrated the database before the relay starts.
within 60 ok "$base/healthz" || fail "the portal does not answer /healthz"

# ---- the relay ---------------------------------------------------------------
log="$work/mail.log"
: >"$log"
chmod 644 "$log"
"${as_carteiro[@]}" CARTEIRO_DATABASE_URL="$pg" CARTEIRO_DEFENCE__POLICY_LISTEN="127.0.0.1:$pport" \
  CARTEIRO_MAILFLOW__POLL_MILLIS=200 CARTEIRO_DEFENCE__REFRESH_SECS=1 \
  CARTEIRO_MAILFLOW__SOURCES="[{ name = \"relay-test\", path = \"$log\" }]" \
  /usr/bin/carteiro --config /etc/carteiro/relay.toml serve --roles ingest,policyd >"$work/relay.out" 2>&1 &
relay=$!
pids+=("$relay")

# Policy requests: the relay's daemon answers once it listens.
policy() {
  python3 - "$pport" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
           f"client_address={sys.argv[2]}\nclient_name=unknown\nsender=a@spam.example\n"
           "recipient=u1@example.com.br\n\n").encode())
answer = b""
while not answer.endswith(b"\n\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    answer += chunk
print(answer.decode().strip())
PY
}
within 60 policy 192.0.2.1 >/dev/null 2>&1 || fail "the relay's policy daemon does not answer"
kill -0 "$relay" 2>/dev/null || fail "the relay died"
# No web port: the policy daemon's is its only one.
listening=$(ss -Hltnp | grep "pid=$relay," | awk '{print $4}' | sort -u | tr '\n' ' ')
[ "$listening" = "127.0.0.1:$pport " ] || fail "the relay listens on $listening, not only 127.0.0.1:$pport"
within 60 ok "$base/readyz" || fail "/readyz: $(curl -sS "$base/readyz")"

# ---- log lines on the relay, counts in the portal ----------------------------
say "appending log lines to the relay's source"
/usr/bin/carteiro generate-log --lines 3000 --seed 21 --start "$(date -u +%F)" --out "$work/generated.log" >/dev/null
# A dictionary attack from 203.0.113.66 now: 40 unknown recipients.
for i in $(seq 10 49); do
  echo "$(date -u '+%b %e %H:%M:%S') mx-relay postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[203.0.113.66]: 550 5.1.1 <u$i@example.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<u$i@example.com.br> proto=ESMTP helo=<x>"
done >"$work/attack.log"
cat "$work/generated.log" "$work/attack.log" >"$work/expected.log"
# What those lines count, imported on their own (nothing stored).
"${as_carteiro[@]}" /usr/bin/carteiro --config /etc/carteiro/relay.toml import --dry-run --report json "$work/expected.log" | tail -n 1 >"$work/expected.json"
[ "$(policy 203.0.113.66)" = "action=DUNNO" ] || fail "203.0.113.66 refused before any block"
cat "$work/expected.log" >>"$log"

# An API token (as an admin issues one), then the counters by Prometheus.
curl -fsS -c "$work/cookies" -H 'Accept: application/json' -o /dev/null \
  --data-urlencode username=deploy-admin --data-urlencode "password=$password" "$base/api/session/login" ||
  fail "sign-in refused"
token=$(curl -fsS -b "$work/cookies" -H 'Accept: application/json' \
  -d name=deploy-test -d role=security -d days=1 "$base/api/provision/token_issue" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || fail "token_issue"
counts_match() {
  curl -fsS -H "Authorization: Bearer $token" "$base/metrics" >"$work/metrics.txt" || return 1
  python3 - "$work/expected.json" "$work/metrics.txt" <<'PY'
import json, re, sys
want = json.load(open(sys.argv[1]))["totals"]
got = {}
for line in open(sys.argv[2]):
    m = re.match(r'carteiro_mail_total\{series="([^"]+)",host="[^"]*"\} (\d+)$', line)
    if m:
        got[m[1]] = got.get(m[1], 0) + int(m[2])
# Every series the import counts, exactly, and nothing else.
if {k: got.get(k, 0) for k in want} != want:
    print(f"want {want}, got {got}", file=sys.stderr)
    sys.exit(1)
PY
}
within 90 counts_match 2>/dev/null || fail "the portal's counts do not match the lines the relay read: $(counts_match 2>&1)"
say "the portal counts what the relay read: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"])' "$work/expected.json")"

# ---- a block approved in the portal, enforced by the relay -------------------
proposal() {
  curl -fsS -b "$work/cookies" -H 'Accept: application/json' -d '' "$base/api/defence/overview" |
    python3 -c '
import json, sys
ids = [p["id"] for p in json.load(sys.stdin)["proposals"] if p["target"].split("/")[0] == "203.0.113.66"]
print(ids[0]) if ids else sys.exit(1)'
}
within 60 proposal >/dev/null || fail "no block proposal for 203.0.113.66 after the relay read the attack"
id=$(proposal)
outcome=$(curl -fsS -b "$work/cookies" -H 'Accept: application/json' \
  -d "ids=$id" -d 'reason=deploy test' "$base/api/defence/approve") || fail "approve"
[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])' <<<"$outcome")" = 1 ] || fail "approve: $outcome"
rejected() { policy 203.0.113.66 | grep -q '^action=REJECT '; }
within 30 rejected || fail "the relay does not refuse 203.0.113.66 after the approval: $(policy 203.0.113.66)"
say "relay's answer: $(policy 203.0.113.66)"
[ "$(policy 198.51.100.7)" = "action=DUNNO" ] || fail "an unblocked client is not DUNNO"

# ---- health, then SIGTERM ------------------------------------------------------
[ "$(curl -sS "$base/healthz")" = ok ] || fail "/healthz does not say ok"
code=$(curl -sS -o "$work/readyz.json" -w '%{http_code}' "$base/readyz")
[ "$code" = 200 ] || fail "/readyz answers $code: $(cat "$work/readyz.json")"
stop_bound=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "${units[0]}")
for name in portal relay; do
  pid=${!name}
  t0=$(date +%s)
  kill -TERM "$pid"
  status=0
  # runuser passes SIGTERM on to carteiro and exits with its status.
  timeout "$stop_bound" tail --pid="$pid" -f /dev/null || fail "the $name did not stop within ${stop_bound}s of SIGTERM"
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || fail "the $name exited $status on SIGTERM"
  say "$name stopped in $(($(date +%s) - t0))s after SIGTERM"
done
pids=()

# ---- purge -------------------------------------------------------------------
say "dpkg --purge carteiro (keeps the database)"
dpkg_ --purge carteiro >"$work/purge.out" 2>&1 || fail "dpkg --purge: $(cat "$work/purge.out")"
for f in /usr/bin/carteiro /usr/share/carteiro /etc/carteiro /usr/share/doc/carteiro \
  /usr/lib/systemd/system/carteiro.service /usr/lib/systemd/system/carteiro-relay.service "$wants/carteiro.service"; do
  [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is left after the purge"
done
[ -f /var/lib/carteiro/carteiro.db ] || fail "the purge removed /var/lib/carteiro/carteiro.db"
grep -q 'kept /var/lib/carteiro' "$work/purge.out" || fail "the purge did not say that it kept the database"
n=$(psql "$pg" -Atc "SELECT count(*) FROM staff_user WHERE username = 'deploy-admin'") || fail "the PostgreSQL database is gone"
[ "$n" = 1 ] || fail "the PostgreSQL database lost its staff"

say "dpkg -i, then CARTEIRO_PURGE_DATA=yes dpkg --purge (removes the database)"
dpkg_ -i "$deb" >"$work/dpkg-install.out" 2>&1 || fail "dpkg -i again: $(cat "$work/dpkg-install.out")"
[ -f /var/lib/carteiro/carteiro.db ] || fail "reinstalling lost the kept database"
CARTEIRO_PURGE_DATA=yes dpkg_ --purge carteiro >"$work/purge.out" 2>&1 || fail "dpkg --purge: $(cat "$work/purge.out")"
[ ! -e /var/lib/carteiro ] || fail "CARTEIRO_PURGE_DATA=yes left /var/lib/carteiro"

say "passed in $(($(date +%s) - started))s"
