#!/usr/bin/env python3
"""Memory of the local stack under steady load with one fixed trace header.

A client that sends the same `X-Amzn-Trace-Id` on every request piles every segment
onto one trace; the stack bounds a trace (and its telemetry stores), so its memory must
level off instead of growing with the load. This starts `feedback-ops dev` (quiet, on
a free port, with its own moto), then for MINUTES posts comments and lists them with
that one header, polls the console's heaviest views (`/ops/api/graph`, the trace list,
the trace itself) as an open console would, and samples the resident memory (VmRSS) of
the stack's own process and of each function process every 10 s.

It prints the samples and the verdict: the stack's peak memory in the last third of the
run against its peak in the middle third. More than 10 % growth is reported; it fails
the run (exit 1) only for a run of 30 minutes or more, since the stores take the first
minutes to fill.

Usage: tools/memory-under-load.py FEEDBACK_OPS BIN_DIR [MINUTES] [RATE]
(make bench runs it for 10 minutes; BENCH_MEMORY_MINUTES=60 for an hour.)
Only the standard library: it runs with any Python 3.
"""

import sys
import threading
import time

from local_stack import request, running

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"


def rss_kib(pid):
    """VmRSS of a process in KiB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def load(url, rate, stop, counts):
    """Posts and lists at `rate` requests per second, with the one trace header."""
    interval = 1.0 / rate
    n = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            if n % 2 == 0:
                request("POST", f"{url}/comments", {"text": f"memory {n}"}, {"X-Amzn-Trace-Id": TRACE})
            else:
                request("GET", f"{url}/comments?limit=20", headers={"X-Amzn-Trace-Id": TRACE})
            counts["ok"] += 1
        except Exception:  # noqa: BLE001 - a failed request is counted, the load goes on
            counts["failed"] += 1
        n += 1
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def console(url, stop, counts):
    """What an open console asks every two seconds, the heaviest first."""
    trace_id = TRACE.split(";")[0].removeprefix("Root=")
    while not stop.is_set():
        for path in ("/ops/api/graph", "/ops/api/traces?limit=50", f"/ops/api/traces/{trace_id}"):
            try:
                request("GET", f"{url}{path}")
                counts["console"] += 1
            except Exception:  # noqa: BLE001 - the trace may not exist yet
                counts["console_failed"] += 1
        stop.wait(2)


def verdict(samples, minutes):
    """Bounded when the stack's peak in the last third of the run is within 10 % of its
    peak in the middle third. The stores fill for the first minutes (50,000 log lines,
    100,000 metric points, 2,000 segments on the one trace), so a short run may still be
    filling: that is reported, and only a run of 30 minutes or more fails on it."""
    third = max(1, len(samples) // 3)
    middle = max(kib for _, kib in samples[third : 2 * third] or samples)
    late = max(kib for _, kib in samples[-third:])
    growth = late / middle if middle else 0
    bounded = growth <= 1.1
    print(
        f"stack memory: peak {middle / 1024:.1f} MiB in the middle third, {late / 1024:.1f} MiB in the"
        f" last third ({growth:.2f}x): "
        + ("bounded" if bounded else "still growing" + ("" if minutes >= 30 else " (a short run: the stores may still be filling; BENCH_MEMORY_MINUTES=60)"))
    )
    return 0 if bounded or minutes < 30 else 1


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    feedback_ops, bin_dir = sys.argv[1], sys.argv[2]
    minutes = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    with running(feedback_ops, bin_dir) as stack:
        url = stack.url
        stop = threading.Event()
        counts = {"ok": 0, "failed": 0, "console": 0, "console_failed": 0}
        workers = [
            threading.Thread(target=load, args=(url, rate, stop, counts), daemon=True),
            threading.Thread(target=console, args=(url, stop, counts), daemon=True),
        ]
        for worker in workers:
            worker.start()
        print(f"{minutes:g} minutes at {rate:g} requests/s with one trace header ({TRACE}), console polling")
        print(f"{'t (s)':>7} {'requests':>9} {'stack MiB':>10} {'functions MiB':>14}")
        samples = []
        started = time.monotonic()
        deadline = started + minutes * 60
        while time.monotonic() < deadline:
            time.sleep(min(10, max(0.0, deadline - time.monotonic())))
            functions = request("GET", f"{url}/ops/api/functions")
            pids = [e["pid"] for f in functions for e in f.get("environments", []) if e.get("pid")]
            stack_kib = rss_kib(stack.pid) or 0
            functions_kib = sum(rss_kib(pid) or 0 for pid in pids)
            elapsed = time.monotonic() - started
            samples.append((elapsed, stack_kib))
            print(f"{elapsed:7.0f} {counts['ok']:9d} {stack_kib / 1024:10.1f} {functions_kib / 1024:14.1f}", flush=True)
        stop.set()
        print(
            f"requests {counts['ok']} ok, {counts['failed']} failed; console polls {counts['console']}"
            f" ({counts['console_failed']} failed)"
        )
        sys.exit(verdict(samples, minutes))


if __name__ == "__main__":
    main()
