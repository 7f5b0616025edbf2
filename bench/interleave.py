#!/usr/bin/env python3
"""Time commands round-robin: one run of each per round, so a busy machine's drift hits them all
alike (hyperfine runs one command's whole series, then the next). Writes hyperfine's JSON shape
(results[].command, median, mean, min, times) for bench/run, plus q1/q3 and the round of each
time, so bench/run can pair the runs of one round.

    interleave.py --runs N --warmup W --budget SECONDS --json OUT  NAME 'COMMAND ARGS' ...
        [--prepare NAME 'COMMAND'] [--alternate]

A command stops being run once it has used its time budget (after at least 10 runs), so slow
anchors do not stretch the whole run. A command that fails is dropped and reported with
"failed" (its exit status) instead of times.

--prepare runs an untimed command before each run of NAME (warm-ups too), e.g. removing what
the last run built. `{n}` in a command or a prepare step is replaced by a name for the round
that no other round or invocation uses (`<start time>.<round>`, `<start time>.w0` in warm-up),
so each run can build at a path never seen before (uv caches what it learns about an
interpreter by its path) without spending a `mktemp` inside the timing. --alternate reverses the order of the commands every other round, so neither
runs always first after the other's prepare step (page cache, CPU frequency).
"""

import argparse
import json
import os
import shlex
import statistics
import time


def run_once(argv, devnull, search=False):
    start = time.perf_counter_ns()
    spawn = os.posix_spawnp if search else os.posix_spawn
    pid = spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter_ns() - start) / 1e9
    return elapsed, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--budget", type=float, default=15.0)
    ap.add_argument("--json", required=True)
    ap.add_argument("--prepare", nargs=2, action="append", default=[], metavar=("NAME", "COMMAND"))
    ap.add_argument("--alternate", action="store_true")
    ap.add_argument("pairs", nargs="+")
    a = ap.parse_intermixed_args()
    if len(a.pairs) % 2:
        raise SystemExit("interleave: give NAME COMMAND pairs")
    names = a.pairs[0::2]
    argvs = [shlex.split(c) for c in a.pairs[1::2]]
    prepare = {}
    for name, cmd in a.prepare:
        if name not in names:
            raise SystemExit(f"interleave: --prepare names no command: {name}")
        prepare[names.index(name)] = shlex.split(cmd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    invocation = time.time_ns()

    def run(i, n):
        fill = lambda argv: [arg.replace("{n}", f"{invocation}.{n}") for arg in argv]
        if i in prepare and (code := run_once(fill(prepare[i]), devnull, search=True)[1]) != 0:
            raise SystemExit(f"interleave: the prepare step of {names[i]} failed (exit {code})")
        return run_once(fill(argvs[i]), devnull)

    failed = [None] * len(argvs)
    for w in range(a.warmup):
        for i in range(len(argvs)):
            if failed[i] is None and (code := run(i, f"w{w}")[1]) != 0:
                failed[i] = code
    times = [[] for _ in argvs]
    rounds = [[] for _ in argvs]
    for r in range(a.runs):
        order = range(len(argvs))
        if a.alternate and r % 2:
            order = reversed(order)
        for i in order:
            if failed[i] is not None or (len(times[i]) >= 10 and sum(times[i]) > a.budget):
                continue
            elapsed, code = run(i, str(r))
            if code != 0:
                failed[i] = code
            else:
                times[i].append(elapsed)
                rounds[i].append(r)
    results = []
    for n, t, rs, f in zip(names, times, rounds, failed):
        if f is not None:
            results.append({"command": n, "failed": f})
            continue
        q1, _, q3 = statistics.quantiles(t, n=4) if len(t) > 1 else (t[0], t[0], t[0])
        results.append({"command": n, "median": statistics.median(t), "mean": statistics.fmean(t), "min": min(t),
                        "q1": q1, "q3": q3, "times": t, "rounds": rs})
    with open(a.json, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
