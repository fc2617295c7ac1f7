#!/usr/bin/env python3
"""End-to-end latency of the local stack: post a comment, then list until it is there.

Starts `feedback-ops dev` (quiet, on a free port, with its own moto), posts N comments
one after another and, for each, lists `/comments` until the new id appears: the time
from sending the POST to the first list that has it is the comment's post -> listed
latency (API Gateway, add-comments, SQS, the event source poller, push-to-db, DynamoDB,
then get-all-comments). Prints p50/p90/p99/max and the init durations the host reported.

Usage: tools/e2e-latency.py FEEDBACK_OPS BIN_DIR [N]    (make bench runs it)
Only the standard library: it runs with any Python 3.
"""

import math
import sys
import time

from local_stack import request, running


def percentile(values, p):
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p * len(ordered))))
    return ordered[rank - 1]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    feedback_ops, bin_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    with running(feedback_ops, bin_dir) as stack:
        url = stack.url
        functions = request("GET", f"{url}/ops/api/functions")
        print("init durations the host reported (process start -> first Runtime API poll):")
        for function in functions:
            inits = ", ".join(f"{ms:.1f} ms" for ms in function["init_durations_ms"])
            print(f"  {function['name']:<17} {inits}")

        latencies = []
        lists = 0
        for i in range(count):
            started = time.perf_counter()
            posted = request("POST", f"{url}/comments", {"text": f"latency {i}", "rating": 5})
            while True:
                lists += 1
                page = request("GET", f"{url}/comments?limit=5")
                if any(item["id"] == posted["id"] for item in page["items"]):
                    break
            latencies.append((time.perf_counter() - started) * 1000)
            if (i + 1) % 25 == 0:
                print(f"  {i + 1}/{count} comments", file=sys.stderr)
        print(
            f"post -> listed over {count} comments, one at a time ({lists} list calls):\n"
            f"  p50 {percentile(latencies, 0.50):.1f} ms   p90 {percentile(latencies, 0.90):.1f} ms"
            f"   p99 {percentile(latencies, 0.99):.1f} ms   max {max(latencies):.1f} ms"
        )


if __name__ == "__main__":
    main()
