"""A headless Chromium driven over the Chrome DevTools protocol (CDP), for the HTML report tests.

The pages need no JavaScript; the checks run in the browser through CDP ``Runtime.evaluate``
after the page's ``load`` event (which waits for every image). The browser is Debian's
``chromium``; the websocket is the ``websocket-client`` package (the ``test`` extra).

Without a browser the tests are skipped, unless the environment variable ``CI`` is set:
then they fail, so CI can never pass without having looked at the pages.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Browser executables tried in order (``LIGHTLANE_CHROMIUM`` first when set).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """The path of a Chromium-like browser, or None."""
    named = os.environ.get("LIGHTLANE_CHROMIUM")
    for candidate in ([named] if named else []) + list(BROWSERS):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def require(condition: bool, reason: str) -> None:
    """Skip the test when ``condition`` is false, or fail it when running in CI."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run)")
    pytest.skip(reason)


class Page:
    """One browser tab over a CDP websocket: navigate, wait for ``load``, evaluate expressions."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout_s: float = 60.0, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events received meanwhile are kept)."""
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self._receive(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"CDP {method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"CDP {method}: no answer within {timeout_s} s")

    def _receive(self, deadline: float) -> dict[str, Any]:
        self.socket.settimeout(max(0.1, deadline - time.monotonic()))
        return json.loads(self.socket.recv())

    def wait_for(self, method: str, timeout_s: float = 60.0) -> dict[str, Any]:
        """The first event ``method`` (already received or still to come)."""
        for index, event in enumerate(self.events):
            if event["method"] == method:
                return self.events.pop(index)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self._receive(deadline)
            if message.get("method") == method:
                return message
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"CDP event {method} did not come within {timeout_s} s")

    def open(self, url: str) -> None:
        """Navigate and wait for the ``load`` event (all images fetched and decoded or failed)."""
        self.events.clear()
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise RuntimeError(f"{url}: {result['errorText']}")
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (run by the test through CDP, not by the page)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def requested_urls(self) -> list[str]:
        """Every URL the page requested since it was opened (``Network.requestWillBeSent``)."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> int:
    """The port Chromium chose (``--remote-debugging-port=0`` writes it to ``DevToolsActivePort``)."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the browser exited with code {process.returncode}")
        if marker.is_file():
            lines = marker.read_text().splitlines()
            if lines and lines[0].strip().isdigit():
                return int(lines[0])
        time.sleep(0.1)
    raise TimeoutError("the browser did not open its DevTools port")


@contextmanager
def headless_page(browser: str) -> Iterator[Page]:
    """A fresh headless browser with one page, stopped (its own process only) when the block ends."""
    import websocket  # the `websocket-client` package

    with tempfile.TemporaryDirectory(prefix="lightlane-chromium-") as profile:
        process = subprocess.Popen(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--remote-allow-origins=*",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        socket = None
        try:
            port = _devtools_port(Path(profile), process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
                targets = json.load(answer)
            target = next(t for t in targets if t.get("type") == "page")
            socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
            page = Page(socket)
            page.call("Page.enable")
            page.call("Network.enable")
            page.call("Runtime.enable")
            yield page
        finally:
            if socket is not None:
                socket.close()
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # the browser's own process group, started above
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)
