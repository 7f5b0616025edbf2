#!/usr/bin/env bash
# The shim's warm-path overhead: `python -c pass` through cove's shim in a project versus the
# environment's own python run directly. Target: ≤ 1.05×. Usage: bench/shim.sh
# (COVE=path/to/cove to pick the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
cove="${COVE:-target/release/cove}"
[ -x "$cove" ] || cargo build --release --quiet
cove="$(cd "$(dirname "$cove")" && pwd)/$(basename "$cove")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export COVE_CACHE_DIR="$work/cache" COVE_HOME="$work/home" COVE_CONFIG="$work/none.toml" COVE_QUIET=1
mkdir -p "$work/proj"
cd "$work/proj"
printf 'dependencies = []\n' > cove.toml
"$cove" trust >/dev/null 2>&1
"$cove" sync
shims="$("$cove" shims)"
env="$("$cove" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["env"])')"
export PATH="$shims:$PATH"
# A busy machine drifts: alternate short rounds and take the median of the per-round ratios
# of medians.
rounds="${ROUNDS:-10}"
for r in $(seq "$rounds"); do
  hyperfine --warmup 5 --runs 30 -N --style none --export-json "$work/round$r.json" \
    --command-name "env python directly" "$env/bin/python -c pass" \
    --command-name "python via cove's shim" "$shims/python -c pass" >/dev/null
done
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
ratios, directs, shims = [], [], []
for r in range(1, int(sys.argv[2]) + 1):
    d, s = (statistics.median(x["times"]) for x in json.load(open("%s/round%d.json" % (sys.argv[1], r)))["results"])
    directs.append(d); shims.append(s); ratios.append(s / d)
print("env python directly:    median %.2f ms" % (statistics.median(directs) * 1e3))
print("python via cove's shim: median %.2f ms" % (statistics.median(shims) * 1e3))
print("ratio (median of %d rounds): %.3f  (target <= 1.05)" % (len(ratios), statistics.median(ratios)))
PY
