"""Micro-batching: concurrent callers' items handled together by one worker thread.

Validation and pseudonymisation (:mod:`thbmonitor.ingest`) are vectorised over a frame and
cost tens of milliseconds per call whatever its length; one call per batch of concurrent
submissions keeps the service's cost per submission small. Each caller blocks until its own
result (or the batch's exception) is ready.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Call ``work`` on batches of items submitted from many threads.

    ``linger``: seconds the worker waits for more items after the first one arrives;
    ``max_items``: the largest batch. The worker thread starts on first use in each process
    (a forked server worker starts its own)."""

    def __init__(
        self,
        work: Callable[[Sequence[T]], Sequence[R]],
        *,
        linger: float = 0.002,
        max_items: int = 500,
    ) -> None:
        self.work = work
        self.linger = linger
        self.max_items = max_items
        self._queue: queue.Queue[tuple[T, Future[R]]] = queue.Queue()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def __call__(self, item: T, timeout: float | None = 60.0) -> R:
        self._ensure_worker()
        future: Future[R] = Future()
        self._queue.put((item, future))
        return future.result(timeout)

    def _ensure_worker(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue()
                threading.Thread(target=self._run, name="intake-batcher", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        q = self._queue
        while True:
            batch = [q.get()]
            try:
                if self.linger:
                    batch.append(q.get(timeout=self.linger))
            except queue.Empty:
                pass
            while len(batch) < self.max_items:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            futures = [f for _, f in batch]
            try:
                results = self.work([item for item, _ in batch])
            except BaseException as exc:  # every caller gets the batch's error
                for f in futures:
                    f.set_exception(exc)
                continue
            for f, r in zip(futures, results, strict=True):
                f.set_result(r)
