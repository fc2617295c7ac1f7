#!/usr/bin/env python3
"""What one million comments cost on AWS, from figures measured on the local stack.

Starts `feedback-ops dev` (quiet, free port, its own moto) on the given binaries, sends
N comments the way the feedback page does (a POST with an Idempotency-Key, then one
page of the list, `GET /comments?limit=20`, per comment) from 4 clients, waits until
the queue is drained, and measures, for exactly that work:

- each function's invocations, mean duration (from its REPORT lines) and CPU time (the
  processes' utime + stime from /proc), so a duration at another memory size can be
  modelled: Lambda gives a function CPU in proportion to its memory (one vCPU at
  1,769 MB), so the CPU part of a duration stretches by 1,769 / memory below that and
  the waiting part (the network, DynamoDB, SQS) does not. This machine's core stands
  in for one Lambda vCPU: an assumption, stated in the table;
- every DynamoDB and SQS call the functions made, with its bytes (the local stack's
  backend proxy counts them), for request units and SQS requests; the event source's
  ReceiveMessage and DeleteMessageBatch are one each per push-to-db batch;
- the bytes each function logged (CloudWatch Logs ingestion).

Then it prices one million comments with the constants below, at 128, 256 and 512 MB,
and prints the tables (markdown, as the README carries them).

Usage: tools/cost-model.py FEEDBACK_OPS BIN_DIR [N]     (make bench runs it)
Only the standard library: it runs with any Python 3.
"""

import math
import os
import sys
import threading
import time
import uuid

from local_stack import request, running

# ───────── Prices: us-east-1 list prices, recorded 2026-12-02 (check before relying on them) ─────────
PRICES_DATE = "2026-12-02"
API_GATEWAY_REST_PER_MILLION = 3.50  # first 333 million requests a month
LAMBDA_REQUESTS_PER_MILLION = 0.20
LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334  # first 7.5 billion GB-s a month
SQS_STANDARD_PER_MILLION = 0.40  # each 64 KiB of payload is one request
DYNAMODB_ON_DEMAND_PER_MILLION_WRU = 0.625  # after the November 2024 price cut
DYNAMODB_ON_DEMAND_PER_MILLION_RRU = 0.125
CLOUDWATCH_LOGS_PER_GB_INGESTED = 0.50  # Standard log class
XRAY_PER_MILLION_TRACES_RECORDED = 5.00
# ───────── Assumptions ─────────
XRAY_SAMPLED_SHARE = 0.05  # the default sampling rule: 1 request/s, then 5 %
FULL_VCPU_MB = 1769  # Lambda: one vCPU at 1,769 MB, in proportion below
MEMORY_SIZES = (128, 256, 512)
REQUESTS_PER_COMMENT = {"POST /comments": 1, "GET /comments": 1}

CLK_TCK = os.sysconf("SC_CLK_TCK")
REGION = "eu-west-1"


def sqs(endpoint, action, body):
    """One SQS call to moto in the JSON protocol (moto checks no signature)."""
    return request(
        "POST",
        endpoint,
        body,
        {
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": f"AmazonSQS.{action}",
            "authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0",
        },
    )


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except OSError:
        return 0.0


def snapshot(url):
    functions = request("GET", f"{url}/ops/api/functions")
    cpu = {
        f["name"]: sum(cpu_seconds(e["pid"]) for e in f.get("environments", []) if e.get("pid"))
        for f in functions
    }
    calls = request("GET", f"{url}/ops/api/backend/faults")["calls"]
    last = request("GET", f"{url}/ops/api/logs?limit=1")["last_seq"] or 0
    return {"cpu": cpu, "calls": calls, "seq": last}


