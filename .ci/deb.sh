#!/usr/bin/env bash
# Builds the Debian package with cargo-deb:
#   .ci/deb.sh           the release build (`make deb`), as `make run` serves it
#   .ci/deb.sh --debug   the debug build the tests use (quicker; `make test-deploy`)
# It builds the site and binary (`cargo leptos build --split`), stages what
# cargo-deb takes from the target directory (server/Cargo.toml,
# [package.metadata.deb]) and prints the .deb's path on its last line:
# $CARGO_TARGET_DIR/debian/carteiro_<version>-1_amd64.deb (the debug one in
# debian/debug/, so that neither replaces the other).
set -euo pipefail
cd "$(dirname "$0")/.."

debug=0
for a in "$@"; do
  case "$a" in
    --debug) debug=1 ;;
    *) echo "deb.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

target=$(readlink -f "${CARGO_TARGET_DIR:-target}")
if [ "$debug" -eq 1 ]; then
  .ci/deps.sh --deb
  cargo leptos build --split
  profile_dir=debug
  # cargo-deb calls the dev profile unsupported (it warns) but packages it;
  # the debug binary is stripped and the package compressed quickly.
  deb_args=(--profile dev --strip --fast --output "$target/debian/debug/")
else
  .ci/deps.sh --release --deb
  cargo leptos build --release --split
  profile_dir=release
  deb_args=()
fi

# cargo-leptos writes the site to ./target/site, or under CARGO_TARGET_DIR.
site="$(pwd)/target/site"
[ -f "$site/pkg/carteiro.wasm" ] || site="$target/site"
[ -f "$site/pkg/carteiro.wasm" ] || { echo "deb.sh: no built site (pkg/carteiro.wasm) in target/site or $site" >&2; exit 1; }

# What cargo-deb reads as target/release/deb/ (its name for the profile's dir).
stage="$target/$profile_dir/deb"
rm -rf "$stage"
mkdir -p "$stage"
ln -s "$site" "$stage/site"
# The conffile: every setting with its default, but the database and the
# site where the package puts them. A changed example fails here, not at
# the first start of an installed package.
{
  echo "# /etc/carteiro/carteiro.toml: carteiro.service runs"
  echo "# \`carteiro --config /etc/carteiro/carteiro.toml serve\` as the user carteiro;"
  echo "# run other commands the same way (sudo -u carteiro carteiro --config ... user list)."
  echo "#"
  sed -e 's|^url = "sqlite://data/carteiro.db?mode=rwc"$|url = "sqlite:///var/lib/carteiro/carteiro.db?mode=rwc"|' \
    -e 's|^site_root = "target/site"$|site_root = "/usr/share/carteiro/site"|' \
    carteiro.example.toml
} >"$stage/carteiro.toml"
for want in 'url = "sqlite:///var/lib/carteiro/carteiro.db?mode=rwc"' 'site_root = "/usr/share/carteiro/site"'; do
  grep -qxF "$want" "$stage/carteiro.toml" ||
    { echo "deb.sh: carteiro.example.toml changed: could not set $want" >&2; exit 1; }
done

cargo deb -p server --no-build "${deb_args[@]}" | tail -n 1
