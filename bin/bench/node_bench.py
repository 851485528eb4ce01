#!/usr/bin/python3
"""Small helpers for bin/benchmark-receive and bin/benchmark-e2e (standard library only).

  wait-file DIR --known LIST [--timeout S] [--poll S]
      Polls DIR (every 10 ms) for a file not named in LIST (one name a line). A file counts as
      complete when its size is non-zero and unchanged at the next poll; prints the wall-clock
      time (epoch seconds) at which that final size was first seen, and the file name.
  wait-log LOG REGEX COUNT [--timeout S]
      Waits until LOG has COUNT lines matching REGEX; prints the timestamp of the COUNT-th
      (slf4j-simple's yyyy-MM-dd'T'HH:mm:ss.SSSZ at the start of the line) as epoch seconds.
  heap-sample PID OUT
      Runs `jstat -gc PID 100` and writes "epoch_seconds used_bytes" lines to OUT (used =
      survivor + eden + old, humongous objects included) until the JVM exits.
  heap-peak SAMPLES GC_LOG FROM TO
      Peak heap between FROM and TO (epoch seconds): the larger of the sampled used heap and
      the heap before each GC pause logged there (-Xlog:gc:file=GC_LOG:timemillis), so a peak
      collected between two samples is not missed; also the largest heap after a GC (the live
      set). Prints "peak_mb=… live_mb=… samples=… gcs=…" (MB = 10^6 bytes).
  table TITLE COLUMNS ROWS…
      Prints a Markdown-style table; COLUMNS and each row are '|'-separated.
  median VALUES…
      Prints the median.
  thread-cpu PID OUT [BEFORE]
      Writes each thread's CPU seconds (/proc/PID/task/*/stat) to OUT, one "name<TAB>user<TAB>system"
      line per thread name (threads of one name summed); with BEFORE (an earlier OUT) prints the
      difference (user + system, and of it system), largest first.
"""
import datetime
import os
import re
import signal
import statistics
import subprocess
import sys
import time

MIB = 1024 * 1024


def wait_file(args):
    folder = args[0]
    known = set()
    timeout, poll = 120.0, 0.01
    i = 1
    while i < len(args):
        if args[i] == "--known":
            with open(args[i + 1]) as f:
                known = {line.strip() for line in f if line.strip()}
        elif args[i] == "--timeout":
            timeout = float(args[i + 1])
        elif args[i] == "--poll":
            poll = float(args[i + 1])
        i += 2
    deadline = time.time() + timeout
    seen = {}  # name -> (size, time first seen at that size)
    while time.time() < deadline:
        now = time.time()
        for name in os.listdir(folder):
            if name in known:
                continue
            try:
                size = os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
            previous = seen.get(name)
            if previous and previous[0] == size and size > 0:
                print(f"{previous[1]:.6f} {name}")
                return 0
            if not previous or previous[0] != size:
                seen[name] = (size, now)
        time.sleep(poll)
    print(f"no new complete file in {folder} within {timeout:.0f} s", file=sys.stderr)
    return 1


LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:?\d\d))")


def log_epoch(line):
    m = LOG_TIME.match(line)
    if not m:
        return None
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def wait_log(args):
    path, pattern, count = args[0], re.compile(args[1]), int(args[2])
    timeout = float(args[4]) if len(args) > 4 and args[3] == "--timeout" else 120.0
    deadline = time.time() + timeout
    while time.time() < deadline:
        hits = []
        with open(path, errors="replace") as f:
            for line in f:
                if pattern.search(line):
                    hits.append(line)
        if len(hits) >= count:
            stamp = log_epoch(hits[count - 1])
            if stamp is None:
                print(f"no timestamp on: {hits[count - 1].strip()}", file=sys.stderr)
                return 1
            print(f"{stamp:.3f}")
            return 0
        time.sleep(0.01)
    print(f"{path}: fewer than {count} lines match {pattern.pattern} after {timeout:.0f} s", file=sys.stderr)
    return 1


def heap_sample(args):
    pid, out = args[0], args[1]
    proc = subprocess.Popen(["jstat", "-gc", pid, "100"], stdout=subprocess.PIPE, text=True, bufsize=1)

    def stop(signum, frame):
        proc.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    header = None
    with open(out, "w", buffering=1) as f:
        for line in proc.stdout:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "S0C":
                header = fields
                continue
            if header is None or len(fields) != len(header):
                continue
            row = dict(zip(header, fields))
            try:
                used_kib = sum(float(row[k]) for k in ("S0U", "S1U", "EU", "OU"))
            except ValueError:
                continue
            f.write(f"{time.time():.3f} {int(used_kib * 1024)}\n")
    return proc.wait()


GC_LINE = re.compile(r"^\[(\d+)ms\].*\bPause\b.*?(\d+)M->(\d+)M\(\d+M\)")


def heap_peak(args):
    samples, gc_log, start, end = args[0], args[1], float(args[2]), float(args[3])
    peak, live, n_samples, n_gcs = 0, 0, 0, 0
    if os.path.exists(samples):
        with open(samples) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and start <= float(parts[0]) <= end:
                    peak = max(peak, int(parts[1]))
                    n_samples += 1
    if os.path.exists(gc_log):
        with open(gc_log) as f:
            for line in f:
                m = GC_LINE.match(line)
                if m and start <= int(m.group(1)) / 1000 <= end:
                    peak = max(peak, int(m.group(2)) * MIB)
                    live = max(live, int(m.group(3)) * MIB)
                    n_gcs += 1
    print(f"peak_mb={peak / 1e6:.1f} live_mb={live / 1e6:.1f} samples={n_samples} gcs={n_gcs}")
    return 0


def table(args):
    title, columns, rows = args[0], args[1].split("|"), [r.split("|") for r in args[2:]]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    print(title)

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    print(line(columns))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    return 0


def median(args):
    print(f"{statistics.median(float(a) for a in args):.6f}")
    return 0


def thread_cpu(args):
    pid, out = args[0], args[1]
    hz = os.sysconf("SC_CLK_TCK")
    totals = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        name = re.sub(r"[#-]?\d+$", "", name).strip() or name
        fields = stat[stat.rindex(")") + 2:].split()
        user, system = totals.get(name, (0.0, 0.0))
        totals[name] = (user + int(fields[11]) / hz, system + int(fields[12]) / hz)
    with open(out, "w") as f:
        for name, (user, system) in sorted(totals.items()):
            f.write(f"{name}\t{user:.2f}\t{system:.2f}\n")
    if len(args) > 2:
        before = {}
        with open(args[2]) as f:
            for line in f:
                name, user, system = line.rstrip("\n").split("\t")
                before[name] = (float(user), float(system))
        diff = sorted(((u + s - sum(before.get(name, (0.0, 0.0))), s - before.get(name, (0.0, 0.0))[1], name)
                       for name, (u, s) in totals.items()), reverse=True)
        total = sum(d for d, _, _ in diff)
        print(f"total {total:.2f} s: " + ", ".join(f"{name} {d:.2f} (system {s:.2f})" for d, s, name in diff
                                                   if d >= 0.01))
    return 0


COMMANDS = {"wait-file": wait_file, "wait-log": wait_log, "heap-sample": heap_sample, "heap-peak": heap_peak,
            "table": table, "median": median, "thread-cpu": thread_cpu}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
