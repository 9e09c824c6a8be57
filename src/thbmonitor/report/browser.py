"""Opening a report in headless Chromium to see what a reader's browser sees and requests.

Chromium is driven over the Chrome DevTools Protocol on ``--remote-debugging-pipe`` (file
descriptors 3 and 4, NUL-separated JSON), so no websocket library is needed. :func:`load_page`
records every request the page sends (``Network.requestWillBeSent``), every console or log
error (a blocked request shows up there as a Content-Security-Policy violation), the rendered
DOM and the Navigation Timing of the load. Used by the browser test, the benchmark and the
``check-report`` command.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thbmonitor.errors import ReportError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--mute-audio",
    "--remote-debugging-pipe",
)


@dataclass(frozen=True)
class PageLoad:
    """What happened when a page was opened."""

    url: str
    requests: tuple[str, ...]  # every URL the page asked for, the document first
    errors: tuple[str, ...]  # console errors, exceptions and log errors (e.g. CSP violations)
    dom: str  # document.documentElement.outerHTML after the load event
    figures: tuple[tuple[str, str, str], ...]  # (data-key, data-value, shown text) as rendered
    load_seconds: float  # Navigation Timing: navigation start to the end of the load event
    wall_seconds: float  # from the navigate command to the load event, as seen from here
    evaluated: Any = None  # the JSON value of the ``script`` passed to :meth:`Browser.load`

    def external_requests(self) -> list[str]:
        """Requests other than the page itself and ``data:`` URIs."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


def find_chromium() -> str | None:
    """The path of a Chromium or Chrome executable, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class _Pipe:
    """A CDP connection over a pair of pipes."""

    def __init__(self, read_fd: int, write_fd: int, deadline: float) -> None:
        self.read_fd, self.write_fd, self.deadline = read_fd, write_fd, deadline
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> int:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.write_fd, data) :]
        return self.next_id

    def _read_one(self, until: float) -> dict[str, Any] | None:
        while b"\0" not in self.buffer:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise ReportError("Chromium closed the DevTools pipe unexpectedly.")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        """Send a command and wait for its answer; events on the way are kept."""
        wanted = self.send(method, params, session)
        while True:
            message = self._read_one(self.deadline)
            if message is None:
                raise ReportError(f"Chromium did not answer {method} in time.")
            if message.get("id") == wanted:
                if "error" in message:
                    raise ReportError(f"Chromium refused {method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        """Wait for an event of one session; the events on the way are kept."""
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            message = self._read_one(self.deadline)
            if message is None:
                raise ReportError(f"Chromium sent no {method} in time.")
            self.events.append(message)
            if message.get("method") == method and message.get("sessionId") == session:
                return message

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive in the next ``seconds``."""
        until = min(time.monotonic() + seconds, self.deadline)
        while (message := self._read_one(until)) is not None:
            self.events.append(message)


class Browser:
    """One headless Chromium; :meth:`load` opens pages one after another, each in a new tab.

    Use as a context manager: ``with Browser() as browser: load = browser.load(path)``.
    """

    def __init__(self, chromium: str | None = None, timeout: float = 30.0) -> None:
        executable = chromium or find_chromium()
        if executable is None:
            raise ReportError("No Chromium found; install it (Debian: apt-get install chromium).")
        self.executable, self.timeout = executable, timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: _Pipe | None = None
        self._profile = ""

    def __enter__(self) -> Browser:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Move the child's ends above 10 so that dup2 onto 3 and 4 cannot clobber them.
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def attach_pipes() -> None:  # runs in the child before exec
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self._profile = tempfile.mkdtemp(prefix="thbmonitor-chromium-")
        try:
            self._process = subprocess.Popen(
                [self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=False,
                preexec_fn=attach_pipes,
            )
        finally:
            os.close(child_r)
            os.close(child_w)
        self._pipe = _Pipe(from_child_r, to_child_w, time.monotonic() + self.timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        pipe, process = self._pipe, self._process
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.send("Browser.close")
            for fd in (pipe.read_fd, pipe.write_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)
        self._pipe = self._process = None

    def load(self, path: Path, settle: float = 0.3, media: str = "", script: str = "") -> PageLoad:
        """Open ``path`` in a new tab, wait for the load event plus ``settle`` seconds.

        ``media`` (e.g. ``print``) emulates a CSS media type; ``script`` is a JavaScript
        expression evaluated after the load, its JSON value returned as ``evaluated``.
        """
        pipe = self._pipe
        if pipe is None:
            raise ReportError("The browser is not running; use it inside a 'with' block.")
        pipe.deadline = time.monotonic() + self.timeout
        url = Path(path).resolve().as_uri()
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Network", "Page", "Runtime", "Log"):
            pipe.call(f"{domain}.enable", session=session)
        if media:
            pipe.call("Emulation.setEmulatedMedia", {"media": media}, session=session)
        pipe.events.clear()
        started = time.perf_counter()
        pipe.call("Page.navigate", {"url": url}, session=session)
        pipe.wait_event("Page.loadEventFired", session)
        wall = time.perf_counter() - started
        pipe.drain(settle)
        script = (
            "JSON.stringify({dom: document.documentElement.outerHTML, "
            "nav: performance.getEntriesByType('navigation')[0].toJSON(), "
            "figures: Array.from(document.querySelectorAll('[data-key]'), "
            "e => [e.dataset.key, e.dataset.value, e.textContent]), "
            f"evaluated: ({script or 'null'})}})"
        )
        answer = pipe.call(
            "Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session
        )
        page = json.loads(answer["result"]["value"])
        events = [e for e in pipe.events if e.get("sessionId") == session]
        requests, errors = _requests_and_errors(events)
        pipe.call("Target.closeTarget", {"targetId": target})
        pipe.events.clear()
        return PageLoad(
            url=url,
            requests=tuple(requests),
            errors=tuple(errors),
            dom=page["dom"],
            figures=tuple((str(k), str(v), str(t)) for k, v, t in page["figures"]),
            load_seconds=float(page["nav"]["loadEventEnd"]) / 1000.0,
            wall_seconds=wall,
            evaluated=page["evaluated"],
        )


def load_page(path: Path, chromium: str | None = None, timeout: float = 30.0) -> PageLoad:
    """Open one page in a fresh headless Chromium (see :class:`Browser` for several pages)."""
    with Browser(chromium, timeout) as browser:
        return browser.load(path)


def _requests_and_errors(events: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    requests: list[str] = []
    errors: list[str] = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            errors.append(params["entry"].get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning"):
            errors.append(" ".join(str(a.get("value", "")) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
    return requests, errors
