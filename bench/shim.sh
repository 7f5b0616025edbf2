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
# The floor: a C program that only execs the environment's python (argv[0] set as the shim
# sets it), statically linked. What it costs above python itself is the machine's price of one
# more execve, which no exec shim can go below.
floor=()
if command -v gcc >/dev/null; then
  printf '#include <unistd.h>\nint main(int c, char **v) { (void)c; v[0] = "%s/bin/python"; execv(v[0], v); return 127; }\n' "$env" > "$work/floor.c"
  if gcc -O2 -static -o "$work/floor" "$work/floor.c" 2>/dev/null || gcc -O2 -o "$work/floor" "$work/floor.c"; then
    floor=(--command-name "bare execve shim (C)" "$work/floor -c pass")
  fi
fi
# A busy machine drifts: alternate short rounds and take the median of the per-round ratios
# of medians.
rounds="${ROUNDS:-10}"
for r in $(seq "$rounds"); do
  hyperfine --warmup 5 --runs 30 -N --style none --export-json "$work/round$r.json" \
    --command-name "env python directly" "$env/bin/python -c pass" \
    --command-name "python via cove's shim" "$shims/python -c pass" "${floor[@]}" >/dev/null
done
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
ratios, directs, shims, floors, floor_ratios = [], [], [], [], []
for r in range(1, int(sys.argv[2]) + 1):
    results = [statistics.median(x["times"]) for x in json.load(open("%s/round%d.json" % (sys.argv[1], r)))["results"]]
    d, s = results[:2]
    directs.append(d); shims.append(s); ratios.append(s / d)
    if len(results) > 2:
        floors.append(results[2]); floor_ratios.append(results[2] / d)
print("env python directly:    median %.2f ms" % (statistics.median(directs) * 1e3))
print("python via cove's shim: median %.2f ms" % (statistics.median(shims) * 1e3))
if floors:
    print("bare execve shim (C):   median %.2f ms, ratio %.3f (this machine's floor for any exec shim)"
          % (statistics.median(floors) * 1e3, statistics.median(floor_ratios)))
print("ratio (median of %d rounds): %.3f  (target <= 1.05)" % (len(ratios), statistics.median(ratios)))
PY
