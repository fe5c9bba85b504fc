#!/usr/bin/env python3
"""Whole-process start-up timer for the benchmark suite.

usage: timer.py ROUNDS WARMUP COMMANDS.tsv [RESULT.json]
COMMANDS.tsv: one 'label<TAB>command' a line (the command is split like a shell
would, without running one). A command 'served: HOLD-ARGV ||| EXEC-ARGS' times a
warm start instead: a container is held (`HOLD-ARGV`, untimed, as the warm pool
makes it ahead), then one served execution of EXEC-ARGS is timed from its request
to its status (docs/launcher.md, "Served execs"), then the container is ended
(untimed). Its launcher-side start (request to the program's execve, --timings
startUs) is reported too. The commands are run in turn, round after round
(A B C A B C ...), so drift in the machine's load hits all of them alike. Each
run is posix_spawn -> wait4 on CLOCK_MONOTONIC with stdio on /dev/null; a run
that exits non-zero is counted as a failure (and its time kept).
"""
import json, os, shlex, statistics, struct, subprocess, sys, time


def hold(argv):
    """A held container, ready: (process, its stdin, its stdout)."""
    r, w = os.pipe()
    p = subprocess.Popen(argv + ["--status-fd", str(w)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, pass_fds=[w])
    os.close(w)
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(r, 256)
        if not chunk:
            raise SystemExit(f"the holder exited before it was ready: {line!r}")
        line += chunk
    os.close(r)
    if b'"ready":true' not in line:
        raise SystemExit(f"the holder did not get ready: {line!r}")
    return p


def served(p, args):
    """One served execution; returns its status line (a dict)."""
    a = b"".join(x.encode() + b"\0" for x in args)
    p.stdin.write(b"x" + struct.pack("<II", len(a), 0) + a)
    p.stdin.flush()
    while True:
        h = p.stdout.read(5)
        if len(h) < 5:
            raise SystemExit("the holder exited mid-execution")
        data = p.stdout.read(struct.unpack("<I", h[1:])[0])
        if h[:1] == b"s":
            return json.loads(data)


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
            if cmd.startswith("served:"):
                hold_part, exec_part = cmd[len("served:"):].split("|||")
                commands.append((label, ("served", shlex.split(hold_part), ["--timings"] + shlex.split(exec_part))))
            else:
                commands.append((label, shlex.split(cmd)))
    null = os.open("/dev/null", os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
    wall = {label: [] for label, _ in commands}
    fails = {label: 0 for label, _ in commands}
    start_us = {label: [] for label, _ in commands}
    for r in range(warmup + rounds):
        for label, argv in commands:
            if isinstance(argv, tuple):
                p = hold(argv[1])
                time.sleep(0.002)  # the pool's containers wait a while before their job comes
                t0 = time.perf_counter_ns()
                status = served(p, argv[2])
                ms = (time.perf_counter_ns() - t0) / 1e6
                p.stdin.close()
                p.wait()
                if status.get("status") != "ok":
                    fails[label] += 1
                if r >= warmup:
                    wall[label].append(ms)
                    start_us[label].append(status.get("timings", {}).get("startUs", -1))
                continue
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
        note = ""
        if start_us[label]:
            row["startMedianMs"] = statistics.median(start_us[label]) / 1000
            row["startP90Ms"] = percentile(start_us[label], 90) / 1000
            note = f"  (request to execve: median {row['startMedianMs']:.3f}, p90 {row['startP90Ms']:.3f})"
        rows.append(row)
        print(f"{label:28s} {row['min']:8.3f} {row['median']:8.3f} {row['p90']:8.3f}  {fails[label]:5d}{note}")
    if out:
        with open(out, "w") as f:
            json.dump({"rounds": rounds, "warmup": warmup, "uid": os.getuid(), "kernel": os.uname().release,
                       "cpus": os.cpu_count(), "results": rows}, f, indent=2)


main()
