"""The batcher and the intake process: concurrent submissions are validated together, each
caller gets its own result (or the batch's error), and a gone intake process is reported."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence

import pytest

from thbmonitor.pseudonymise import Encoder
from thbmonitor.registry.batch import Batcher
from thbmonitor.registry.intake import Prepared, Submission, prepare
from thbmonitor.registry.intake_process import IntakeClient, IntakeUnavailable, start

VALID = {
    "registration_date": "2020-01-02",
    "sex": "F",
    "nationality": "NL",
    "residence_status": "Unknown",
    "forms_of_exploitation": "Other",
    "last_name": "Ruiz",
}


def test_concurrent_items_share_a_batch_and_get_their_own_results() -> None:
    seen: list[int] = []

    def work(items: Sequence[int]) -> list[int]:
        seen.append(len(items))
        return [i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(work, window=0.2)
    results: dict[int, int] = {}
    threads = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, batcher(i))) for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: i * 10 for i in range(20)}
    assert sum(seen) == 20 and max(seen) > 1  # batched, not one call per item


def test_a_failing_batch_fails_every_caller() -> None:
    def work(items: Sequence[int]) -> list[int]:
        raise ValueError("broken")

    batcher: Batcher[int, int] = Batcher(work, window=0.0)
    with pytest.raises(ValueError):
        batcher(1, timeout=10)


def _prepare(subs: Sequence[Submission]) -> list[Prepared]:
    return prepare(subs, Encoder(b"intake-test-key-0123456789abcdef"))


def test_intake_process_validates_and_ends_with_a_clear_error() -> None:
    address = start(_prepare, 0.01)
    client = IntakeClient(address, timeout=60)
    good = client(Submission(VALID, "Police"))
    assert good.row is not None and good.row["tok_last"]
    bad = client(Submission({**VALID, "sex": "X"}, "Police"))
    assert bad.row is None and [p.field for p in bad.problems] == ["sex"]
    os.kill(address.pid, signal.SIGKILL)
    os.waitpid(address.pid, 0)
    time.sleep(0.2)
    with pytest.raises(IntakeUnavailable):
        client(Submission(VALID, "Police"))
