#!/usr/bin/env bash
# The release site's WASM as `make run` ships it (cargo-leptos in release with
# --split, then wasm-opt on every file), raw and gzipped: the main file every
# visit loads and, for each lazily loaded section of pages, everything a visit
# to it loads (the main file, the section's own file and the shared pieces the
# split manifest lists for it). `--no-build` measures the site already built.
# Only the WASM is built: the release server is not needed to measure it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --no-build ]; then
  .ci/deps.sh --release
  cargo leptos build --release --split --frontend-only
fi
pkg=target/site/pkg
[ -f "$pkg/carteiro.wasm" ] || pkg="${CARGO_TARGET_DIR:-target}/site/pkg"
python3 - "$pkg" <<'PY'
import gzip, json, os, re, sys

pkg = sys.argv[1]
def size(name):
    path = os.path.join(pkg, name + ".wasm")
    data = open(path, "rb").read()
    return len(data), len(gzip.compress(data, 9))

main = size("carteiro")
print(f"{'main (every visit)':28s} {main[0] / 1e6:5.2f} MB raw {main[1] / 1e6:5.2f} MB gzipped")
manifest = os.path.join(pkg, "__wasm_split_manifest.json")
if not os.path.exists(manifest):
    sys.exit("no split manifest: was the site built with --split?")
worst = main
for key, files in sorted(json.load(open(manifest)).items()):
    part = re.sub(r"_\d+$", "", key.lstrip("_"))
    own = {"split_" + key} | set(files)
    sizes = [size(f) for f in own]
    raw = main[0] + sum(r for r, _ in sizes)
    gz = main[1] + sum(g for _, g in sizes)
    worst = max(worst, (raw, gz))
    print(f"{part:28s} {raw / 1e6:5.2f} MB raw {gz / 1e6:5.2f} MB gzipped ({len(own) + 1} files)")
every = [f for f in os.listdir(pkg) if f.endswith(".wasm")]
total = sum(os.path.getsize(os.path.join(pkg, f)) for f in every)
print(f"{'largest visit':28s} {worst[0] / 1e6:5.2f} MB raw {worst[1] / 1e6:5.2f} MB gzipped")
print(f"{'all files together':28s} {total / 1e6:5.2f} MB raw ({len(every)} files)")
PY
