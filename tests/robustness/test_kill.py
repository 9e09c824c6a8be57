"""Issue 11: kill -9 at several points of ``ingest``, ``link`` and ``report`` (the CLI, in its own
process) never leaves the store or the output folder half-written, and a rerun finishes.

Points are reached by time (ingest, link) or by what the process leaves on disk (report: its
staging folder, its marker saying ``writing``); whatever point a kill hits, the same checks hold.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from thbmonitor.errors import StoreError
from thbmonitor.output_folder import MARKER, read_marker
from thbmonitor.store import check_linkage, open_store

from .cli import cli, finish
from .conftest import FILES


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], limit: float) -> bool:
    """kill -9 ``proc`` once ``ready()`` holds (polled); False if it ended first."""
    end = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < end:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    proc.wait()
    return False


def after(seconds: float) -> Callable[[], bool]:
    start = time.monotonic()
    return lambda: time.monotonic() - start >= seconds


def stored(path: Path) -> dict[str, int]:
    """Rows per ingested file, checked against the rows stored from it (all or nothing)."""
    if not path.exists():
        return {}
    with open_store(path, read_only=True) as store:
        files = dict(store.rows("SELECT file_name, n_rows FROM ingested_files"))
        for table in ("registrations", "police_events", "population_events"):
            for sha, n in store.rows(
                f"SELECT f.sha256, count(t.source_sha256) FROM ingested_files f "
                f"LEFT JOIN {table} t ON t.source_sha256 = f.sha256 GROUP BY f.sha256, f.kind"
            ):
                assert n in (0, *files.values()), (table, sha, n)
        total = {
            t: store.scalar(f"SELECT count(*) FROM {t}")
            for t in ("registrations", "police_events", "population_events")
        }
    assert sum(total.values()) == sum(files.values())  # no row without its file, no file short
    return {str(k): int(v) for k, v in files.items()}


@pytest.mark.parametrize("delay", [3.0, 4.5, 6.0])
def test_kill_during_ingest_leaves_whole_files_or_none(tiny_world, tmp_path, delay):
    store = tmp_path / "round.duckdb"
    inputs = [str(tiny_world / f) for f in FILES]
    killed = kill_when(cli("ingest", *inputs, "--store", str(store)), after(delay), 60)
    before = stored(store)
    assert set(before) <= set(FILES)
    finish("ingest", *inputs, "--store", str(store))
    assert set(stored(store)) == set(FILES)
    assert killed or before  # a kill that came too late still proves the rerun adds nothing


def test_kill_during_link_is_never_reported_on_and_a_rerun_finishes(ingested, tmp_path):
    store = tmp_path / "round.duckdb"
    shutil.copy(ingested, store)
    killed = kill_when(cli("link", "--store", str(store)), after(5.0), 120)
    if killed:
        with open_store(store, read_only=True) as db, pytest.raises(StoreError):
            check_linkage(db)  # not linked yet, or cut short: a report is refused
    finish("link", "--store", str(store))
    with open_store(store, read_only=True) as db:
        check_linkage(db)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


def staged(out: Path, name: str) -> Callable[[], bool]:
    """True once the report's staging folder beside ``out`` holds ``name``."""
    return lambda: any((p / name).exists() for p in out.parent.glob(f".{out.name}.thbmonitor-*"))


@pytest.fixture(scope="module")
def earlier_report(linked, tmp_path_factory) -> Path:
    """The tiny world's report in Dutch, written by the CLI once for both kill points (each
    test copies it: a report here takes about 40 s)."""
    out = tmp_path_factory.mktemp("earlier") / "publication"
    finish("report", "--store", str(linked), "--out", str(out), "--lang", "nl")
    return out


@pytest.mark.parametrize("point", ["tables", "report.html"])
def test_kill_during_report_leaves_the_earlier_report_or_the_new_one_whole(
    linked, earlier_report, tmp_path, point
):
    """kill -9 while the report writes its files (``tables``) or just before it publishes them
    (``report.html``, the last file staged): the folder holds the earlier report or the new
    one, never a mix; the next run removes what the killed one left."""
    out = tmp_path / "publication"
    shutil.copytree(earlier_report, out)
    (out / "tables" / "my_notes.txt").write_text("mine", encoding="utf-8")
    before = files_of(out)
    killed = kill_when(
        cli("report", "--store", str(linked), "--out", str(out), "--lang", "en"),
        staged(out, point),
        600,
    )
    marker = read_marker(out)
    assert marker is not None and marker["state"] == "complete"
    after = files_of(out)
    if after != before:  # the new report, whole
        assert '<html lang="en"' in after["report.html"].decode()
        assert set(after) == set(before)  # the same tables, the user's file kept
        assert after["tables/my_notes.txt"] == b"mine"
    assert killed or after != before
    finish("report", "--store", str(linked), "--out", str(out), "--lang", "en")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["publication"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MARKER]
