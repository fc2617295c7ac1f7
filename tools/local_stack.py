"""What the benchmark scripts share: a local stack started for the run, and JSON over HTTP.

`running(feedback_ops, bin_dir)` starts `feedback-ops dev` quiet, on a free port, with
its own moto, waits for its `ready:` line, keeps its output drained, yields its `url`
and `pid`, and stops it (Ctrl-C, as a presenter would) when the block ends. Only the
standard library.
"""

import contextlib
import json
import signal
import subprocess
import sys
import threading
import types
import urllib.request


def request(method, url, body=None, headers=None, timeout=60):
    """One JSON call; `body` is sent as JSON when given; the answer parsed."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.load(response)


@contextlib.contextmanager
def running(feedback_ops, bin_dir):
    """A local stack on `bin_dir`'s binaries for the length of the block: yields its
    `url` and the `pid` of its own process."""
    stack = subprocess.Popen(
        [feedback_ops, "dev", "--port", "0", "--quiet", "--bin-dir", bin_dir],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = next((line.split()[1] for line in stack.stdout if line.startswith("ready: ")), None)
        if url is None:
            sys.exit("feedback-ops dev stopped before it was ready (see its errors above)")
        # Never let the stack block on a full pipe.
        threading.Thread(target=lambda: [None for _ in stack.stdout], daemon=True).start()
        yield types.SimpleNamespace(url=url, pid=stack.pid)
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=20)
        except subprocess.TimeoutExpired:
            stack.kill()
