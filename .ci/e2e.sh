#!/usr/bin/env bash
# Browser tests: builds the site (debug; E2E_RELEASE=1 for release), starts `carteiro serve` on a free loopback
# port with a fresh SQLite database, one account per role, an imported log,
# a live log source and the demo domain (serve --demo
# seeds it; the demo log is skipped as something was imported), runs the
# Playwright suite in Debian's Chromium, and stops the server. Arguments go to
# Playwright: `.ci/e2e.sh defence.spec.ts` runs one file.
set -euo pipefail
cd "$(dirname "$0")/.."

# E2E_RELEASE=1: the release site as `make run` ships it (optimised WASM)
# instead of the quicker debug build.
if [ "${E2E_RELEASE:-0}" = 1 ]; then
  .ci/deps.sh --release
  cargo leptos build --release --split
  bin="${CARGO_TARGET_DIR:-target}/release/carteiro"
else
  cargo leptos build --split
  bin="${CARGO_TARGET_DIR:-target}/debug/carteiro"
fi
site="$(pwd)/target/site"
[ -f "$site/pkg/carteiro.wasm" ] || site="${CARGO_TARGET_DIR:-target}/site"

work=$(mktemp -d /tmp/carteiro-e2e.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export CARTEIRO_DATABASE_URL="sqlite://$work/e2e.db?mode=rwc"
export CARTEIRO_SERVER__SITE_ROOT="$site"
export CARTEIRO_SERVER__CREATE_FIRST_ADMIN=false
password="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

for role in admin support security manager; do
  echo "$password" | "$bin" user add --username "e2e-$role" --role "$role" >/dev/null
done

# MailFlow: an imported archive, and a live source the tests append to.
"$bin" generate-log --lines 3000 --seed 7 --out "$work/archive.log"
"$bin" import "$work/archive.log" >/dev/null
# A dictionary attack from 203.0.113.66 (40 unknown users in four minutes):
# the import proposes blocking it, for the security team's page.
for i in $(seq 10 49); do
  echo "Nov 29 09:30:$i mx1 postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[203.0.113.66]: 550 5.1.1 <u$i@example.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<u$i@example.com.br> proto=ESMTP helo=<x>"
done >"$work/attack.log"
"$bin" import --year 2026 "$work/attack.log" >/dev/null
# Three rejects of a kind no rule classifies (unclassified.spec.ts).
for i in 11 12 13; do
  echo "Nov 29 09:40:$i mx1 postfix/smtpd[101]: NOQUEUE: reject: RCPT from unknown[198.51.100.$i]: 550 5.7.1 <x$i@example.com.br>: Recipient address rejected: Mailbox frozen by policy for $i days; from=<a@b.example> to=<x$i@example.com.br> proto=ESMTP helo=<x>"
done >"$work/odd.log"
"$bin" import --year 2026 "$work/odd.log" >/dev/null
# A compromised demo account: ana17 logs in from 12 IPs within the hour (the
# many-IPs policy fires at 8): an account proposal with a mailbox to link to.
# Each message is whole (sender, delivery), as the report's senders count them.
for i in $(seq 10 21); do
  echo "Nov 29 10:$i:00 mx1 postfix/smtpd[300]: 4A4A4A4A$i: client=unknown[198.51.100.$i], sasl_method=LOGIN, sasl_username=ana17@cliente.com.br"
  echo "Nov 29 10:$i:01 mx1 postfix/qmgr[302]: 4A4A4A4A$i: from=<ana17@cliente.com.br>, size=2048, nrcpt=1 (queue active)"
  echo "Nov 29 10:$i:02 mx1 postfix/smtp[303]: 4A4A4A4A$i: to=<friend$i@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.0.27]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 OK)"
  echo "Nov 29 10:$i:02 mx1 postfix/qmgr[302]: 4A4A4A4A$i: removed"
done >"$work/compromised.log"
"$bin" import --year 2026 "$work/compromised.log" >/dev/null
# Two messages an hour ago from a demo customer: the message trace tests look
# up the delivered one (mailboxes.spec.ts) and the bounced one (trace.spec.ts).
t=$(date -u -d '-1 hour' '+%b %e %H:%M:%S')
cat >"$work/trace.log" <<LOG
$t mx1 postfix/smtpd[200]: connect from mail.cliente.com.br[192.0.2.10]
$t mx1 postfix/smtpd[200]: 3E2E2E2E2E: client=mail.cliente.com.br[192.0.2.10], sasl_method=PLAIN, sasl_username=ana17@cliente.com.br
$t mx1 postfix/cleanup[201]: 3E2E2E2E2E: message-id=<trace-e2e@cliente.com.br>
$t mx1 postfix/qmgr[202]: 3E2E2E2E2E: from=<ana17@cliente.com.br>, size=1234, nrcpt=1 (queue active)
$t mx1 postfix/smtp[203]: 3E2E2E2E2E: to=<boss@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.0.27]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 OK 1700000000 e2e-trace)
$t mx1 postfix/qmgr[202]: 3E2E2E2E2E: removed
$t mx1 postfix/smtpd[200]: 3B0B0B0B0B: client=mail.cliente.com.br[192.0.2.10], sasl_method=PLAIN, sasl_username=ana17@cliente.com.br
$t mx1 postfix/qmgr[202]: 3B0B0B0B0B: from=<ana17@cliente.com.br>, size=2345, nrcpt=1 (queue active)
$t mx1 postfix/smtp[203]: 3B0B0B0B0B: to=<joao.silva@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.0.27]:25, delay=0.9, delays=0.1/0/0.4/0.4, dsn=5.1.1, status=bounced (host gmail-smtp-in.l.google.com[142.250.0.27] said: 550-5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command))
$t mx1 postfix/qmgr[202]: 3B0B0B0B0B: removed
LOG
"$bin" import --year "$(date -u -d '-1 hour' +%Y)" "$work/trace.log" >/dev/null
# Yesterday's mail, for the charts and the report (their week shows it).
"$bin" generate-log --lines 4000 --seed 10 --start "$(date -u -d yesterday +%F)" --out "$work/yesterday.log"
"$bin" import "$work/yesterday.log" >/dev/null
"$bin" generate-log --lines 2000 --seed 8 --out "$work/live.log"
"$bin" generate-log --lines 1000 --seed 9 --out "$work/more.log"
cat >"$work/carteiro.toml" <<TOML
[mailflow]
poll_millis = 200
[[mailflow.sources]]
name = "mx-e2e"
path = "$work/live.log"
[defence]
policy_listen = "127.0.0.1:0"
TOML
export E2E_LIVE_LOG="$work/live.log" E2E_MORE_LOG="$work/more.log"

"$bin" --config "$work/carteiro.toml" serve --listen "127.0.0.1:$port" --demo >"$work/server.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; echo "e2e: the server died" >&2; exit 1; }
  sleep 0.2
done

cd end2end
status=0
E2E_BASE_URL="http://127.0.0.1:$port" E2E_PASSWORD="$password" npx playwright test "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- server log ----"
  tail -n 50 "$work/server.log"
fi
# The pages' data requests must not fail on the server either, even when the
# page a browser sees is fine (a request left behind by a page built twice
# fails with "AppState missing from the Leptos context").
if sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep -E ' ERROR |panicked'; then
  echo "e2e: the server logged the errors above" >&2
  status=1
fi
exit "$status"
