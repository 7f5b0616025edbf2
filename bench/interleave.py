#!/usr/bin/env python3
"""Time commands round-robin: one run of each per round, so a busy machine's drift hits them all
alike (hyperfine runs one command's whole series, then the next). Writes hyperfine's JSON shape
(results[].command, median, mean, min, times) for bench/run.

    interleave.py --runs N --warmup W --budget SECONDS --json OUT  NAME 'COMMAND ARGS' ...

A command stops being run once it has used its time budget (after at least 10 runs), so slow
anchors do not stretch the whole run. A command that fails is dropped and reported with
"failed" (its exit status) instead of times.
"""

import argparse
import json
import os
import shlex
import statistics
import time


def run_once(argv, devnull):
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
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
    ap.add_argument("pairs", nargs="+")
    a = ap.parse_args()
    if len(a.pairs) % 2:
        raise SystemExit("interleave: give NAME COMMAND pairs")
    names = a.pairs[0::2]
    argvs = [shlex.split(c) for c in a.pairs[1::2]]
    devnull = os.open(os.devnull, os.O_WRONLY)
    failed = [None] * len(argvs)
    for i, argv in enumerate(argvs):
        for _ in range(a.warmup):
            if failed[i] is None and (code := run_once(argv, devnull)[1]) != 0:
                failed[i] = code
    times = [[] for _ in argvs]
    for _ in range(a.runs):
        for i, argv in enumerate(argvs):
            if failed[i] is not None or (len(times[i]) >= 10 and sum(times[i]) > a.budget):
                continue
            elapsed, code = run_once(argv, devnull)
            if code != 0:
                failed[i] = code
            else:
                times[i].append(elapsed)
    results = []
    for n, t, f in zip(names, times, failed):
        if f is not None:
            results.append({"command": n, "failed": f})
        else:
            results.append({"command": n, "median": statistics.median(t), "mean": statistics.fmean(t), "min": min(t), "times": t})
    with open(a.json, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
