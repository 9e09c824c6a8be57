"""Issue 11 item 10: ingest pseudonymises and stores a file in chunks (a 1,000,000-row file
peaked at 4.2 GB at once); the store holds the same rows, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from thbmonitor import ingest
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store

KEY = b"robustness-chunks-key-0123456789abcdef"


def contents(path: Path) -> list[tuple[object, ...]]:
    with open_store(path, read_only=True) as store:
        return store.rows(
            "SELECT * EXCLUDE (ingested_at) FROM registrations r "
            "JOIN ingested_files f ON f.sha256 = r.source_sha256 ORDER BY registration_id"
        )


def test_chunks_store_what_one_piece_stores(tiny_world, tmp_path, monkeypatch):
    regs = tiny_world / "registrations.csv"
    whole = tmp_path / "whole.duckdb"
    with open_store(whole, create=True) as store:
        ingest.ingest_file(store, regs, Encoder(KEY))
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 97)
    chunked = tmp_path / "chunked.duckdb"
    with open_store(chunked, create=True) as store:
        result = ingest.ingest_file(store, regs, Encoder(KEY))
    assert result.rows_added > 5 * 97
    assert contents(chunked) == contents(whole)


def test_a_failure_in_a_later_chunk_leaves_nothing(tiny_world, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 97)
    calls = []
    real = ingest.prepare_rows

    def fail_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("as if the machine ran out in the third chunk")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "prepare_rows", fail_third)
    path = tmp_path / "round.duckdb"
    with open_store(path, create=True) as store:
        with pytest.raises(MemoryError):
            ingest.ingest_file(store, tiny_world / "registrations.csv", Encoder(KEY))
        assert store.scalar("SELECT count(*) FROM registrations") == 0
        assert store.scalar("SELECT count(*) FROM ingested_files") == 0
