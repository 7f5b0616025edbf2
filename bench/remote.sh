#!/usr/bin/env bash
# The team cache: a pull against a local uv build of the same environment, side by side, and the
# artifact's size against the environment's. Opt-in: needs the package index (not run by tests).
# Usage: bench/remote.sh   (REQS="…" to pick the requirements, IMPORTS="a,b" the modules the
# import rows load, ROUNDS=N, COVE=path/to/cove). The local build is timed twice: with uv's cache
# cold (a fresh CI runner: every wheel downloaded) and warm.
# The remote is a docker-registry on 127.0.0.1 when /usr/bin/docker-registry is installed, else a
# folder (file://).
set -euo pipefail
cd "$(dirname "$0")/.."
cove="${COVE:-target/release/cove}"
[ -x "$cove" ] || cargo build --release --quiet
cove="$(cd "$(dirname "$cove")" && pwd)/$(basename "$cove")"
reqs="${REQS:-requests==2.32.3 rich==13.9.4 httpx==0.27.2}"
imports="${IMPORTS:-rich, requests, httpx}"
rounds="${ROUNDS:-5}"
work="$(mktemp -d)"
# As a user's shell would be: bytecode written, nothing of an outer Python setup.
unset PYTHONDONTWRITEBYTECODE PYTHONPATH PYTHONHOME VIRTUAL_ENV
registry_pid=
cleanup() { [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [ -x /usr/bin/docker-registry ]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/registry" "$port" > "$work/registry.yml"
  /usr/bin/docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done
  remote="oci://127.0.0.1:$port/bench/cove"
else
  mkdir -p "$work/team"
  remote="file://$work/team"
fi

mkdir -p "$work/proj"
deps="$(python3 -c 'import sys,json; print(json.dumps(sys.argv[1:]))' $reqs)"
printf 'dependencies = %s\n' "$deps" > "$work/proj/cove.toml"
# NAME [remote]: a fresh cache and config, as another machine would have. Each round's machines
# are new folders, all removed at the end: removing hundreds of MB between rounds would slow the
# next round's file creation (ext4 frees the blocks in the background), a fresh runner's would not.
machine() {
  local d="$work/$1"; mkdir -p "$d"
  [ -z "${2:-}" ] || printf '[remote]\nurl = "%s"\n' "$2" > "$d/config.toml"
  echo "COVE_CACHE_DIR=$d/cache COVE_HOME=$d/home COVE_CONFIG=$d/config.toml UV_CACHE_DIR=${3:-$d/uv-cache}"
}
run_in() { (cd "$work/proj" && env $1 COVE_QUIET=1 "$cove" "${@:2}"); }
now() { echo "$EPOCHREALTIME"; }  # no process: a python3 start-up would be timed too
# Before each timed step, as on a fresh runner: nothing waiting to be written, and (as root, unless
# REMOTE_DROP_CACHES=0) no file in the page cache. The rounds' files pile up in memory otherwise,
# and on ext4 without a journal every new file is slower for a minute or more after many were
# deleted (as a previous run's clean-up does) while their inode blocks are cached: both would
# slow later steps more than earlier ones.
drop=0
[ "${REMOTE_DROP_CACHES:-1}" = 0 ] || [ ! -w /proc/sys/vm/drop_caches ] || drop=1
settle() { sync; [ "$drop" = 0 ] || echo 3 > /proc/sys/vm/drop_caches; }
# The registry stands for another machine, whose page cache this one's does not empty: its blobs
# are read back in after a drop.
settle_remote() {
  settle
  [ "$drop" = 0 ] && return
  find "$work/registry" "$work/team" -type f -exec cat {} + >/dev/null 2>&1 || true
  [ -z "$registry_pid" ] || { exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /v2/ HTTP/1.0\r\n\r\n' >&3 && cat <&3 >/dev/null; exec 3<&-; } || true
}

# uv: COVE_UV, else the one .ci/run installs, else PATH's; for the pushed build as for the rounds'.
[ -n "${COVE_UV:-}" ] || { [ -x .tools/uv/bin/uv ] && export COVE_UV="$PWD/.tools/uv/bin/uv"; } || true
a="$(machine a "$remote")"
run_in "$a" trust >/dev/null
run_in "$a" sync
run_in "$a" push
env_dir="$(cd "$work/proj" && env $a "$cove" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["env"])')"
env_kb="$(du -sk "$env_dir" | cut -f1)"
art_kb="$( (du -sk "$work/registry" "$work/team" 2>/dev/null || true) | awk '{s+=$1} END {print s}')"

# The warm rows' uv cache, filled once before the rounds.
w="$(machine warmup "" "$work/uv-cache-warm")"; run_in "$w" trust >/dev/null; run_in "$w" sync
: > "$work/times"
for r in $(seq "$rounds"); do
  cold="$(machine cold$r)"; run_in "$cold" trust >/dev/null
  settle; t8="$(now)"; run_in "$cold" sync; t9="$(now)"
  b="$(machine b$r "" "$work/uv-cache-warm")"; run_in "$b" trust >/dev/null
  settle; t0="$(now)"; run_in "$b" sync; t1="$(now)"
  c="$(machine c$r "$remote")"; run_in "$c" trust >/dev/null
  settle_remote; t2="$(now)"; run_in "$c COVE_TIMINGS=$work/phases" sync; t3="$(now)"
  # First import in the pulled environment (no bytecode shipped) against a second one.
  t4="$(now)"; run_in "$c" run python -c "import $imports"; t5="$(now)"
  t6="$(now)"; run_in "$c" run python -c "import $imports"; t7="$(now)"
  echo "$t0 $t1 $t2 $t3 $t4 $t5 $t6 $t7 $t8 $t9" >> "$work/times"
done
python3 - "$work/times" "$env_kb" "$art_kb" "$remote" "$work/phases" "$drop" <<'PY'
import collections, os, statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
build = statistics.median(r[1] - r[0] for r in rows)
pull = statistics.median(r[3] - r[2] for r in rows)
first = statistics.median(r[5] - r[4] for r in rows)
second = statistics.median(r[7] - r[6] for r in rows)
cold = statistics.median(r[9] - r[8] for r in rows)
settled = "synced, page cache dropped (the registry's read back)" if sys.argv[6] == "1" else "synced"
print("remote: %s (%d rounds, medians; before each timed step: %s)" % (sys.argv[4], len(rows), settled))
print("local uv build (cold uv cache):  %6.0f ms" % (cold * 1e3))
print("local uv build (warm uv cache):  %6.0f ms" % (build * 1e3))
print("pull from the team cache:        %6.0f ms  (%.2fx of the cold build, %.2fx of the warm)" % (pull * 1e3, pull / cold, pull / build))
phases = collections.defaultdict(list)
if os.path.exists(sys.argv[5]):
    for line in open(sys.argv[5]):
        name, seconds = line.split()
        phases[name].append(float(seconds))
if phases:
    print("  of which:  " + ", ".join("%s %.0f ms" % (n, statistics.median(v) * 1e3) for n, v in phases.items()))
    print("  each round's pull: " + " ".join("%.0f" % ((r[3] - r[2]) * 1e3) for r in rows) + " ms")
    print("  each round's cold build: " + " ".join("%.0f" % ((r[9] - r[8]) * 1e3) for r in rows) + " ms")
print("first import after a pull:       %6.0f ms  (bytecode written then)" % (first * 1e3))
print("second import:                   %6.0f ms" % (second * 1e3))
env_kb, art_kb = int(sys.argv[2]), int(sys.argv[3])
print("environment %d KiB, stored artifact %d KiB (%.0f%%)" % (env_kb, art_kb, 100.0 * art_kb / max(env_kb, 1)))
PY