def drained(url):
    stack = request("GET", f"{url}/ops/api/stack")
    for queue in stack["queues"]:
        if not queue["redrive"]:
            continue
        attributes = sqs(
            stack["endpoint"],
            "GetQueueAttributes",
            {"QueueUrl": queue["url"], "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]},
        )["Attributes"]
        if any(int(v) for v in attributes.values()):
            return False
    return True


def workload(url, count, clients):
    """The page's traffic: post with a key, then read one page of the list."""
    todo = list(range(count))
    lock = threading.Lock()
    failures = []

    def client():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            try:
                request("POST", f"{url}/comments", {"text": f"cost model {n}", "rating": 4}, {"Idempotency-Key": str(uuid.uuid4())})
                request("GET", f"{url}/comments?limit=20")
            except Exception as error:  # noqa: BLE001 - counted and reported
                failures.append(str(error))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def reports(url, after):
    """Each function's REPORT durations and its logged bytes since log sequence `after`."""
    lines = request("GET", f"{url}/ops/api/logs?after={after}&limit=1000000")["entries"]
    durations, logged = {}, {}
    for line in lines:
        name = line["function"]
        logged[name] = logged.get(name, 0) + len(line["message"].encode())
        if line["message"].startswith("REPORT "):
            ms = float(line["message"].split("Duration: ")[1].split(" ms")[0])
            durations.setdefault(name, []).append(ms)
    return durations, logged


def request_units(calls, comments_stored):
    """DynamoDB request units from the calls' sizes (a request's JSON stands for the item's
    size: an overestimate by the attribute-type markup), and the `feed` index's writes."""
    wru = rru = 0.0
    for operation, stats in calls.items():
        if not operation.startswith("DynamoDB.") or not stats["count"]:
            continue
        name = operation.split(".", 1)[1]
        per_call_in = stats["request_bytes"] / stats["count"]
        per_call_out = stats["response_bytes"] / stats["count"]
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            wru += stats["count"] * max(1, math.ceil(per_call_in / 1024))
        elif name in ("GetItem", "Query", "Scan"):
            # Eventually consistent: half a unit per 4 KiB (the idempotency read is strongly
            # consistent: counted the same way, a small underestimate for one GetItem a post).
            rru += stats["count"] * max(0.5, math.ceil(per_call_out / 4096) * 0.5)
    # Every stored comment is also written to the sparse `feed` index (projection ALL).
    item = calls.get("DynamoDB.PutItem", {"request_bytes": 0, "count": 1})
    wru += comments_stored * max(1, math.ceil(item["request_bytes"] / max(1, item["count"]) / 1024))
    return wru, rru


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    feedback_ops, bin_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    with running(feedback_ops, bin_dir) as stack:
        url = stack.url
        memory = {f["name"]: f["memory_mb"] for f in request("GET", f"{url}/ops/api/functions")}
        before = snapshot(url)
        started = time.monotonic()
        failures = workload(url, count, 4)
        while not drained(url):
            time.sleep(0.5)
        time.sleep(2)  # the last batch's REPORT line
        elapsed = time.monotonic() - started
        after = snapshot(url)
        durations, logged = reports(url, before["seq"])
        calls = {
            op: {k: after["calls"][op][k] - before["calls"].get(op, {}).get(k, 0) for k in ("count", "request_bytes", "response_bytes")}
            for op in after["calls"]
        }
        print_model(count, failures, elapsed, memory, before, after, durations, logged, calls)


def print_model(count, failures, elapsed, memory, before, after, durations, logged, calls):
    scale = 1_000_000 / count
    print(f"\n{count} comments in {elapsed:.1f} s ({len(failures)} failed requests), measured per comment:\n")
    print("| function | invocations / comment | mean duration | CPU / invocation | logged / comment |")
    print("|---|---:|---:|---:|---:|")
    lambda_figures = {}
    for name in sorted(durations):
        if name not in memory:
            continue
        invocations = len(durations[name])
        mean = sum(durations[name]) / invocations
        cpu_ms = (after["cpu"].get(name, 0) - before["cpu"].get(name, 0)) * 1000 / invocations
        cpu_ms = min(cpu_ms, mean)
        lambda_figures[name] = (invocations / count, mean, cpu_ms)
        print(
            f"| {name} | {invocations / count:.3f} | {mean:.2f} ms | {cpu_ms:.2f} ms |"
            f" {logged.get(name, 0) / count:.0f} B |"
        )
    sends = calls.get("SQS.SendMessage", {"count": 0, "request_bytes": 0})
    batches = len(durations.get("push-to-db", [])) or 1
    sqs_requests = sends["count"] + 2 * batches  # + the event source's receive and delete per batch
    sqs_requests += sum(c["count"] for op, c in calls.items() if op.startswith("SQS.") and op != "SQS.SendMessage")
    wru, rru = request_units(calls, count)
    dynamo_calls = ", ".join(f"{op.split('.')[1]} {c['count'] / count:.2f}" for op, c in sorted(calls.items()) if op.startswith("DynamoDB.") and c["count"])
    print(f"\nDynamoDB calls per comment: {dynamo_calls}; {wru / count:.2f} WRU and {rru / count:.2f} RRU per comment"
          f" (the `feed` index's write included)")
    print(f"SQS requests per comment: {sqs_requests / count:.2f} (push-to-db batches of {count / batches:.1f} on average)")

    fixed = {
        "API Gateway (REST)": sum(REQUESTS_PER_COMMENT.values()) * count * API_GATEWAY_REST_PER_MILLION / 1_000_000,
        "SQS": sqs_requests * SQS_STANDARD_PER_MILLION / 1_000_000,
        "DynamoDB (on demand)": wru * DYNAMODB_ON_DEMAND_PER_MILLION_WRU / 1_000_000 + rru * DYNAMODB_ON_DEMAND_PER_MILLION_RRU / 1_000_000,
        "CloudWatch Logs": sum(logged.values()) / 1e9 * CLOUDWATCH_LOGS_PER_GB_INGESTED,
        "X-Ray": sum(REQUESTS_PER_COMMENT.values()) * count * XRAY_SAMPLED_SHARE * XRAY_PER_MILLION_TRACES_RECORDED / 1_000_000,
    }
    print(f"\nOne million comments, US$ (us-east-1 list prices of {PRICES_DATE}; arm64; the CPU part of a"
          f" duration scaled by {FULL_VCPU_MB} MB / memory, this machine's core standing in for one vCPU):\n")
    columns = [*MEMORY_SIZES, "template"]
    print("| | " + " | ".join(f"{m} MB" for m in MEMORY_SIZES) + " | as the template sets it |")
    print("|---|" + "---:|" * len(columns))
    totals = {m: 0.0 for m in columns}

    def lambda_cost(per_comment, mean, cpu_ms, m):
        duration = cpu_ms * max(1.0, FULL_VCPU_MB / m) + (mean - cpu_ms)
        billed_s = math.ceil(duration) / 1000
        cost = per_comment * 1_000_000 * (LAMBDA_REQUESTS_PER_MILLION / 1_000_000 + billed_s * m / 1024 * LAMBDA_ARM64_PER_GB_SECOND)
        return cost, duration

    for name, (per_comment, mean, cpu_ms) in sorted(lambda_figures.items()):
        cells = []
        for m in columns:
            size = memory[name] if m == "template" else m
            cost, duration = lambda_cost(per_comment, mean, cpu_ms, size)
            totals[m] += cost
            cells.append(f"{cost:.2f} ({duration:.1f} ms{f', {size} MB' if m == 'template' else ''})")
        print(f"| Lambda {name} | " + " | ".join(cells) + " |")
    for service, cost in fixed.items():
        for m in columns:
            totals[m] += cost * scale
        print(f"| {service} | " + " | ".join(f"{cost * scale:.2f}" for _ in columns) + " |")
    print("| **total** | " + " | ".join(f"**{totals[m]:.2f}**" for m in columns) + " |")
    cheapest = min(MEMORY_SIZES, key=lambda m: totals[m])
    print(f"\ncheapest single size: {cheapest} MB ({totals[cheapest]:.2f} US$ per million comments);"
          f" as the template sets it: {totals['template']:.2f} US$")


if __name__ == "__main__":
    main()
