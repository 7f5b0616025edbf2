#!/bin/sh
# A second checkout of a real project (cove issue 22): how long its first `python -c 'import …'`
# takes when the layer is copied from the first checkout's (relocation), against one whose
# build files differ by a comment (no copy: the installer and the build backend run), and
# `uv sync` in a fresh copy. Needs the network once (pip download of the sdist).
#   bench/checkout.sh [cove binary] [sdist name] [module]
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
COVE=$(realpath "${1:-$HERE/target/release/cove}")
PKG=${2:-attrs}
MOD=${3:-attr}
UV=${UV:-$HERE/.tools/uv/bin/uv}
W=$(mktemp -d /tmp/cove-bench-checkout.XXXXXX)
trap 'rm -rf "$W"' EXIT
python3 -m pip download -q --no-binary :all: --no-deps "$PKG" -d "$W/dl"
for d in first second nocopy uvsync; do
  mkdir "$W/$d" && tar -xzf "$W"/dl/*.tar.gz -C "$W/$d" --strip-components=1
done
echo "# a comment: build files differ, so the layer is not copied" >> "$W/nocopy/pyproject.toml"
export COVE_CACHE_DIR="$W/cache" COVE_HOME="$W/home" COVE_CONFIG="$W/config.toml" COVE_UV="$UV" COVE_BACKEND=${COVE_BACKEND:-uv}
export UV_CACHE_DIR="$W/uv-cache"
now() { python3 -c 'import time; print(time.monotonic())'; }
run() { # label dir
  (cd "$2" && "$COVE" trust >/dev/null 2>&1)
  t0=$(now); (cd "$2" && "$COVE" run python -c "import $MOD" 2>"$W/err") || { cat "$W/err"; exit 1; }
  t1=$(now); printf '%-44s %6.2f s   %s\n' "$1" "$(python3 -c "print($t1-$t0)")" "$(grep -o 'built the project layer.*' "$W/err" || true)"
}
run "first checkout (env + layer built)" "$W/first"
run "second checkout (layer copied)" "$W/second"
run "second checkout, build files differ (built)" "$W/nocopy"
if [ -x "$UV" ]; then
  t0=$(now); (cd "$W/uvsync" && "$UV" sync -q) ; t1=$(now)
  printf '%-44s %6.2f s\n' "uv sync, fresh copy (uv cache warm)" "$(python3 -c "print($t1-$t0)")"
fi
