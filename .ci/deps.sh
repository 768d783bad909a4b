#!/usr/bin/env bash
# Installs what building and testing Carteiro needs, skipping what is there:
#   rust target wasm32, cargo-leptos, wasm-bindgen-cli (the Cargo.lock version),
#   and with --test also Debian's chromium, PostgreSQL and Postfix, and the end2end npm packages;
#   with --release also wasm-opt (npm binaryen) under .tools/;
#   with --deb also cargo-deb (the Debian package: `make deb`, `make test-deploy`).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0 want_release=0 want_deb=0
for a in "$@"; do
  case "$a" in
    --test) want_test=1 ;;
    --release) want_release=1 ;;
    --deb) want_deb=1 ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! (have cargo-leptos && cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'); then
  say "installing cargo-leptos 0.3.10 (a few minutes, once)"
  cargo install cargo-leptos@0.3.10 --locked --features no_downloads
fi

wbv=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! (have wasm-bindgen && wasm-bindgen --version | grep -q " ${wbv}\$"); then
  say "installing wasm-bindgen-cli ${wbv} (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "${wbv}" --force
fi

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [ "$want_test" -eq 1 ]; then
  have chromium || apt_install chromium
  # Postfix for the enforcement tests, installed unconfigured: the tests
  # run their own instance in a temporary directory on loopback ports.
  if ! dpkg -s postfix postfix-sqlite postfix-pgsql >/dev/null 2>&1; then
    echo "postfix postfix/main_mailer_type select No configuration" |
      { [ "$(id -u)" -eq 0 ] && debconf-set-selections || sudo debconf-set-selections; }
    apt_install postfix postfix-sqlite postfix-pgsql
  fi
  # Dovecot checks the password hashes and the SQL settings Carteiro ships
  # (the tests start their own instance). Without dovecot-imapd/-pop3d the
  # installed service listens on no port.
  apt_install dovecot-core dovecot-sqlite dovecot-pgsql
  # The deployment test: dpkg -i needs adduser; it checks the units with
  # systemd-analyze (systemd need not run) and listening ports with ss.
  apt_install adduser iproute2 systemd
  { have initdb && have pg_ctl; } || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
  if [ ! -f end2end/node_modules/.package-lock.json ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing end2end npm packages"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

if [ "$want_release" -eq 1 ] && ! have wasm-opt && [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
  say "installing wasm-opt (npm binaryen@132) under .tools/"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error binaryen@132
fi

# 3.8.0: the newest cargo-deb 3 (its rust-version 1.85 is within our 1.95).
if [ "$want_deb" -eq 1 ] && ! (have cargo-deb && cargo deb --version 2>/dev/null | grep -q ' 3\.8\.0$'); then
  say "installing cargo-deb 3.8.0 (a few minutes, once)"
  cargo install cargo-deb@3.8.0 --locked
fi
