"""Fixtures for the browser tests: one local stack and one headless Chromium per run.

The stack is `feedback-ops dev` from the workspace's debug build (make test builds it),
with its own moto, on a free port, quiet, and with a 10 s visibility timeout: a message
that failed comes back within seconds, and the fault test has 90 s to switch its fault
off before a tenth failed receive would send the message to the DLQ (an injected fault
fails the whole invocation, so push-to-db sets no backoff of its own). Chromium is
Debian's (`chromium` on PATH, or CHROMIUM=/path); Playwright drives it and downloads
nothing.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import threading

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
SCREENSHOTS = TARGET / "screenshots"


class Stack:
    """A running `feedback-ops dev`."""

    def __init__(self):
        binary = TARGET / "debug" / "feedback-ops"
        if not binary.exists():
            pytest.fail(f"{binary} is missing: run `cargo build --workspace --bins` (make test does)")
        self.process = subprocess.Popen(
            [
                str(binary), "dev", "--port", "0", "--quiet",
                "--template", str(ROOT / "template.yaml"),
                "--bin-dir", str(TARGET / "debug"),
                "--visibility-timeout", "10",
                "--stack-name", "browser-tests",
                "--time-scale", "30",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = None
        for line in self.process.stdout:
            if line.startswith("ready: "):
                self.url = line.split()[1]
                break
        if self.url is None:
            pytest.fail("feedback-ops dev stopped before it was ready (its error is above)")
        # Keep reading so the stack never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def stack():
    running = Stack()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is not installed: run `apt-get install chromium` (make test does, as root)")
    with sync_playwright() as playwright:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page, name):
    """Saves a full-page screenshot as a test artifact: target/screenshots/NAME.png.

    From the top of the page: a full-page capture taken while scrolled draws the sticky
    header and banner where the view was scrolled to, over the middle of the page.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
