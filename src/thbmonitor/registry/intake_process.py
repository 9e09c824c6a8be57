"""One intake process for the whole service: every worker's submissions validated together.

Validation and pseudonymisation take each submission on its own (about 0.4 ms of CPU,
:mod:`thbmonitor.ingest.record`; ingest's frame-wide checks cost 65-90 ms per call whatever
its size, which is why batching once was the point). Submissions that arrive together are
handed over and answered together (:mod:`.batch`). ``thbmonitor serve`` starts
the process before forking its workers; the workers reach it over a Unix socket in a private
directory, authenticated with a random key (``multiprocessing.connection``). The process
belongs to the service's process group and ends with it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener

from thbmonitor.registry.batch import Batcher
from thbmonitor.registry.intake import Prepared, Submission


class IntakeUnavailable(RuntimeError):
    """The intake process does not answer."""


@dataclass(frozen=True)
class Address:
    path: str
    authkey: bytes
    pid: int = 0  # the intake process


def start(work: Callable[[Sequence[Submission]], Sequence[Prepared]], window: float) -> Address:
    """Fork the intake process (it inherits the configured key) and return its address once
    it listens. A plain fork, not ``multiprocessing.Process``: gunicorn's workers, forked
    later, must not count it as their child (and stop it when they exit)."""
    folder = tempfile.mkdtemp(prefix="thbmonitor-intake-")  # mode 0700
    address = Address(os.path.join(folder, "intake.sock"), os.urandom(32))
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the intake process
        os.close(read)
        try:
            _serve(address, work, window, write, parent)
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    ok = bool(ready) and os.read(read, 1) == b"1"
    os.close(read)
    if not ok:
        raise IntakeUnavailable("the intake process did not start")
    return Address(address.path, address.authkey, pid)


def _serve(
    address: Address,
    work: Callable[[Sequence[Submission]], Sequence[Prepared]],
    window: float,
    ready: int,
    parent: int,
) -> None:
    batcher: Batcher[Submission, Prepared] = Batcher(work, window=window)
    threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()
    with Listener(address.path, family="AF_UNIX", authkey=address.authkey) as listener:
        os.write(ready, b"1")
        os.close(ready)
        while True:
            try:
                conn = listener.accept()
            except (OSError, EOFError):  # a client that failed authentication
                continue
            threading.Thread(target=_reader, args=(conn, batcher), daemon=True).start()


def _orphaned(parent: int) -> None:
    """End the intake process when the service that started it is gone (even by kill -9)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _reader(conn: Connection, batcher: Batcher[Submission, Prepared]) -> None:
    send_lock = threading.Lock()

    def replier(request: int) -> Callable[[Prepared | None, BaseException | None], None]:
        def reply(result: Prepared | None, error: BaseException | None) -> None:
            message = (request, result, None if error is None else type(error).__name__)
            with send_lock, contextlib.suppress(OSError):  # OSError: the worker went away
                conn.send(message)

        return reply

    while True:
        try:
            request, submission = conn.recv()
        except (EOFError, OSError):
            conn.close()
            return
        batcher.submit(submission, replier(request))


class IntakeClient:
    """A worker's end: ``client(submission)`` returns its :class:`Prepared` (thread-safe)."""

    def __init__(self, address: Address, timeout: float = 60.0) -> None:
        self.address = address
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._conn: Connection | None = None
        self._pending: dict[int, Future[Prepared]] = {}
        self._ids = itertools.count()

    def __call__(self, submission: Submission) -> Prepared:
        future: Future[Prepared] = Future()
        with self._lock:
            conn = self._connection()
            request = next(self._ids)
            self._pending[request] = future
            try:
                conn.send((request, submission))
            except OSError as exc:
                self._pending.pop(request, None)
                self._conn = None
                raise IntakeUnavailable("the intake process does not answer") from exc
        return future.result(self.timeout)

    def _connection(self) -> Connection:
        if self._conn is None or self._pid != os.getpid():
            self._pending = {}
            try:
                self._conn = Client(
                    self.address.path, family="AF_UNIX", authkey=self.address.authkey
                )
            except OSError as exc:
                raise IntakeUnavailable("the intake process does not answer") from exc
            self._pid = os.getpid()
            threading.Thread(target=self._receive, args=(self._conn,), daemon=True).start()
        return self._conn

    def _receive(self, conn: Connection) -> None:
        while True:
            try:
                request, result, error = conn.recv()
            except (EOFError, OSError):
                with self._lock:
                    pending, self._pending = self._pending, {}
                    if self._conn is conn:
                        self._conn = None
                for waiting in pending.values():
                    waiting.set_exception(IntakeUnavailable("the intake process went away"))
                return
            with self._lock:
                answered = self._pending.pop(request, None)
            if answered is None:
                continue
            if error is not None:
                answered.set_exception(IntakeUnavailable(f"validation failed ({error})"))
            else:
                answered.set_result(result)
