"""The store's identity, key and state (issue 11 items 2, 5 and 7, at the library's level)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from thbmonitor.errors import StoreError
from thbmonitor.ingest import ingest_file
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import SCHEMA_VERSION, begin_linkage, check_linkage, end_linkage, open_store

from .test_ingest import COLUMNS, GOOD

KEY_A = b"store-key-a-0123456789abcdef0123456789"
KEY_B = b"store-key-b-0123456789abcdef0123456789"


def _csv(path: Path, rows: list[list[str]]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def test_a_second_key_is_refused_and_nothing_is_imported(tmp_path: Path) -> None:
    """Item 2: round 1 with key A, round 2 with key B into the same store was accepted and
    the same people became new persons."""
    first = _csv(tmp_path / "round1.csv", GOOD[:2])
    second = _csv(tmp_path / "round2.csv", GOOD[2:])
    with open_store(tmp_path / "m.duckdb", create=True) as store:
        ingest_file(store, first, Encoder(KEY_A))
        with pytest.raises(StoreError, match="another pseudonymisation key") as info:
            ingest_file(store, second, Encoder(KEY_B))
        assert "Use the key the store was made with, or ingest into a new store" in str(info.value)
        assert store.scalar("SELECT count(*) FROM registrations") == 2
        assert store.scalar("SELECT count(*) FROM ingested_files") == 1
        ingest_file(store, second, Encoder(KEY_A))  # the same key is welcome
        assert store.scalar("SELECT count(*) FROM registrations") == 3
        fingerprint = store.scalar("SELECT value FROM store_meta WHERE key = 'key_fingerprint'")
    assert fingerprint == Encoder(KEY_A).fingerprint
    assert KEY_A.decode() not in fingerprint


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".txt"])
def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path, suffix: str) -> None:
    """Item 5: DuckDB opened a CSV or Parquet file as an in-memory database and ingest
    reported "200 rows added" while saving nothing."""
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    else:
        path.write_text("a,b\n1,2\n")
    before = path.read_bytes()
    for create in (True, False):
        with pytest.raises(StoreError, match="is not a thbmonitor store"):
            open_store(path, create=create)
    assert path.read_bytes() == before


def test_another_duckdb_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="DuckDB database but not a thbmonitor store"):
        open_store(path, create=True)


def test_a_store_of_format_1_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO store_meta VALUES ('schema_version', '1')")
    con.close()
    with pytest.raises(StoreError, match="ingest the files again into a new store"):
        open_store(path, read_only=True)


def test_a_missing_store_is_not_created_unless_asked(tmp_path: Path) -> None:
    """Item 5: link and report on a missing store created an empty one."""
    path = tmp_path / "missing.duckdb"
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"no monitoring store at .*thbmonitor ingest"):
            open_store(path, read_only=read_only)
    assert not path.exists()
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path, create=True)
    with open_store(path, create=True) as store:
        assert store.scalar("SELECT value FROM store_meta WHERE key = 'application'") == (
            "thbmonitor"
        )
    assert [p.name for p in tmp_path.iterdir()] == ["missing.duckdb"]  # no temporary left


def test_linkage_state_follows_ingest_and_link(tmp_path: Path) -> None:
    """Item 7: a report must refuse linkage that is missing, cut short or stale."""
    with open_store(tmp_path / "m.duckdb", create=True) as store:
        ingest_file(store, _csv(tmp_path / "a.csv", GOOD[:2]), Encoder(KEY_A))
        with pytest.raises(StoreError, match="not linked yet; run: thbmonitor link --store"):
            check_linkage(store)
        begin_linkage(store)
        with pytest.raises(StoreError, match="did not finish"):
            check_linkage(store)
        end_linkage(store, police=False)
        with pytest.raises(StoreError, match="--skip-police"):
            check_linkage(store)
        begin_linkage(store)
        end_linkage(store, police=True)
        check_linkage(store)
        ingest_file(store, _csv(tmp_path / "b.csv", GOOD[2:]), Encoder(KEY_A))
        with pytest.raises(StoreError, match="after its last linkage"):
            check_linkage(store)


def _format_2_store(path: Path) -> None:
    """A store as format 2 made it: the scheme for victims named after the Dutch B8."""
    open_store(path, create=True).close()
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE registrations RENAME COLUMN victim_scheme_applied TO b8_applied")
    con.execute("ALTER TABLE registrations RENAME COLUMN victim_scheme_granted TO b8_granted")
    con.execute(
        "INSERT INTO registrations (registration_id, b8_applied, b8_granted) "
        "VALUES ('r1', true, NULL), ('r2', false, false)"
    )
    con.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_a_format_2_store_is_brought_to_the_current_format(tmp_path: Path, read_only: bool) -> None:
    """A store of format 2 (columns b8_applied, b8_granted) opens, read-only too: its columns
    get the neutral names and its rows are kept."""
    path = tmp_path / "old.duckdb"
    _format_2_store(path)
    with open_store(path, read_only=read_only) as store:
        rows = store.rows(
            "SELECT registration_id, victim_scheme_applied, victim_scheme_granted "
            "FROM registrations ORDER BY registration_id"
        )
        version = store.scalar("SELECT value FROM store_meta WHERE key = 'schema_version'")
    assert [tuple(r) for r in rows] == [("r1", True, None), ("r2", False, False)]
    assert version == SCHEMA_VERSION
    with open_store(path) as store:  # a second opening finds nothing to do
        assert store.scalar("SELECT count(*) FROM registrations") == 2
