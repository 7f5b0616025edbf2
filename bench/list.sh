#!/usr/bin/env bash
# `cove list` on a synthetic cache of N (default 10,000) ready environments, each with a
# marker, cove-env.json, usage stamp and bin/python link, and a project record for every tenth.
# Target: ≤ 1 s. Usage: bench/list.sh [N]   (COVE=path/to/cove to pick the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
cove="${COVE:-target/release/cove}"
[ -x "$cove" ] || cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work/cache" "$n" <<'PY'
import hashlib, json, os, sys, time
cache, n = sys.argv[1], int(sys.argv[2])
py = os.path.realpath(sys.executable)
ver = "%d.%d.%d" % sys.version_info[:3]
now = time.time()
os.makedirs(os.path.join(cache, "projects"))
for i in range(n):
    key = hashlib.sha256(str(i).encode()).hexdigest()
    env = os.path.join(cache, "envs", key)
    os.makedirs(os.path.join(env, "bin"))
    os.symlink(py, os.path.join(env, "bin", "python"))
    with open(os.path.join(env, "pyvenv.cfg"), "w") as f:
        f.write("home = %s\n" % os.path.dirname(py))
    info = {"key": key, "python": py, "python_version": ver, "requirements": i % 20,
            "size": 4096 * (i % 500 + 1), "canonical": "cove-env-v1\n" + "requirement: pkg%d==1.0\n" % i * (i % 20)}
    with open(os.path.join(env, "cove-env.json"), "w") as f:
        json.dump(info, f)
    for name in (".cove-used", ".cove-ready"):
        open(os.path.join(env, name), "w").close()
    t = now - (i * 97) % (90 * 86400)
    os.utime(os.path.join(env, ".cove-used"), (t, t))
    if i % 10 == 0:
        proj = "/nonexistent/project%d" % i
        rec = hashlib.sha256(proj.encode()).hexdigest()[:32]
        with open(os.path.join(cache, "projects", rec), "w") as f:
            f.write("%s\n%s\n" % (key, proj))
PY
export COVE_CACHE_DIR="$work/cache" COVE_HOME="$work/home" COVE_CONFIG="$work/none.toml"
echo "$("$cove" list | tail -n 1)"
hyperfine --warmup 2 --runs 10 -N \
  --command-name "cove list ($n envs)" "$cove list" \
  --command-name "cove list --json ($n envs)" "$cove list --json"
