#!/usr/bin/env bash
# Benchmark the shell hook with hyperfine, on a release build, in a throwaway cove home:
#   - `cove hook-env bash` steady inside a project (what every prompt costs), entering a project,
#     leaving it; a no-op process (/bin/true) and a minimal Rust binary for scale;
#   - a console-script shim (`alpha-cli`) against the environment's own script.
# Prints the medians. Usage: bench/hook.sh [RUNS]   (needs hyperfine and python3)
set -euo pipefail

runs=${1:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v hyperfine >/dev/null || { echo "bench/hook.sh: hyperfine is not installed" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml" 2>/dev/null || cargo build --release --manifest-path "$root/Cargo.toml"
cove=$root/target/release/cove

work=$(mktemp -d "${TMPDIR:-/tmp}/cove-bench-hook.XXXXXX")
trap 'rm -rf "$work"' EXIT
export COVE_HOME=$work/data COVE_CACHE_DIR=$work/cache COVE_CONFIG=$work/config.toml
export COVE_BACKEND=${COVE_BACKEND:-pip}
unset VIRTUAL_ENV COVE_PROJECT __COVE_STATE

python3 "$root/tests/fixtures/make_wheels.py" "$work/wheels" >/dev/null
mkdir -p "$work/proj" "$work/outside"
cat >"$work/proj/cove.toml" <<EOF
dependencies = ["alpha==1.0"]

[index]
find-links = ["$work/wheels"]
no-index = true
EOF
(cd "$work/proj" && "$cove" trust --quiet && "$cove" sync --quiet)
shims=$("$cove" shims)
export PATH="$shims:$PATH"
outside_path=$PATH

# One evaluation inside the project gives the state every later prompt starts from.
cd "$work/proj"
eval "$("$cove" hook-env bash)"
active_state=$__COVE_STATE
active_path=$PATH
env_bin=$VIRTUAL_ENV/bin
[ -z "$("$cove" hook-env bash)" ] || { echo "bench/hook.sh: the steady case printed something" >&2; exit 1; }

bench() { # NAME JSON COMMAND…
  local name=$1 json=$2
  shift 2
  hyperfine -N --style none --warmup 50 --runs "$runs" --export-json "$work/$json.json" --command-name "$name" "$@" >/dev/null 2>&1
}

bench "no-op process (/bin/true)" true /bin/true
# The floor for any Rust binary: one that only asks for the current folder.
echo 'fn main() { let _ = std::env::current_dir(); }' >"$work/floor.rs"
rustc -O -C panic=abort -o "$work/floor" "$work/floor.rs"
bench "minimal Rust process" floor "$work/floor"
bench "hook-env steady, inside a project" steady "$cove hook-env bash"
# Entering: no state yet (an empty state counts as none), the environment is ready.
__COVE_STATE='' PATH=$outside_path bench "hook-env entering a project" enter "$cove hook-env bash"
# Leaving: the state and PATH of an active project, run from a folder outside any project.
cd "$work/outside"
__COVE_STATE=$active_state PATH=$active_path bench "hook-env leaving a project" leave "$cove hook-env bash"
cd "$work/proj"
bench "alpha-cli via the shim" shim "$shims/alpha-cli"
bench "alpha-cli from the environment" direct "$env_bin/alpha-cli"

python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
def result(name):
    return json.load(open(f"{work}/{name}.json"))["results"][0]
rows = ["true", "floor", "steady", "enter", "leave", "shim", "direct"]
print(f"{'benchmark':<40} {'median':>10} {'mean':>10} {'min':>10}")
for name in rows:
    r = result(name)
    print(f"{r['command']:<40} {r['median']*1e3:>8.3f}ms {r['mean']*1e3:>8.3f}ms {r['min']*1e3:>8.3f}ms")
ratio = result("shim")["median"] / result("direct")["median"]
print(f"console-script shim / direct (medians): {ratio:.3f}x")
EOF
