"""Issue 11, replayed through the CLI: two keys, weak keys, a key file others can read, ``--store``
on a file that is not a store, a missing store, stale linkage, bad rows (future dates, a NUL,
impossible ages), files of another shape, and a release with an unwritable ``--out``. Each
ends with exit status 2 and leaves the store as it was.

(Items 4, 6, 9 and 10 are replayed in test_cli_errors.py, test_output_folder.py, test_kill.py,
test_export_persons.py and test_export_delivery.py; item 1 in test_store_privacy.py.)
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.store import open_store

from .cli import one_clean_line, run
from .conftest import KEY


def ingest(capsys, store: Path, *files: Path):  # type: ignore[no-untyped-def]
    return run(capsys, "ingest", *map(str, files), "--store", str(store))


@pytest.fixture
def small_csv(tiny_world: Path, tmp_path: Path) -> Path:
    """The first 40 registrations of the tiny world."""
    lines = (tiny_world / "registrations.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "small.csv"
    path.write_text("\n".join(lines[:41]) + "\n", encoding="utf-8")
    return path


def test_a_second_key_is_refused(small_csv, tmp_path, capsys, monkeypatch):
    store = tmp_path / "round.duckdb"
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    assert ingest(capsys, store, small_csv).code == 0
    other = tmp_path / "other.csv"
    other.write_text(
        small_csv.read_text(encoding="utf-8").replace("R0", "S0"), encoding="utf-8"
    )  # new registration ids, the same people
    monkeypatch.setenv("THBMONITOR_KEY", "another-key-0123456789abcdef-0123456789")
    before = store.read_bytes()
    ran = ingest(capsys, store, other)
    assert ran.code == 2
    assert "another pseudonymisation key" in one_clean_line(ran.err)
    assert store.read_bytes() == before


@pytest.mark.parametrize(
    ("key", "says"),
    [("short-key", "shorter than 32 bytes"), ("a" * 64, "fewer than 8 different")],
)
def test_weak_keys_are_refused(small_csv, tmp_path, capsys, monkeypatch, key, says):
    monkeypatch.setenv("THBMONITOR_KEY", key)
    store = tmp_path / "round.duckdb"
    ran = ingest(capsys, store, small_csv)
    assert ran.code == 2
    assert says in one_clean_line(ran.err)
    assert not store.exists()


def test_a_key_file_others_can_read_is_refused_by_its_resolved_path(
    small_csv, tmp_path, capsys, monkeypatch
):
    key_file = tmp_path / "keys" / "round.key"
    key_file.parent.mkdir()
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o644)
    config = tmp_path / "settings.toml"
    config.write_text('key_file = "keys/../keys/round.key"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("THBMONITOR_KEY", raising=False)
    ran = run(capsys, "ingest", str(small_csv), "--store", "round.duckdb", "--config", str(config))
    assert ran.code == 2
    line = one_clean_line(ran.err)
    assert str(key_file.resolve()) in line and "chmod 600" in line
    assert not (tmp_path / "round.duckdb").exists()


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_store_on_a_csv_or_parquet_file_is_refused_and_the_file_is_unchanged(
    small_csv, tiny_world, tmp_path, capsys, monkeypatch, kind
):
    """Before, DuckDB opened such a file as an in-memory database: "200 rows added", exit 0,
    and nothing saved."""
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    target = tmp_path / f"not_a_store.{kind}"
    shutil.copy(small_csv if kind == "csv" else tiny_world / "police_register.parquet", target)
    before = target.read_bytes()
    ran = ingest(capsys, target, small_csv)
    assert ran.code == 2
    assert "not a thbmonitor store" in one_clean_line(ran.err)
    assert target.read_bytes() == before


@pytest.mark.parametrize("command", ["link", "report"])
def test_link_and_report_on_a_missing_store_create_nothing(tmp_path, capsys, command):
    store = tmp_path / "missing.duckdb"
    out = ["--out", str(tmp_path / "out")] if command == "report" else []
    ran = run(capsys, command, "--store", str(store), *out)
    assert ran.code == 2
    assert "no monitoring store" in one_clean_line(ran.err)
    assert not store.exists()


def test_report_refuses_stale_linkage_naming_the_command(
    linked, small_csv, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    store = tmp_path / "round.duckdb"
    shutil.copy(linked, store)
    new = tmp_path / "new.csv"
    new.write_text(small_csv.read_text(encoding="utf-8").replace("R0", "N0"), encoding="utf-8")
    assert ingest(capsys, store, new).code == 0
    ran = run(capsys, "report", "--store", str(store), "--out", str(tmp_path / "out"))
    assert ran.code == 2
    line = one_clean_line(ran.err)
    assert "stale" in line and f"thbmonitor link --store {store}" in line
    assert not (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize(
    ("field", "value", "secret"),
    [
        ("registration_date", "2099-12-15", "2099"),  # item 3: it moved the window to 2095-2099
        ("first_names", "Ams\0garbage", "garbage"),  # item 8: a NUL cut the value short
        ("date_of_birth", "1850-03-01", "1850"),
        ("age_at_exploitation", "99", "99"),  # item 3: above the age at registration
    ],
)
def test_a_bad_row_is_refused_by_row_and_field_never_by_value(
    small_csv, tmp_path, capsys, monkeypatch, field, value, secret
):
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    with open(small_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[2][field] = value
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    store = tmp_path / "round.duckdb"
    ran = ingest(capsys, store, bad)
    assert ran.code == 2
    assert "Traceback" not in ran.err
    assert f"row 3, field '{field}'" in ran.err
    assert secret not in ran.err
    with open_store(store, read_only=True) as db:  # made, but nothing imported
        assert db.scalar("SELECT count(*) FROM registrations") == 0
        assert db.scalar("SELECT count(*) FROM ingested_files") == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("registration_id;sex\nR1;F\n", "separated by semicolons instead of commas"),
        ("registration_id,sex,municipality\nR1,F,Secretstad,extra\n", "row 1 has 4 fields"),
        ('registration_id,sex,municipality\nR1,F,"Secretstad\nR2,M,x\n', "never closed"),
    ],
)
def test_a_file_of_another_shape_is_refused_saying_what_and_where(
    tmp_path, capsys, monkeypatch, text, says
):
    """Item 10: ';'- or tab-separated files, ragged rows and unterminated quotes got messages
    that said neither what was wrong nor where."""
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    bad = tmp_path / "registrations.csv"
    bad.write_text(text, encoding="utf-8")
    store = tmp_path / "round.duckdb"
    ran = ingest(capsys, store, bad)
    assert ran.code == 2
    assert "Traceback" not in ran.err
    assert says in ran.err and "Secretstad" not in ran.err
    if store.exists():
        with open_store(store, read_only=True) as db:
            assert db.scalar("SELECT count(*) FROM ingested_files") == 0


def test_a_release_is_not_recorded_when_the_out_cannot_be_written(linked, tmp_path, capsys):
    """Item 6: with --release R2024 and an unwritable output folder the run failed after
    adding R2024 to the ledger, and the rerun was refused as "already in the ledger"."""
    ledger = tmp_path / "ledger.json"
    config = tmp_path / "settings.toml"
    config.write_text(f'disclosure_ledger = "{ledger}"\n', encoding="utf-8")
    a_file = tmp_path / "a_file"
    a_file.write_text("", encoding="utf-8")
    common = ("report", "--store", str(linked), "--release", "R2024", "--config", str(config))
    ran = run(capsys, *common, "--out", str(a_file / "out"))
    assert ran.code == 2
    assert "cannot write into the output folder" in one_clean_line(ran.err)
    assert not ledger.exists()


def test_a_police_event_after_the_day_of_ingest_is_refused_by_row_and_field(
    tiny_world, tmp_path, capsys, monkeypatch
):
    """Item 3, for the registers: event dates after the day of ingest are refused too."""
    monkeypatch.setenv("THBMONITOR_KEY", KEY)
    events = pd.read_parquet(tiny_world / "police_register.parquet").head(50)
    events.loc[4, "event_date"] = date(2099, 12, 15)
    bad = tmp_path / "police_register.parquet"
    events.to_parquet(bad, index=False)
    store = tmp_path / "round.duckdb"
    ran = ingest(capsys, store, bad)
    assert ran.code == 2
    assert "Traceback" not in ran.err and "2099" not in ran.err
    assert "row 5, field 'event_date'" in ran.err
    with open_store(store, read_only=True) as db:
        assert db.scalar("SELECT count(*) FROM police_events") == 0
