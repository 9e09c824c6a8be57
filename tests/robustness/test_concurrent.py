"""Issue 11: two processes writing one store at once, through the CLI (each in its own process).

A second writer is refused with one line and exit status 2, naming no value, and nothing it
would have added is stored; whatever the order, every file ends up stored whole, once.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from thbmonitor.store import open_store

from .cli import cli, finish, one_clean_line
from .conftest import FILES
from .test_kill import stored


def start(*args: str) -> subprocess.Popen[bytes]:
    return cli(*args, stderr=subprocess.PIPE)


def ended(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.decode(errors="replace")


def test_an_ingest_into_a_store_another_process_holds_is_refused_in_one_line(tiny_world, tmp_path):
    store = tmp_path / "round.duckdb"
    with open_store(store, create=True):  # this process holds the store, as a writer would
        code, err = ended(start("ingest", str(tiny_world / FILES[0]), "--store", str(store)))
    assert code == 2
    line = one_clean_line(err)
    assert "another process" in line and str(store) in line
    assert stored(store) == {}


def test_two_ingests_at_once_store_every_file_whole_and_once(tiny_world, tmp_path):
    """The police register (the larger file) starts first; the registrations start as soon as
    the store exists. Either waits for nothing: the one that finds the store held is refused,
    and running it again adds its file."""
    store = tmp_path / "round.duckdb"
    files = {name: str(tiny_world / name) for name in FILES[:2]}
    first = start("ingest", files[FILES[1]], "--store", str(store))
    deadline = time.monotonic() + 120
    while not store.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    second = start("ingest", files[FILES[0]], "--store", str(store))
    results = {FILES[1]: ended(first), FILES[0]: ended(second)}
    for code, err in results.values():
        assert code in (0, 2), err[-2000:]
        if code == 2:
            assert "another process" in one_clean_line(err)
    assert any(code == 0 for code, _ in results.values())
    done = stored(store)  # every stored file is whole (checked inside)
    assert set(done) == {n for n, (code, _) in results.items() if code == 0}
    for name, (code, _) in results.items():
        if code == 2:  # the refused one, again, now alone
            finish("ingest", files[name], "--store", str(store), timeout=300)
    assert set(stored(store)) == set(files)


def test_a_rerun_of_both_at_once_adds_nothing(tiny_world, tmp_path):
    """Two processes ingesting files the store already holds: nothing is added twice."""
    store = tmp_path / "round.duckdb"
    files = [str(tiny_world / name) for name in FILES[:2]]
    assert ended(start("ingest", *files, "--store", str(store)))[0] == 0
    before = stored(store)
    procs = [start("ingest", *files, "--store", str(store)) for _ in range(2)]
    for code, err in map(ended, procs):
        assert code in (0, 2), err[-2000:]
    assert stored(store) == before
    assert Path(store).exists()
