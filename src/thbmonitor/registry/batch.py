"""Micro-batching: concurrent callers' items handled together by one worker thread.

The registry uses it twice: its intake process validates the submissions of every worker
that arrive together (:mod:`.intake_process`), and each worker commits the submissions that
arrive while it commits the previous group in one transaction (:mod:`.submit`). A batch is
closed ``window`` seconds after its first item arrived (or at ``max_items``); with a window of
0 it holds what was queued when the thread took it up, so nothing waits while the thread is
idle, and under load the batches grow by themselves.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
Reply = Callable[[R | None, BaseException | None], None]


class Batcher(Generic[T, R]):
    """Call ``work`` on batches of items submitted from many threads.

    The worker thread starts on first use in each process (a forked process starts its own).
    """

    def __init__(
        self,
        work: Callable[[Sequence[T]], Sequence[R]],
        *,
        window: float = 0.002,
        max_items: int = 500,
    ) -> None:
        self.work = work
        self.window = window
        self.max_items = max_items
        self._queue: queue.Queue[tuple[T, Reply[R]]] = queue.Queue()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def submit(self, item: T, reply: Reply[R]) -> None:
        """Queue ``item``; ``reply(result, None)`` or ``reply(None, error)`` follows."""
        self._ensure_worker()
        self._queue.put((item, reply))

    def __call__(self, item: T, timeout: float | None = 60.0) -> R:
        future: Future[R] = Future()

        def reply(result: R | None, error: BaseException | None) -> None:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        self.submit(item, reply)
        return future.result(timeout)

    def _ensure_worker(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue()
                threading.Thread(target=self._run, name="intake-batcher", daemon=True).start()
                self._pid = os.getpid()

    def _collect(self) -> list[tuple[T, Reply[R]]]:
        q = self._queue
        batch = [q.get()]
        closes = time.monotonic() + self.window
        while len(batch) < self.max_items:
            left = closes - time.monotonic()
            try:
                batch.append(q.get(timeout=left) if left > 0 else q.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._collect()
            try:
                results = self.work([item for item, _ in batch])
            except Exception as exc:  # every caller gets the batch's error
                for _, reply in batch:
                    reply(None, exc)
                continue
            for (_, reply), result in zip(batch, results, strict=True):
                reply(result, None)
