#!/usr/bin/env python3
"""Whole-process start-up timer for the benchmark suite.

usage: timer.py ROUNDS WARMUP COMMANDS.tsv [RESULT.json]
COMMANDS.tsv: one 'label<TAB>command' a line (the command is split like a shell
would, without running one). The commands are run in turn, round after round
(A B C A B C ...), so drift in the machine's load hits all of them alike. Each
run is posix_spawn -> wait4 on CLOCK_MONOTONIC with stdio on /dev/null; a run
that exits non-zero is counted as a failure (and its time kept).
"""
import json, os, shlex, statistics, sys, time


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    rounds, warmup, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    out = sys.argv[4] if len(sys.argv) > 4 else None
    commands = []
    for line in open(path):
        line = line.rstrip("\n")
        if line.strip() and not line.startswith("#"):
            label, cmd = line.split("\t", 1)
            commands.append((label, shlex.split(cmd)))
    null = os.open("/dev/null", os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
    wall = {label: [] for label, _ in commands}
    fails = {label: 0 for label, _ in commands}
    for r in range(warmup + rounds):
        for label, argv in commands:
            t0 = time.perf_counter_ns()
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
            _, status, _ = os.wait4(pid, 0)
            ms = (time.perf_counter_ns() - t0) / 1e6
            if os.waitstatus_to_exitcode(status) != 0:
                fails[label] += 1
            if r >= warmup:
                wall[label].append(ms)
    rows = []
    print(f"{'':28s} {'min':>8s} {'median':>8s} {'p90':>8s}  fails   (ms, {rounds} rounds after {warmup} warm-up)")
    for label, _ in commands:
        w = wall[label]
        row = {"label": label, "min": min(w), "median": statistics.median(w), "p90": percentile(w, 90), "fails": fails[label], "n": len(w)}
        rows.append(row)
        print(f"{label:28s} {row['min']:8.3f} {row['median']:8.3f} {row['p90']:8.3f}  {fails[label]:5d}")
    if out:
        with open(out, "w") as f:
            json.dump({"rounds": rounds, "warmup": warmup, "results": rows}, f, indent=2)


main()
